"""The treasury's acknowledgement file (PES_ACQUIT): parsed (pure, every case),
then uploaded by staff on a batch's page through documents' upload checks:
accepted, partially rejected (reasons in French, never the anomaly codes),
rejected as a whole; malformed, foreign or other-batch files are refused with a
French message and change nothing."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.testing import force_login_verified
from modules.billing import pes_ack, pes_services, services
from modules.billing.models import DebtorDetails, PesBatch, PesPiece
from modules.billing.testing import billed_month, issue_day, make_invoiced_family


def ack_xml(
    name="PES_ORMC_065_2026_0000007.xml",
    *,
    elements=None,
    encoding="ISO-8859-1",
    namespace="",
) -> bytes:
    """An acknowledgement in the layout the transmission tools read (pes_ack's docstring)."""
    ns = f' xmlns="{namespace}"' if namespace else ""
    if elements is None:
        elements = [element()]
    body = (
        f'<?xml version="1.0" encoding="{encoding}"?>\n'
        f'<PES_ACQUIT{ns}><Enveloppe><Parametres><NomFic V="{name}"/></Parametres></Enveloppe>'
        f"<ACQUIT>{''.join(elements)}</ACQUIT></PES_ACQUIT>"
    )
    return body.encode(encoding, "xmlcharrefreplace")


def element(state="1", *, bordereau=7, exercice=2026, domain="6", error="", details=""):
    return (
        f'<ElementACQUIT><DomaineAck V="{domain}"/><ExerciceBord V="{exercice}"/>'
        f'<NumBord V="{bordereau}"/><EtatAck V="{state}"/>{error}{details}</ElementACQUIT>'
    )


def error(code="", label=""):
    return (
        "<Erreur>"
        + (f'<NumAnoAck V="{code}"/>' if code else "")
        + (f'<LibelleAnoAck V="{label}"/>' if label else "")
        + "</Erreur>"
    )


def piece(number, err="", lines=""):
    return f'<DetailPiece><NumPiece V="{number}"/>{err}{lines}</DetailPiece>'


# --- parsing (pure) ---------------------------------------------------------------------------

KEY = {"file_name": "PES_ORMC_065_2026_0000007.xml", "exercice": 2026, "bordereau": 7}


def _rejections(data, pieces=(1, 2, 3)):
    return pes_ack.rejections(pes_ack.parse_ack(data), pieces=set(pieces), **KEY)


def test_an_accepted_file():
    ack = pes_ack.parse_ack(ack_xml())
    assert ack.file_name == KEY["file_name"]
    assert ack.elements[0].accepted and ack.elements[0].bordereau == 7
    assert _rejections(ack_xml()) == {}


def test_pieces_rejected_with_the_treasury_s_words_or_the_code_s_meaning():
    data = ack_xml(
        elements=[
            element(
                "0",
                details=piece(2, error("ERREUR_AUTRE", "Adresse du débiteur incomplète"))
                + piece(3, error("ERREUR_DOUBLON_PIECE"))
                + piece(
                    1,
                    lines='<DetailLigne><NumLigne V="2"/>'
                    + error("ERREUR_CUMUL_MONTANTS")
                    + "</DetailLigne>",
                ),
            )
        ]
    )
    assert _rejections(data) == {
        2: "Adresse du débiteur incomplète",
        3: "pièce déjà reçue (en double)",
        1: "ligne 2 : les montants ne correspondent pas au total",
    }


def test_a_namespaced_utf8_file_reads_the_same():
    data = ack_xml(
        elements=[element("0", details=piece(1, error(label="Civilité « Mlle » refusée")))],
        encoding="UTF-8",
        namespace="http://www.minefi.gouv.fr/cp/helios/pes_v2/Rev0/aller",
    )
    assert _rejections(data) == {1: "Civilité « Mlle » refusée"}


def test_a_whole_bordereau_rejected_rejects_every_piece():
    data = ack_xml(elements=[element("0", domain="1", error=error("ERREUR_SIRET"))])
    assert _rejections(data, pieces=(1, 2)) == dict.fromkeys(
        (1, 2), "bordereau rejeté (technique) : SIRET de la collectivité inconnu"
    )


def test_the_older_rev0_acquit_says_received():
    data = (
        b'<?xml version="1.0"?><PES_Acquit><Enveloppe/><Acquit>'
        b'<NomFic V="PES_ORMC_065_2026_0000007.xml"/></Acquit></PES_Acquit>'
    )
    assert _rejections(data) == {}


@pytest.mark.parametrize(
    "data,words",
    [
        (b"<PES_ACQUIT><ACQUIT>", "XML incomplet ou endommagé"),
        (b'<?xml version="1.0"?><PES_Aller><Enveloppe/></PES_Aller>', "pas un accusé de réception"),
        (b'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022"/>', "(PES_ACQUIT)"),
        (ack_xml(name=""), "ne nomme pas le fichier"),
        (ack_xml(elements=[]), "aucun résultat"),
        (ack_xml(elements=[element("")]), "n'a pas d'état"),
        (ack_xml(elements=[element(bordereau="douze")]), "numéro de bordereau « douze »"),
    ],
)
def test_unreadable_or_foreign_files_are_french_errors(data, words):
    with pytest.raises(pes_ack.AckError, match=words.replace("(", r"\(").replace(")", r"\)")):
        _rejections(data)


@pytest.mark.parametrize(
    "data,words",
    [
        (ack_xml(name="PES_ORMC_065_2026_0000008.xml"), "concerne le fichier"),
        (ack_xml(elements=[element(bordereau=8)]), "concerne le bordereau n° 8"),
        (ack_xml(elements=[element(exercice=2025)]), "concerne l'exercice 2025"),
    ],
)
def test_another_batch_s_acknowledgement_is_refused(data, words):
    with pytest.raises(pes_ack.AckError, match=words):
        _rejections(data)


# --- the staff page ---------------------------------------------------------------------------

BASE = "/castres/billing/gestion/titres/"


@pytest.fixture
def sent_batch(castres, in_town):
    """A batch of three families' invoices, sent to the treasury."""
    with in_town(castres):
        families = [
            make_invoiced_family(castres, last_name=name, days=2, run=False)
            for name in ("Accuse", "Bordereau", "Tresor")
        ]
        year, month = billed_month()
        services.run_month(commune=castres, year=year, month=month, today=issue_day())
        for fam in families:
            DebtorDetails.objects.create(household=fam.household, civility="MME")
        regie = families[0].household.invoices.get().regie_code
        batch = pes_services.build_batch(commune=castres, regie_code=regie, year=year, month=month)
        pes_services.mark_sent(batch)
        yield batch


@pytest.fixture
def staff(castres, in_town):
    from accounts.models import User

    with in_town(castres):
        agent = User.objects.create_user(
            username="regisseur-accuse", password="x" * 20, role="agent", service_areas=["billing"]
        )
    client = Client()
    force_login_verified(client, agent, castres)
    return client


def _upload(staff, batch, data: bytes, name="acquit.xml"):
    return staff.post(
        BASE + f"{batch.pk}/accuse/fichier/",
        {"accuse": SimpleUploadedFile(name, data, content_type="text/xml")},
        follow=True,
    )


def _state(in_town, castres, batch):
    with in_town(castres):
        batch.refresh_from_db()
        return batch.status, dict(
            PesPiece.objects.filter(batch=batch).values_list("number", "status")
        )


@pytest.mark.django_db
def test_staff_uploads_a_partly_rejected_then_an_accepted_acknowledgement(
    castres, in_town, staff, sent_batch
):
    batch = sent_batch
    assert batch.count == 3
    page = staff.get(BASE + f"{batch.pk}/").content.decode()
    assert 'enctype="multipart/form-data"' in page and 'name="accuse"' in page
    data = ack_xml(
        batch.file_name,
        elements=[
            element(
                "0",
                bordereau=batch.bordereau,
                exercice=batch.exercice,
                details=piece(2, error("ERREUR_AUTRE", "Adresse du débiteur incomplète")),
            )
        ],
    )
    r = _upload(staff, batch, data)
    text = r.content.decode()
    assert "2 pièces acceptées, 1 rejetée" in text
    assert "Adresse du débiteur incomplète" in text
    assert "ERREUR_AUTRE" not in text  # no internal code shown
    assert _state(in_town, castres, batch) == (
        PesBatch.Status.ACKNOWLEDGED,
        {1: "accepted", 2: "rejected", 3: "accepted"},
    )
    with in_town(castres):
        rejected = PesPiece.objects.get(batch=batch, number=2)
        assert rejected.rejection_reason == "Adresse du débiteur incomplète"
    # A corrected acknowledgement replaces it: all accepted.
    ok = ack_xml(
        batch.file_name, elements=[element(bordereau=batch.bordereau, exercice=batch.exercice)]
    )
    assert "3 pièces acceptées." in _upload(staff, batch, ok).content.decode()
    assert _state(in_town, castres, batch)[1] == {1: "accepted", 2: "accepted", 3: "accepted"}


@pytest.mark.django_db
def test_bad_files_are_refused_in_french_and_change_nothing(castres, in_town, staff, sent_batch):
    batch = sent_batch
    before = _state(in_town, castres, batch)
    assert before[0] == PesBatch.Status.SENT
    good = {"bordereau": batch.bordereau, "exercice": batch.exercice}
    cases = [
        (b"", "est vide"),
        (b"%PDF-1.4 not an xml", "Formats acceptés : fichier XML"),
        (b"<html><body>x</body></html>", "page web (HTML)"),
        (b'<?xml version="1.0"?><PES_ACQUIT><ACQUIT>', "pas un fichier XML lisible"),
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><PES_ACQUIT/>',
            "déclarations (DOCTYPE)",
        ),
        (bytes(batch.xml), "pas un accusé de réception de la trésorerie"),  # our own PES file
        (ack_xml("PES_ORMC_autre.xml", elements=[element(**good)]), "concerne le fichier"),
        (
            ack_xml(batch.file_name, elements=[element("0", details=piece(99), **good)]),
            "Pièce inconnue dans ce bordereau : 99.",
        ),
    ]
    for data, words in cases:
        r = _upload(staff, batch, data)
        assert r.status_code == 200
        assert words in r.content.decode(), (words, r.content.decode()[-3000:])
        assert _state(in_town, castres, batch) == before, words
    r = staff.post(BASE + f"{batch.pk}/accuse/fichier/", {}, follow=True)
    assert "Choisissez le fichier d" in r.content.decode()
    assert _state(in_town, castres, batch) == before
