"""SEPA direct debit: IBAN checks, RUM, pain.008.001.02 against the shipped XSD, dates."""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st
from schwifty import IBAN

from modules.billing.sepa import (
    PAIN_008_NAMESPACE,
    PAIN_008_XSD,
    Creditor,
    DirectDebit,
    SepaError,
    SepaFileError,
    SequenceType,
    add_months,
    build_pain008,
    check_prenotification,
    earliest_collection_date,
    make_rum,
    mandate_lapsed,
    prenotification_deadline,
    sequence_type,
    validate_creditor_id,
    validate_iban,
    validate_pain008,
)

GOOD_FR = "FR7630006000011234567890189"
# Valid IBAN check digits around a BBAN whose RIB key is wrong (…90188 instead of …90189).
BAD_RIB_KEY = "FR0630006000011234567890188"
ICS = "FR72ZZZ123456"
NS = {"p": PAIN_008_NAMESPACE}


# --- IBAN --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw,normalised",
    [
        (GOOD_FR, GOOD_FR),
        ("fr76 3000 6000 0112 3456 7890 189", GOOD_FR),
        ("FR76-3000-6000-0112-3456-7890-189", GOOD_FR),
        ("DE89 3704 0044 0532 0130 00", "DE89370400440532013000"),  # any SEPA country
        ("BE68 5390 0754 7034", "BE68539007547034"),
    ],
)
def test_valid_ibans(raw, normalised):
    assert str(validate_iban(raw)) == normalised


def test_the_bad_rib_key_sample_only_fails_on_the_rib_key():
    IBAN(BAD_RIB_KEY)  # IBAN check digits fine: only validate_bban=True finds it


@pytest.mark.parametrize(
    "raw,message",
    [
        (
            "FR7630006000011234567890188",
            "Cet IBAN est incorrect : sa clé de contrôle (les 2 chiffres après le code pays) ne "
            "correspond pas au reste du numéro. Vérifiez-le sur votre RIB.",
        ),
        (
            BAD_RIB_KEY,
            "Cet IBAN est incorrect : la clé RIB (les 2 derniers chiffres) ne "
            "correspond pas au numéro "
            "de compte. Vérifiez-le sur votre RIB.",
        ),
        (
            "FR76300060000112345678901",
            "Un IBAN français compte 27 caractères ; celui saisi en compte 25.",
        ),
        (
            "DE8937040044053201300",
            "Un IBAN allemand compte 22 caractères ; celui saisi en compte 21.",
        ),
        (
            "FR763000600001123456789018A",
            "Cet IBAN n'a pas le format d'un IBAN français : FR, 2 chiffres, puis 23 chiffres "
            "ou lettres.",
        ),
        (
            "XX7630006000011234567890189",
            "« XX » n'est pas un code pays d'IBAN : un IBAN commence par le code du pays "
            "(FR pour la France).",
        ),
        (
            "FR76 3000 6000 0112 3456 7890 18é",
            "Un IBAN ne contient que des lettres et des chiffres.",
        ),
        (
            "BR1800360305000010009795493C1",
            "Ce compte n'est pas dans la zone SEPA : le prélèvement n'est pas possible.",
        ),
        ("", "Saisissez votre IBAN (il figure sur votre RIB)."),
        ("   ", "Saisissez votre IBAN (il figure sur votre RIB)."),
    ],
)
def test_invalid_ibans_are_refused_in_french(raw, message):
    with pytest.raises(SepaError) as exc:
        validate_iban(raw)
    assert str(exc.value) == message


@given(st.text(max_size=40))
def test_any_input_gives_an_iban_or_a_french_message(text):
    try:
        validate_iban(text)
    except SepaError as exc:
        assert str(exc)


# --- creditor identifier and RUM ---------------------------------------------------------


@pytest.mark.parametrize("ics", ["FR72ZZZ123456", "fr72 zzz 123456", "DE98ZZZ09999999999"])
def test_valid_creditor_ids(ics):
    assert validate_creditor_id(ics) == ics.replace(" ", "").upper()


