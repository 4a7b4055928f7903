"""PES V2 recette ORMC for Hélios: the keys (against examples worked by hand),
the town's identifiers, the debtor check, the file (our XSD, then the documented
rules field by field), and the batch from real invoices to the staff pages."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client

from accounts.testing import force_login_verified
from modules.billing import pes, pes_services
from modules.billing.models import DebtorDetails, PesBatch, PesPiece
from modules.billing.testing import billed_month, make_invoiced_family

HELIOS = {
    "poste_comptable": "081010",
    "siret": "21810065000009",
    "code_collectivite": "065",
    "code_budget": "00",
    "code_nature": "01",
    "code_produit": "ENF",
    "nature": "7067",
}


# --- keys ---------------------------------------------------------------------------------


def _mod11_by_hand(number: str) -> int:
    """Independent reading of the rule: weights 2..7 written out from the right."""
    weights = [2, 3, 4, 5, 6, 7] * 10
    total = 0
    for position, digit in enumerate(number[::-1]):
        total += int(digit) * weights[position]
    rest = total % 11
    return {0: 1, 1: 1}.get(rest, 11 - rest)  # 11 and 10 both written 1


@pytest.mark.parametrize(
    "number,expected",
    [
        ("123", 6),  # 3×2 + 2×3 + 1×4 = 16; 16 mod 11 = 5; 11 − 5 = 6
        ("0", 1),  # sum 0: 11 − 0 = 11, written 1
        ("6", 1),  # 6×2 = 12; 12 mod 11 = 1; 11 − 1 = 10, written 1
        ("5", 1),  # 5×2 = 10; 11 − 10 = 1
        ("1000000", 9),  # the 7th digit from the right weighs 2 again: 2; 11 − 2 = 9
        ("065012600002026000042", 9),  # Castres demo piece: sum 112, 112 mod 11 = 2
    ],
)
def test_cle1_modulo11_examples(number, expected):
    assert pes.cle1_modulo11(number) == expected
    assert _mod11_by_hand(number) == expected


@pytest.mark.parametrize(
    "number,expected",
    [
        ("0", "A"),
        ("22", "Y"),  # the last letter
        ("23", "A"),  # wraps
        ("8", "J"),  # I is skipped: A..H are 0..7
        ("13", "P"),  # O is skipped: N = 12, P = 13
        ("260000002026000042", "W"),  # 260000002026000042 mod 23 = 20
    ],
)
def test_cle2_modulo23_examples(number, expected):
    assert pes.cle2_modulo23(number) == expected
    assert "ABCDEFGHJKLMNPQRSTUVWXY"[int(number) % 23] == expected


def test_every_modulo11_key_is_one_digit_from_1_to_9():
    for n in range(0, 5000):
        key = pes.cle1_modulo11(str(n))
        assert 1 <= key <= 9
        assert key == _mod11_by_hand(str(n))


def test_every_modulo23_letter_is_reachable_and_no_i_o_z():
    letters = {pes.cle2_modulo23(str(n)) for n in range(23)}
    assert len(letters) == 23 and not letters & {"I", "O", "Z"}


@pytest.mark.parametrize("bad", ["", "12a", "-1", "1 2", "²", "１２"])
def test_keys_refuse_non_digits(bad):
    with pytest.raises(ValueError):
        pes.cle1_modulo11(bad)
    with pytest.raises(ValueError):
        pes.cle2_modulo23(bad)


def test_piece_keys_compose_the_documented_fields():
    keys = pes.piece_keys(
        code_collectivite="065", code_nature="01", exercice=2026, periode="0", dette="2026000042"
    )
    # collectivité 065 + nature 01 + exercice 26 + période 0 + dette on 13 digits
    assert keys.cle1 == _mod11_by_hand("065" + "01" + "26" + "0" + "0002026000042")
    # exercice 26 + période 0 + « 00 » + dette on 13 digits
    assert keys.cle2 == "ABCDEFGHJKLMNPQRSTUVWXY"[int("26" + "0" + "00" + "0002026000042") % 23]
    assert (keys.cle1, keys.cle2) == (9, "W")


@pytest.mark.parametrize(
    "number,dette", [("F2026-000042", "2026000042"), ("F2027-123456", "2027123456")]
)
def test_debt_number_is_the_invoice_numbers_digits(number, dette):
    assert pes.num_dette(number) == dette


def test_debt_number_refuses_an_unusable_number():
    with pytest.raises(ValueError):
        pes.num_dette("F-")
    with pytest.raises(ValueError):
        pes.num_dette("F2026-00000000000042")


# --- the town's identifiers -----------------------------------------------------------------


def test_helios_settings_parse():
    settings = pes.parse_helios(
        {**HELIOS, "regies": {"petite-enfance": {"code_produit": "PE", "nature": "7066"}}}
    )
    assert settings.accounts_for("periscolaire").code_produit == "ENF"
    assert settings.accounts_for("petite-enfance").nature == "7066"
    assert pes.parse_helios(None) is None


@pytest.mark.parametrize(
    "key,value,words",
    [
        ("siret", "21810065000008", "la clé de contrôle du SIRET est fausse"),
        ("siret", "2181006500000", "14 chiffres attendus"),
        ("poste_comptable", "81", "6 ou 7 chiffres attendus"),
        ("code_collectivite", "65", "3 chiffres attendus"),
        ("code_nature", "1", "2 chiffres attendus"),
        ("code_produit", "ENFANCE", "1 à 4 lettres ou chiffres"),
        ("nature", "70-67", "1 à 12 chiffres"),
    ],
)
def test_helios_settings_problems_are_french(key, value, words):
    problems = pes.helios_problems({**HELIOS, key: value})
    assert any(words in p and f"helios.{key}" in p for p in problems), problems


# --- debtor ---------------------------------------------------------------------------------

GOOD_DEBTOR = pes.Debtor(
    family="Famille Martin",
    civility="MME",
    last_name="Martin",
    first_name="Claire",
    address="3 rue des Lilas",
    postcode="81100",
    city="Castres",
)


@pytest.mark.parametrize(
    "change,message",
    [
        (
            {"civility": ""},
            "Famille Martin : la civilité du payeur (M. ou Mme) n'est pas renseignée.",
        ),
        ({"last_name": " "}, "Famille Martin : le nom du payeur manque."),
        ({"first_name": ""}, "Famille Martin : le prénom du payeur manque."),
        ({"address": ""}, "Famille Martin : l'adresse postale (rue) manque."),
        ({"postcode": "8110"}, "Famille Martin : le code postal doit compter 5 chiffres."),
        ({"postcode": "８１１００"}, "Famille Martin : le code postal doit compter 5 chiffres."),
        ({"city": ""}, "Famille Martin : la commune de l'adresse manque."),
    ],
)
def test_debtor_problems_name_the_family_and_the_field(change, message):
    from dataclasses import replace

    assert pes.debtor_problems(GOOD_DEBTOR) == []
    assert pes.debtor_problems(replace(GOOD_DEBTOR, **change)) == [message]


# --- the file -------------------------------------------------------------------------------


def _batch(pieces, *, number=7):
    return pes.BatchData(
        file_name="PES_test.xml",
        exercice=2026,
        bordereau=number,
        issued_on=date(2026, 12, 7),
        regie_code="periscolaire",
        label="Régie scolaire — factures de novembre 2026",
        pieces=tuple(pieces),
    )


def _piece(number="F2026-000042", debtor=GOOD_DEBTOR, sepa=None, lines=None):
    return pes.PieceData(
        invoice_number=number,
        label=f"Facture {number}",
        lines=lines
        or (
            pes.PieceLine("Restauration scolaire", Decimal("12.30")),
            pes.PieceLine("Accueil du soir", Decimal("4.10")),
        ),
        debtor=debtor,
        sepa=sepa,
    )


SEPA = pes.Sepa(
    rum="CASTRES-2026-12",
    signed_on=date(2026, 9, 2),
    sequence="FRST",
    collection_date=date(2026, 12, 15),
    amount=Decimal("16.40"),
    iban="FR7630006000011234567890189",
    bic="AGRIFRPP",
    holder="Claire Martin",
)


def _root(xml: bytes):
    return ET.fromstring(xml)


def _v(node, path):
    return node.find(path).get("V")


def test_file_validates_and_says_each_documented_field():
    helios = pes.parse_helios(HELIOS)
    xml = pes.build_pes_xml(_batch([_piece(), _piece("F2026-000043", sepa=SEPA)]), helios)
    pes.validate_pes(xml)
    assert pes.check_cle1(_root(xml), helios) == []
    assert xml.startswith(b"<?xml version='1.0' encoding='ISO-8859-1'?>")
    root = _root(xml)
    assert root.tag == f"{{{pes.NS}}}PES_Aller"
    assert _v(root, "Enveloppe/Parametres/TypFic") == "PESORMC"
    head = root.find("EnTetePES")
    assert [_v(head, t) for t in ("IdPost", "IdColl", "CodCol", "CodBud")] == [
        "081010",
        "21810065000009",
        "065",
        "00",
    ]
    bloc = root.find("PES_RecetteAller/Bordereau/BlocBordereau")
    assert _v(bloc, "TypBord") == "06"
    assert _v(bloc, "NbrPce") == "2"
    assert _v(bloc, "MtBordHt") == "32.80"
    assert _v(bloc, "IdBord") == "7"
    pieces = root.findall("PES_RecetteAller/Bordereau/Piece")
    bp = pieces[0].find("BlocPiece")
    assert [
        _v(bp, t) for t in ("IdPce", "TypPce", "NatPce", "NumDette", "Per", "Cle1", "Cle2")
    ] == [
        "1",
        "15",
        "01",
        "2026000042",
        "0",
        "9",
        "W",
    ]
    lines = pieces[0].findall("LigneDePiece")
    assert [_v(li, "BlocLignePiece/InfoLignePiece/MtHT") for li in lines] == ["12.30", "4.10"]
    info = lines[0].find("BlocLignePiece/InfoLignePiece")
    assert [_v(info, t) for t in ("IdLigne", "CodProdLoc", "Nature", "Majo", "TvaIntraCom")] == [
        "1",
        "ENF",
        "7067",
        "0",
        "0",
    ]
    tiers = lines[0].find("Tiers/InfoTiers")
    assert [
        _v(tiers, t) for t in ("CatTiers", "NatJur", "TypTiers", "Civilite", "Nom", "Prenom")
    ] == [
        "01",
        "01",
        "01",
        "Mme",
        "Martin",
        "Claire",
    ]
    adr = lines[0].find("Tiers/Adresse")
    assert [_v(adr, t) for t in ("Adr2", "CP", "Ville")] == ["3 rue des Lilas", "81100", "Castres"]
    assert lines[0].find("BlocLignePiece/InfoPrelevementSEPA") is None
    sepa = pieces[1].find("LigneDePiece/BlocLignePiece/InfoPrelevementSEPA")
    assert [_v(sepa, t) for t in ("SequencePres", "DateSignMandat", "RefUniMdt", "MtPrel")] == [
        "02",
        "2026-09-02",
        "CASTRES-2026-12",
        "12.30",
    ]
    bank = pieces[1].find("LigneDePiece/Tiers/CpteBancaire")
    assert _v(bank, "IBAN") == "FR7630006000011234567890189"


def test_recurrent_debit_is_sequence_03():
    from dataclasses import replace

    xml = pes.build_pes_xml(
        _batch([_piece(sepa=replace(SEPA, sequence="RCUR"))]), pes.parse_helios(HELIOS)
    )
    root = _root(xml)
    assert _v(root.find(".//InfoPrelevementSEPA"), "SequencePres") == "03"


def test_texts_are_cut_and_kept_on_one_line():
    from dataclasses import replace

    debtor = replace(
        GOOD_DEBTOR, last_name="De La Tour d'Auvergne-Lauraguais\nMontmorency-Laval", city="Œuilly"
    )
    xml = pes.build_pes_xml(_batch([_piece(debtor=debtor)]), pes.parse_helios(HELIOS))
    pes.validate_pes(xml)
    tiers = _root(xml).find(".//InfoTiers")
    assert len(_v(tiers, "Nom")) == 38 and "\n" not in _v(tiers, "Nom")
    assert _v(_root(xml).find(".//Tiers/Adresse"), "Ville") == "Œuilly"  # a character reference


def test_a_family_without_tiers_data_refuses_the_file():
    from dataclasses import replace

    with pytest.raises(pes.PesError) as exc:
        pes.build_pes_xml(
            _batch([_piece(debtor=replace(GOOD_DEBTOR, civility=""))]), pes.parse_helios(HELIOS)
        )
    assert exc.value.problems == [
        "Famille Martin : la civilité du payeur (M. ou Mme) n'est pas renseignée."
    ]


def test_an_empty_batch_or_a_line_at_zero_is_refused():
    helios = pes.parse_helios(HELIOS)
    with pytest.raises(pes.PesError, match="Aucune facture"):
        pes.build_pes_xml(_batch([]), helios)
    with pytest.raises(pes.PesError, match="montant nul ou négatif"):
        pes.build_pes_xml(_batch([_piece(lines=(pes.PieceLine("x", Decimal("0.00")),))]), helios)


def _tamper(xml: bytes, path: str, value: str) -> bytes:
    root = _root(xml)
    root.find(path).set("V", value)
    ET.register_namespace("n", pes.NS)
    return ET.tostring(root, encoding="ISO-8859-1", xml_declaration=True)


@pytest.mark.parametrize(
    "path,value,words",
    [
        ("PES_RecetteAller/Bordereau/BlocBordereau/TypBord", "01", "TypBord"),
        ("PES_RecetteAller/Bordereau/BlocBordereau/NbrPce", "3", "NbrPce"),
        ("PES_RecetteAller/Bordereau/BlocBordereau/MtBordHt", "32.81", "MtBordHt"),
        ("PES_RecetteAller/Bordereau/BlocBordereau/MtBordHt", "32.8x", "MtBordHt"),
        ("PES_RecetteAller/Bordereau/Piece/BlocPiece/Cle2", "A", "Cle2 fausse"),
        ("PES_RecetteAller/Bordereau/Piece/BlocPiece/Cle2", "AB", "Cle2"),
        ("PES_RecetteAller/Bordereau/Piece/BlocPiece/IdPce", "0", "IdPce"),
        ("EnTetePES/IdColl", "2181006500000", "IdColl"),
        ("PES_RecetteAller/EnTeteRecette/IdVer", "3", "IdVer"),
        (
            "PES_RecetteAller/Bordereau/Piece/LigneDePiece/Tiers/Adresse/CP",
            "8110",
            "CP",
        ),
        (
            "PES_RecetteAller/Bordereau/Piece/LigneDePiece/Tiers/InfoTiers/Civilite",
            "Mlle",
            "Civilite",
        ),
    ],
)
def test_a_tampered_file_is_refused_with_the_field_named(path, value, words):
    xml = pes.build_pes_xml(_batch([_piece(), _piece("F2026-000043")]), pes.parse_helios(HELIOS))
    with pytest.raises(pes.PesError) as exc:
        pes.validate_pes(_tamper(xml, path, value))
    assert any(words in p for p in exc.value.problems), exc.value.problems


def test_a_wrong_cle1_is_found():
    helios = pes.parse_helios(HELIOS)
    xml = pes.build_pes_xml(_batch([_piece()]), helios)
    bad = _tamper(xml, "PES_RecetteAller/Bordereau/Piece/BlocPiece/Cle1", "3")
    assert pes.check_cle1(_root(bad), helios) == ["Pièce 2026000042 : Cle1 fausse."]


@pytest.mark.parametrize(
    "text,words",
    [
        (b"", "XML illisible"),
        (b"<pas du xml", "XML illisible"),
        ("<é/>".encode("utf-16"), "Non conforme au schéma PES"),
        (b"<PES_Aller/>", "Non conforme au schéma PES"),
    ],
)
def test_unreadable_file_is_a_french_error(text, words):
    with pytest.raises(pes.PesError, match=words):
        pes.validate_pes(text)


def test_piece_lines_group_by_prestation_or_say_what_is_left():
    lines = [
        ("Cantine", Decimal("2.05")),
        ("Cantine", Decimal("2.05")),
        ("Garderie", Decimal("1.50")),
    ]
    assert pes.piece_lines(lines, Decimal("5.60"), "F1") == (
        pes.PieceLine("Cantine", Decimal("4.10")),
        pes.PieceLine("Garderie", Decimal("1.50")),
    )
    # partly paid: one line for what is owed
    assert pes.piece_lines(lines, Decimal("3.00"), "F1") == (
        pes.PieceLine("Reste dû sur la facture F1", Decimal("3.00")),
    )
    # a prestation summing to a credit: never a line ≤ 0
    assert pes.piece_lines(
        [("Cantine", Decimal("5.00")), ("Régularisation", Decimal("-1.00"))], Decimal("4.00"), "F2"
    ) == (pes.PieceLine("Reste dû sur la facture F2", Decimal("4.00")),)


# --- batches from real invoices -------------------------------------------------------------


@pytest.fixture
def castres_family(castres, in_town):
    with in_town(castres):
        fam = make_invoiced_family(castres, last_name="Helios", days=4)
        DebtorDetails.objects.create(household=fam.household, civility="M")
        yield fam


def _regie(fam):
    return fam.invoice.regie_code


@pytest.mark.django_db
def test_batch_built_from_the_months_invoices(castres_family, castres):
    fam = castres_family
    year, month = billed_month()
    batch = pes_services.build_batch(
        commune=castres, regie_code=_regie(fam), year=year, month=month, today=date(2026, 12, 7)
    )
    assert batch.count >= 1
    piece = PesPiece.objects.get(batch=batch, invoice=fam.invoice)
    assert piece.amount == fam.invoice.balance
    pes.validate_pes(bytes(batch.xml))
    root = _root(bytes(batch.xml))
    dettes = [_v(bp, "NumDette") for bp in root.iter("BlocPiece")]
    assert pes.num_dette(fam.invoice.number) in dettes
    # a second batch of the same régie and month holds nothing: no title twice
    with pytest.raises(pes.PesError, match="Aucune facture"):
        pes_services.build_batch(commune=castres, regie_code=_regie(fam), year=year, month=month)
    # the bordereau numbers follow each other
    assert PesBatch.objects.filter(exercice=2026).count() == 1


@pytest.mark.django_db
def test_a_family_missing_tiers_data_blocks_the_batch(castres, in_town):
    with in_town(castres):
        ok = make_invoiced_family(castres, last_name="Complet", days=2, run=False)
        DebtorDetails.objects.create(household=ok.household, civility="MME")
        fam = make_invoiced_family(castres, last_name="Sansadresse", days=2)
        fam.household.postcode = ""
        fam.household.save()
        year, month = billed_month()
        with pytest.raises(pes.PesError) as exc:
            pes_services.build_batch(
                commune=castres, regie_code=_regie(fam), year=year, month=month
            )
        assert (
            "Famille Sansadresse : la civilité du payeur (M. ou Mme) n'est pas renseignée."
            in exc.value.problems
        )
        assert "Famille Sansadresse : le code postal doit compter 5 chiffres." in exc.value.problems
        assert not PesBatch.objects.exists()
        assert not any("Famille Complet" in p for p in exc.value.problems)


@pytest.mark.django_db
def test_sent_then_acknowledged_with_a_rejection(castres_family, castres):
    fam = castres_family
    year, month = billed_month()
    batch = pes_services.build_batch(
        commune=castres, regie_code=_regie(fam), year=year, month=month
    )
    assert pes_services.record_acknowledgement(batch, rejected={}) == [
        "Marquez d'abord le bordereau comme transmis à la trésorerie."
    ]
    pes_services.mark_sent(batch)
    pes_services.mark_sent(batch)  # a double click changes nothing
    batch.refresh_from_db()
    assert batch.status == PesBatch.Status.SENT
    assert pes_services.record_acknowledgement(batch, rejected={999: "x"}) == [
        "Pièce inconnue dans ce bordereau : 999."
    ]
    number = PesPiece.objects.get(batch=batch, invoice=fam.invoice).number
    assert pes_services.record_acknowledgement(batch, rejected={number: "adresse inconnue"}) == []
    piece = PesPiece.objects.get(batch=batch, invoice=fam.invoice)
    assert (piece.status, piece.rejection_reason) == ("rejected", "adresse inconnue")
    # a rejected invoice may go again in a later batch
    again = pes_services.build_batch(
        commune=castres, regie_code=_regie(fam), year=year, month=month
    )
    assert again.pieces.filter(invoice=fam.invoice).exists()
    assert again.bordereau == batch.bordereau + 1


@pytest.mark.django_db
def test_a_town_without_helios_identifiers_is_told_in_french(bondoufle, in_town):
    with in_town(bondoufle):
        with pytest.raises(pes_services.PesNotConfigured, match="identifiants Hélios"):
            pes_services.build_batch(commune=bondoufle, regie_code="x", year=2026, month=1)


# --- staff pages ----------------------------------------------------------------------------


BASE = "/castres/billing/gestion/titres/"


@pytest.fixture
def staff(castres, in_town):
    from accounts.models import User

    with in_town(castres):
        agent = User.objects.create_user(
            username="regisseur-pes", password="x" * 20, role="agent", service_areas=["billing"]
        )
    client = Client()
    force_login_verified(client, agent, castres)
    return client


@pytest.mark.django_db
def test_staff_builds_downloads_and_acknowledges(
    castres, in_town, staff, django_assert_max_num_queries
):
    with in_town(castres):
        fam = make_invoiced_family(castres, last_name="Pagepes", days=2)
    year, month = billed_month()
    with django_assert_max_num_queries(40):
        page = staff.get(BASE + f"?mois={year}-{month:02d}")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Famille Pagepes : la civilité du payeur (M. ou Mme) n&#x27;est pas renseignée." in text
    # the civility form, then the batch
    r = staff.post(
        BASE + f"familles/{fam.household.pk}/civilite/",
        {"civilite": "MME", "mois": f"{year}-{month:02d}"},
    )
    assert r.status_code == 302
    r = staff.post(
        BASE + "constituer/", {"mois": f"{year}-{month:02d}", "regie": fam.invoice.regie_code}
    )
    assert r.status_code == 302, r.content
    with in_town(castres):
        batch = PesBatch.objects.get()
    detail = staff.get(BASE + f"{batch.pk}/")
    assert "Télécharger le fichier PES" in detail.content.decode()
    download = staff.get(BASE + f"{batch.pk}/fichier/")
    assert download["Content-Disposition"] == f'attachment; filename="{batch.file_name}"'
    pes.validate_pes(download.content)
    staff.post(BASE + f"{batch.pk}/transmis/")
    r = staff.post(BASE + f"{batch.pk}/accuse/", {"rejets": "pas un numéro"}, follow=True)
    assert "écrivez le numéro de la pièce rejetée" in r.content.decode()
    with in_town(castres):
        batch.refresh_from_db()
        assert batch.status == PesBatch.Status.SENT  # refused: nothing recorded
    staff.post(BASE + f"{batch.pk}/accuse/", {"rejets": ""})
    with in_town(castres):
        batch.refresh_from_db()
        assert batch.status == PesBatch.Status.ACKNOWLEDGED
        assert set(batch.pieces.values_list("status", flat=True)) == {"accepted"}


@pytest.mark.django_db
def test_bad_input_on_the_build_form_is_french(castres, in_town, staff):
    for data in ({"mois": "2026-13", "regie": "x"}, {"mois": "ＡＢ", "regie": ""}, {}):
        r = staff.post(BASE + "constituer/", data, follow=True)
        assert r.status_code == 200
        assert "Choisissez une régie et un mois." in r.content.decode()
    r = staff.post(BASE + "constituer/", {"mois": "2026-11", "regie": "inconnue"}, follow=True)
    assert "Aucune facture à transmettre" in r.content.decode()
    r = staff.post(BASE + "familles/999999/civilite/", {"civilite": "MME"})
    assert r.status_code == 404
    with in_town(castres):
        assert not PesBatch.objects.exists()
