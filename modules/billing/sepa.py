"""SEPA direct debit ("prélèvement automatique"): pure rules and file building.

- IBAN checks with schwifty, French RIB key included, French messages;
- mandate references (RUM) and the creditor identifier (ICS);
- pain.008.001.02 files built with sepaxml, validated against the ISO 20022
  XSD shipped in this repository (schemas/, copied from the sepaxml wheel);
- sequence types (FRST first, then RCUR), the 36-month mandate lapse and the
  14-day pre-notification rule.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import cache
from pathlib import Path

from schwifty import IBAN
from schwifty import exceptions as iban_errors

from .pricing import euros

PAIN_008_XSD = Path(__file__).resolve().parent / "schemas" / "pain.008.001.02.xsd"
PAIN_008_NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"
PRENOTIFICATION_DAYS = 14  # SEPA Core rulebook, unless the mandate's terms agree otherwise
MANDATE_LAPSE_MONTHS = 36  # no collection for 36 months: the mandate is void
RUM_MAX_LENGTH = 35


class SepaError(ValueError):
    """A French message for the family or the staff."""


class SequenceType(StrEnum):
    FIRST = "FRST"
    RECURRENT = "RCUR"
    ONE_OFF = "OOFF"
    FINAL = "FNAL"


# --- IBAN ------------------------------------------------------------------------


def validate_iban(value: str) -> IBAN:
    """A normalised, valid IBAN of the SEPA zone, or SepaError (French).

    Any SEPA-zone IBAN is accepted, not only French ones: refusing a foreign
    account is forbidden ("IBAN discrimination", EU regulation 260/2012 art. 9).
    """
    compact = re.sub(r"[\s.-]+", "", value or "").upper()
    if not compact:
        raise SepaError("Saisissez votre IBAN (il figure sur votre RIB).")
    country = compact[:2]
    try:
        iban = IBAN(compact, validate_bban=True)
    except iban_errors.InvalidCountryCode:
        raise SepaError(
            f"« {country} » n'est pas un code pays d'IBAN : un IBAN commence par le code du pays "
            "(FR pour la France)."
        ) from None
    except iban_errors.InvalidLength:
        expected = IBAN(compact, allow_invalid=True).spec.iban_length
        raise SepaError(
            f"Un IBAN {_country(country)} compte {expected} caractères ; celui saisi en compte "
            f"{len(compact)}."
        ) from None
    except iban_errors.InvalidChecksumDigits:
        raise SepaError(
            "Cet IBAN est incorrect : sa clé de contrôle (les 2 chiffres après le code pays) ne "
            "correspond pas au reste du numéro. Vérifiez-le sur votre RIB."
        ) from None
    except iban_errors.InvalidBBANChecksum:
        raise SepaError(
            "Cet IBAN est incorrect : la clé RIB (les 2 derniers chiffres) ne correspond pas au "
            "numéro de compte. Vérifiez-le sur votre RIB."
        ) from None
    except iban_errors.SchwiftyException:
        if not re.fullmatch(r"[A-Z0-9]+", compact):
            raise SepaError("Un IBAN ne contient que des lettres et des chiffres.") from None
        hint = " : FR, 2 chiffres, puis 23 chiffres ou lettres" if country == "FR" else ""
        raise SepaError(
            f"Cet IBAN n'a pas le format d'un IBAN {_country(country)}{hint}."
        ) from None
    if not iban.in_sepa_zone:
        raise SepaError(
            "Ce compte n'est pas dans la zone SEPA : le prélèvement n'est pas possible."
        )
    return iban


def _country(code: str) -> str:
    return {
        "FR": "français",
        "DE": "allemand",
        "BE": "belge",
        "ES": "espagnol",
        "IT": "italien",
        "LU": "luxembourgeois",
        "MC": "monégasque",
        "CH": "suisse",
    }.get(code, f"« {code} »")


# --- creditor identifier and mandate reference --------------------------------------


def validate_creditor_id(value: str) -> str:
    """The town's SEPA creditor identifier (ICS, "FR12ZZZ123456").

    Structure (EPC262): country, 2 check digits, a 3-character business code
    (not checked), the national identifier; the check digits are ISO 7064
    MOD 97-10 over national identifier + country + check digits.
    """
    ics = re.sub(r"\s+", "", value or "").upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{3}[A-Z0-9]{1,28}", ics):
        raise SepaError(f"Identifiant créancier SEPA « {value} » mal formé.")
    if ics.startswith("FR") and len(ics) != 13:
        raise SepaError("Un identifiant créancier SEPA français compte 13 caractères.")
    if _numerify(ics[7:] + ics[:4]) % 97 != 1:
        raise SepaError(f"Identifiant créancier SEPA « {value} » : clé de contrôle incorrecte.")
    return ics


_RUM_CHARS = re.compile(r"[A-Za-z0-9/?:().,'+ -]+")  # the SEPA (EPC) character set


def make_rum(*, town_code: str, mandate_number: int, signed_on: date) -> str:
    """The mandate reference ("référence unique de mandat"): 'CASTRES-2026-00000042'.

    Unique per town because `mandate_number` is (the future mandate row's
    per-town sequence); it carries nothing about the account, so it can never
    contain the IBAN.
    """
    if mandate_number < 1:
        raise SepaError("Le numéro de mandat commence à 1.")
    prefix = re.sub(r"[^A-Z0-9]", "", town_code.upper())[:12] or "MANDAT"
    return validate_rum(f"{prefix}-{signed_on:%Y}-{mandate_number:08d}")


def validate_rum(rum: str, *, iban: str | None = None) -> str:
    """SEPA rules for a mandate reference: 1-35 characters of the SEPA set, no
    leading '/', no '//'; and it must not contain the debtor's IBAN (nor its
    BBAN): a reference travels on statements and files the IBAN must not."""
    if not rum or len(rum) > RUM_MAX_LENGTH:
        raise SepaError(f"La référence de mandat doit compter de 1 à {RUM_MAX_LENGTH} caractères.")
    if not _RUM_CHARS.fullmatch(rum) or rum.startswith("/") or "//" in rum:
        raise SepaError(f"La référence de mandat « {rum} » contient des caractères non permis.")
    if iban:
        compact = re.sub(r"\s+", "", rum).upper()
        account = re.sub(r"\s+", "", str(iban)).upper()
        if account in compact or (len(account) > 4 and account[4:] in compact):
            raise SepaError("La référence de mandat ne doit pas contenir l'IBAN du débiteur.")
    return rum


# --- sequence type, lapse, pre-notification (pure dates) ------------------------------


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def mandate_lapsed(*, signed_on: date, last_collection_on: date | None, on: date) -> bool:
    """A mandate with no collection for 36 months is void (SEPA Core rulebook).
    Never used: counted from its signature (our reading, the safe one)."""
    start = last_collection_on or signed_on
    return on > add_months(start, MANDATE_LAPSE_MONTHS)


def sequence_type(
    *, signed_on: date, last_collection_on: date | None, collection_date: date
) -> SequenceType:
    """FRST for a mandate's first collection, RCUR afterwards; SepaError when
    the mandate has lapsed (the family must sign a new one, with a new RUM)."""
    if mandate_lapsed(
        signed_on=signed_on, last_collection_on=last_collection_on, on=collection_date
    ):
        raise SepaError(
            "Ce mandat de prélèvement n'a pas servi depuis 36 mois : il est caduc, un nouveau "
            "mandat doit être signé."
        )
    return SequenceType.FIRST if last_collection_on is None else SequenceType.RECURRENT


def prenotification_deadline(collection_date: date, *, days: int = PRENOTIFICATION_DAYS) -> date:
    """The last day to tell the family the amount and date of a debit."""
    return collection_date - timedelta(days=days)


def earliest_collection_date(notified_on: date, *, days: int = PRENOTIFICATION_DAYS) -> date:
    return notified_on + timedelta(days=days)


def check_prenotification(
    *, notified_on: date, collection_date: date, days: int = PRENOTIFICATION_DAYS
) -> None:
    """SepaError unless the family was told at least `days` days before the debit."""
    if days < 1:
        raise SepaError("Le délai de pré-notification est d'au moins un jour.")
    if notified_on > prenotification_deadline(collection_date, days=days):
        raise SepaError(
            f"Le prélèvement du {collection_date:%d/%m/%Y} devait être annoncé au plus tard le "
            f"{prenotification_deadline(collection_date, days=days):%d/%m/%Y} ({days} jours "
            f"avant) ; il l'a été le {notified_on:%d/%m/%Y}. Prélevez au plus tôt le "
            f"{earliest_collection_date(notified_on, days=days):%d/%m/%Y}."
        )


# --- pain.008.001.02 --------------------------------------------------------------------


@dataclass(frozen=True)
class Creditor:
    name: str  # "Ville de Castres - Régie Enfance"
    iban: str
    bic: str  # required by pain.008.001.02 for the creditor's bank
    creditor_id: str  # ICS


@dataclass(frozen=True)
class DirectDebit:
    debtor_name: str
    iban: str
    amount: Decimal  # euros
    rum: str
    mandate_signed_on: date
    sequence: SequenceType
    end_to_end_id: str  # <= 35, e.g. the invoice reference: comes back on rejects
    remittance: str  # <= 140, shown on the family's bank statement
    bic: str | None = None  # optional since IBAN-only (the file says NOTPROVIDED)


@dataclass(frozen=True)
class SepaFile:
    xml: bytes
    message_id: str
    count: int
    total: Decimal


def build_pain008(
    *, creditor: Creditor, debits: list[DirectDebit], collection_date: date
) -> SepaFile:
    """One pain.008.001.02 file (CORE scheme) for one collection date; FRST and
    RCUR debits go in separate payment blocks, as the scheme requires.
    Every input is checked first (SepaError, French); the output is checked
    against the XSD (SepaFileError) before it is returned."""
    # Heavy library (sepaxml: loaded only when a SEPA file is written).
    from sepaxml import SepaDD

    if not debits:
        raise SepaError("Aucun prélèvement à émettre.")
    creditor_iban = validate_iban(creditor.iban)
    config = {
        "name": creditor.name,
        "IBAN": str(creditor_iban),
        "BIC": creditor.bic,
        "batch": True,
        "creditor_id": validate_creditor_id(creditor.creditor_id),
        "currency": "EUR",
        "instrument": "CORE",
    }
    sepa = SepaDD(config, schema="pain.008.001.02", clean=True)
    total = Decimal(0)
    for i, debit in enumerate(debits, start=1):
        where = f"prélèvement n° {i} ({debit.end_to_end_id})"
        try:
            iban = validate_iban(debit.iban)
            validate_rum(debit.rum, iban=iban)
        except SepaError as exc:
            raise SepaError(f"{where} : {exc}") from None
        amount = Decimal(debit.amount)
        if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
            raise SepaError(f"{where} : montant invalide ({debit.amount}).")
        if not debit.end_to_end_id or len(debit.end_to_end_id) > 35:
            raise SepaError(f"{where} : la référence de bout en bout compte 1 à 35 caractères.")
        payment = {
            "name": debit.debtor_name,
            "IBAN": str(iban),
            "amount": int(amount * 100),
            "type": SequenceType(debit.sequence).value,
            "collection_date": collection_date,
            "mandate_id": debit.rum,
            "mandate_date": debit.mandate_signed_on,
            "description": debit.remittance,
            "endtoend_id": debit.end_to_end_id,
        }
        if debit.bic:
            payment["BIC"] = debit.bic
        sepa.add_payment(payment)
        total += amount
    xml = sepa.export(validate=False)
    validate_pain008(xml)
    return SepaFile(xml=xml, message_id=sepa.msg_id, count=len(debits), total=total)


class SepaFileError(SepaError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(
            "Fichier de prélèvement non conforme au schéma pain.008.001.02 : "
            + " ; ".join(problems)
        )


@cache
def _pain008_schema():
    # Imported here, as sepaxml does: xmlschema patches ElementTree when loaded.
    import xmlschema

    return xmlschema.XMLSchema(str(PAIN_008_XSD))


def validate_pain008(xml: bytes | str) -> None:
    """Check a file against the pain.008.001.02 XSD of this repository."""
    # Heavy library (xmlschema: loaded only when a SEPA file is checked).
    import xmlschema

    text = xml.decode("utf-8") if isinstance(xml, bytes) else xml
    try:
        errors = list(_pain008_schema().iter_errors(text))
    except xmlschema.XMLSchemaException as exc:  # not even XML
        raise SepaFileError([str(exc).splitlines()[0]]) from None
    except Exception as exc:  # ElementTree parse errors
        raise SepaFileError([f"XML illisible : {exc}"]) from None
    if errors:
        raise SepaFileError([f"{e.path} : {e.reason}" for e in errors[:10]])


def describe(file: SepaFile) -> str:
    return f"{file.count} prélèvement{'s' if file.count > 1 else ''} pour {euros(file.total)}"


def _numerify(text: str) -> int:
    return int("".join(str(int(ch, 36)) for ch in text))