@pytest.mark.parametrize(
    "ics,message",
    [
        ("FR73ZZZ123456", "clé de contrôle incorrecte"),
        ("FR72ZZZ1234567", "13 caractères"),
        ("123", "mal formé"),
    ],
)
def test_invalid_creditor_ids(ics, message):
    with pytest.raises(SepaError, match=message):
        validate_creditor_id(ics)


def test_rum_generation():
    rum = make_rum(town_code="castres", mandate_number=42, signed_on=date(2026, 11, 21))
    assert rum == "CASTRES-2026-00000042"
    long = make_rum(
        town_code="saint-germain-en-laye", mandate_number=99_999_999, signed_on=date(2026, 1, 1)
    )
    assert long == "SAINTGERMAIN-2026-99999999" and len(long) <= 35
    with pytest.raises(SepaError):
        make_rum(town_code="castres", mandate_number=0, signed_on=date(2026, 1, 1))


@given(st.text(min_size=1, max_size=60), st.integers(1, 10**8 - 1), st.dates())
def test_rums_are_short_sepa_safe_and_unique_per_number(town, number, day):
    rum = make_rum(town_code=town, mandate_number=number, signed_on=day)
    assert len(rum) <= 35 and rum.isascii()
    other = make_rum(town_code=town, mandate_number=number + 1, signed_on=day)
    assert other != rum
    assert GOOD_FR not in rum and GOOD_FR[4:] not in rum


@pytest.mark.parametrize(
    "rum,iban,message",
    [
        (GOOD_FR, GOOD_FR, "ne doit pas contenir l'IBAN"),
        ("RUM-" + GOOD_FR[4:], GOOD_FR, "ne doit pas contenir l'IBAN"),
        ("X" * 36, None, "de 1 à 35 caractères"),
        ("", None, "de 1 à 35 caractères"),
        ("/CASTRES-1", None, "caractères non permis"),
        ("CASTRES//1", None, "caractères non permis"),
        ("CASTRÈS-1", None, "caractères non permis"),
    ],
)
def test_invalid_rums(rum, iban, message):
    from modules.billing.sepa import validate_rum

    with pytest.raises(SepaError, match=message):
        validate_rum(rum, iban=iban)


# --- dates: sequence type, 36-month lapse, 14-day pre-notification ---------------------


def test_sequence_type_first_then_recurrent_then_lapsed():
    signed = date(2023, 9, 1)
    assert (
        sequence_type(signed_on=signed, last_collection_on=None, collection_date=date(2023, 10, 10))
        is SequenceType.FIRST
    )
    assert (
        sequence_type(
            signed_on=signed,
            last_collection_on=date(2023, 10, 10),
            collection_date=date(2026, 10, 10),
        )
        is SequenceType.RECURRENT
    )
    with pytest.raises(SepaError, match="caduc"):
        sequence_type(
            signed_on=signed,
            last_collection_on=date(2023, 10, 10),
            collection_date=date(2026, 10, 11),
        )
    with pytest.raises(SepaError, match="caduc"):  # never used for 36 months
        sequence_type(signed_on=signed, last_collection_on=None, collection_date=date(2026, 9, 2))


@pytest.mark.parametrize(
    "day,months,expected",
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 2, 29), 36, date(2027, 2, 28)),
        (date(2026, 11, 21), 36, date(2029, 11, 21)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
    ],
)
def test_add_months(day, months, expected):
    assert add_months(day, months) == expected


def test_mandate_lapse_boundary():
    assert not mandate_lapsed(
        signed_on=date(2020, 1, 1), last_collection_on=date(2023, 5, 10), on=date(2026, 5, 10)
    )
    assert mandate_lapsed(
        signed_on=date(2020, 1, 1), last_collection_on=date(2023, 5, 10), on=date(2026, 5, 11)
    )


@pytest.mark.parametrize(
    "notified,collection,ok",
    [
        (date(2026, 11, 26), date(2026, 12, 10), True),  # exactly 14 days
        (date(2026, 11, 1), date(2026, 12, 10), True),
        (date(2026, 11, 27), date(2026, 12, 10), False),  # 13 days
        (date(2026, 12, 10), date(2026, 12, 10), False),
    ],
)
def test_prenotification_at_least_14_days(notified, collection, ok):
    if ok:
        check_prenotification(notified_on=notified, collection_date=collection)
    else:
        with pytest.raises(SepaError) as exc:
            check_prenotification(notified_on=notified, collection_date=collection)
        assert str(exc.value).startswith(
            "Le prélèvement du 10/12/2026 devait être annoncé au plus tard le 26/11/2026 "
            f"(14 jours avant) ; il l'a été le {notified:%d/%m/%Y}."
        )


def test_prenotification_period_agreed_otherwise():
    check_prenotification(notified_on=date(2026, 12, 5), collection_date=date(2026, 12, 10), days=5)
    assert prenotification_deadline(date(2026, 12, 10)) == date(2026, 11, 26)
    assert earliest_collection_date(date(2026, 11, 27)) == date(2026, 12, 11)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)), st.integers(1, 60))
def test_earliest_collection_date_always_passes_the_check(notified, days):
    check_prenotification(
        notified_on=notified,
        collection_date=earliest_collection_date(notified, days=days),
        days=days,
    )


# --- pain.008.001.02 ---------------------------------------------------------------------

CASTRES = Creditor(
    name="Ville de Castres – Régie Enfance", iban=GOOD_FR, bic="AGRIFRPPXXX", creditor_id=ICS
)


def debits():
    return [
        DirectDebit(
            debtor_name="Claire Martin",
            iban="FR76 3000 6000 0112 3456 7890 189",
            amount=D("34.56"),
            rum="CASTRES-2026-00000042",
            mandate_signed_on=date(2026, 11, 2),
            sequence=SequenceType.FIRST,
            end_to_end_id="F2026110042",
            remittance="Facture F2026110042 — novembre 2026 (Léa, Hugo)",
        ),
        DirectDebit(
            debtor_name="Paul Durand",
            iban="DE89370400440532013000",
            amount=D("120.00"),
            rum="CASTRES-2025-00000007",
            mandate_signed_on=date(2025, 9, 1),
            sequence=SequenceType.RECURRENT,
            end_to_end_id="F2026110043",
            remittance="Facture F2026110043",
            bic="COBADEFFXXX",
        ),
        DirectDebit(
            debtor_name="Ana Lopes",
            iban="BE68539007547034",
            amount=D("5.10"),
            rum="CASTRES-2025-00000008",
            mandate_signed_on=date(2025, 9, 3),
            sequence=SequenceType.RECURRENT,
            end_to_end_id="F2026110044",
            remittance="Facture F2026110044",
        ),
    ]


def test_generated_file_validates_against_the_shipped_xsd():
    file = build_pain008(creditor=CASTRES, debits=debits(), collection_date=date(2026, 12, 10))
    validate_pain008(file.xml)  # again, explicitly
    assert (file.count, file.total) == (3, D("159.66"))
    root = ET.fromstring(file.xml)
    header = root.find("p:CstmrDrctDbtInitn/p:GrpHdr", NS)
    assert header.findtext("p:NbOfTxs", namespaces=NS) == "3"
    assert header.findtext("p:CtrlSum", namespaces=NS) == "159.66"
    assert header.findtext("p:MsgId", namespaces=NS) == file.message_id
    blocks = root.findall("p:CstmrDrctDbtInitn/p:PmtInf", NS)
    # FRST and RCUR in separate payment blocks, same collection date.
    sequences = sorted(b.findtext("p:PmtTpInf/p:SeqTp", namespaces=NS) for b in blocks)
    assert sequences == ["FRST", "RCUR"]
    assert {b.findtext("p:ReqdColltnDt", namespaces=NS) for b in blocks} == {"2026-12-10"}
    assert {
        b.findtext("p:CdtrSchmeId/p:Id/p:PrvtId/p:Othr/p:Id", namespaces=NS) for b in blocks
    } == {ICS}
    tx = {
        t.findtext("p:PmtId/p:EndToEndId", namespaces=NS): t
        for t in root.iter(f"{{{PAIN_008_NAMESPACE}}}DrctDbtTxInf")
    }
    martin = tx["F2026110042"]
    assert martin.find("p:InstdAmt", NS).attrib == {"Ccy": "EUR"}
    assert martin.findtext("p:InstdAmt", namespaces=NS) == "34.56"
    mandate = martin.findtext("p:DrctDbtTx/p:MndtRltdInf/p:MndtId", namespaces=NS)
    assert mandate == "CASTRES-2026-00000042"
    assert martin.findtext("p:DbtrAcct/p:Id/p:IBAN", namespaces=NS) == GOOD_FR
    # Accents are transliterated to the SEPA character set.
    assert martin.findtext("p:RmtInf/p:Ustrd", namespaces=NS).endswith("(Lea, Hugo)")
    assert martin.findtext("p:DbtrAgt/p:FinInstnId/p:Othr/p:Id", namespaces=NS) == "NOTPROVIDED"
    durand_bank = tx["F2026110043"].findtext("p:DbtrAgt/p:FinInstnId/p:BIC", namespaces=NS)
    assert durand_bank == "COBADEFFXXX"


@pytest.mark.parametrize(
    "change,fragment",
    [
        (lambda x: x.replace(b"<SeqTp>FRST</SeqTp>", b"<SeqTp>XXXX</SeqTp>"), "SeqTp"),
        (lambda x: x.replace(b'Ccy="EUR">34.56<', b'Ccy="EURO">34.56<'), "Ccy"),
        (lambda x: x.replace(b'Ccy="EUR">34.56<', b'Ccy="EUR">-34.56<'), "InstdAmt"),
        (lambda x: x.replace(b"<EndToEndId>F2026110042</EndToEndId>", b""), "PmtId"),
        (
            lambda x: x.replace(
                b"<ReqdColltnDt>2026-12-10</ReqdColltnDt>",
                b"<ReqdColltnDt>10/12/2026</ReqdColltnDt>",
            ),
            "ReqdColltnDt",
        ),
    ],
)
def test_a_non_conforming_file_is_caught_by_the_xsd(change, fragment):
    file = build_pain008(creditor=CASTRES, debits=debits(), collection_date=date(2026, 12, 10))
    with pytest.raises(SepaFileError) as exc:
        validate_pain008(change(file.xml))
    assert fragment in str(exc.value)
    assert str(exc.value).startswith(
        "Fichier de prélèvement non conforme au schéma pain.008.001.02"
    )


def test_not_xml_at_all():
    with pytest.raises(SepaFileError):
        validate_pain008(b"<Document><oops>")


@pytest.mark.parametrize(
    "index,changes,message",
    [
        (
            0,
            dict(iban=BAD_RIB_KEY),
            "prélèvement n° 1 (F2026110042) : Cet IBAN est incorrect : la clé RIB",
        ),
        (1, dict(amount=D("0")), "prélèvement n° 2 (F2026110043) : montant invalide"),
        (1, dict(amount=D("1.005")), "montant invalide"),
        (0, dict(rum="RUM" + GOOD_FR), "ne doit pas contenir l'IBAN"),
        (2, dict(end_to_end_id="X" * 36), "1 à 35 caractères"),
    ],
)
def test_bad_debits_are_refused_before_any_file_is_built(index, changes, message):
    from dataclasses import replace

    items = debits()
    items[index] = replace(items[index], **changes)
    with pytest.raises(SepaError, match=re.escape(message)):
        build_pain008(creditor=CASTRES, debits=items, collection_date=date(2026, 12, 10))


def test_bad_creditor_and_empty_batch():
    from dataclasses import replace

    with pytest.raises(SepaError, match="Identifiant créancier"):
        build_pain008(
            creditor=replace(CASTRES, creditor_id="FR00ZZZ123456"),
            debits=debits(),
            collection_date=date(2026, 12, 10),
        )
    with pytest.raises(SepaError, match="Aucun prélèvement"):
        build_pain008(creditor=CASTRES, debits=[], collection_date=date(2026, 12, 10))


def test_the_xsd_is_shipped_in_the_repository():
    text = PAIN_008_XSD.read_bytes()
    assert PAIN_008_XSD.is_relative_to(PAIN_008_XSD.parents[3])  # modules/billing/schemas
    assert f'targetNamespace="{PAIN_008_NAMESPACE}"'.encode() in text
    assert hashlib.sha256(text).hexdigest() == (
        "7ed71e9b36f9b65e131284e5bcc8b4d8d1b0633ddc2fe2d35b0f89e7c6bf8f1f"
    )
