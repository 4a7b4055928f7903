"""The operator console's import of a town's families (issue 22): pick a town,
upload its files, read the dry run, launch the real run (a Celery task) and
follow it (the last run's block, polled by htmx) — the same service, checks and
templates as the town admin's page; a Bondoufle import never touches Castres."""

import html
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from booking.models import Registration
from families.imports import entities
from families.models import Child, ImportedRecord, ImportRun

pytestmark = pytest.mark.django_db
EXAMPLES = Path(settings.BASE_DIR) / "docs" / "import"


@pytest.fixture(autouse=True)
def _staging(settings, tmp_path):
    settings.IMPORT_STAGING_DIR = str(tmp_path / "imports")


@pytest.fixture
def operator_client(client, db):
    from accounts.models import User
    from accounts.testing import force_login_verified

    operator = User.objects.create_superuser(
        "ops-import", "ops-import@example.org", "un-mot-de-passe-operateur", role="operator"
    )
    force_login_verified(client, operator)
    return client


def text(response) -> str:
    return html.unescape(response.content.decode())


def uploads(town, in_town):
    with in_town(town):
        codes = list(entities())
    return {c: SimpleUploadedFile(f"{c}.csv", (EXAMPLES / f"{c}.csv").read_bytes()) for c in codes}


def test_operator_dry_run_then_real_run_with_progress(
    castres, bondoufle, in_town, operator_client, django_capture_on_commit_callbacks
):
    page = f"/admin/tenants/commune/{bondoufle.pk}/reprise/"
    with in_town(castres):
        castres_before = (Child.objects.count(), Registration.objects.count())
    listing = text(operator_client.get("/admin/tenants/commune/"))
    assert "Reprendre les familles d'un ancien portail (import)" in listing
    form = text(operator_client.get(page))
    assert "Reprise des familles de Bondoufle" in form
    assert "Inscriptions aux services" in form and "Soldes d'ouverture" in form  # contributed

    response = operator_client.post(page, {"preset": "guichet", **uploads(bondoufle, in_town)})
    body = text(response)
    assert response.status_code == 200
    assert "Essai à blanc : rien n'est encore enregistré" in body
    assert "« 31/02/2019 » : cette date n'existe pas dans le calendrier" in body
    assert "« piscine » : service inconnu de la commune" in body
    assert "« F404 » : inconnu : absent du fichier des foyers" in body
    with in_town(bondoufle):
        assert not ImportedRecord.objects.exists()
    stage = re.search(r'name="stage" value="([0-9a-f]+)"', body).group(1)

    with django_capture_on_commit_callbacks() as callbacks:
        started = operator_client.post(page + "importer/", {"stage": stage})
    assert started.status_code == 302 and started["Location"].endswith(page)
    # while the task has not run: the block polls itself with htmx
    running = text(operator_client.get(page))
    assert "Import en cours" in running and 'hx-get="' + page + 'avancement/"' in running
    fragment = operator_client.get(page + "avancement/")
    assert fragment.status_code == 200 and 'hx-trigger="every 2s"' in text(fragment)
    for callback in callbacks:  # the Celery task, in-process
        callback()
    done = text(operator_client.get(page + "avancement/"))
    assert "Dernier import" in done and "hx-get" not in done
    assert "inscriptions.csv</strong> (inscriptions aux services) : 4 créées" in done
    assert "soldes.csv</strong> (soldes d'ouverture) : 3 créées" in done
    with in_town(bondoufle):
        run = ImportRun.objects.get()
        assert run.status == "done" and run.requested_by == "l'opérateur ops-import"
        assert Child.objects.filter(first_name="Jules", last_name="Bernard").exists()
    with in_town(castres):
        assert (Child.objects.count(), Registration.objects.count()) == castres_before
        assert not ImportedRecord.objects.exists()
    # the same files cannot be imported twice from the same check
    again = operator_client.post(page + "importer/", {"stage": stage})
    assert again.status_code == 302
    with in_town(bondoufle):
        assert ImportRun.objects.count() == 1


def test_bad_uploads_are_refused_in_french_and_get_is_not_a_run(castres, operator_client, in_town):
    page = f"/admin/tenants/commune/{castres.pk}/reprise/"
    empty = operator_client.post(page, {"preset": "guichet"})
    assert empty.status_code == 422
    assert "Choisissez au moins un fichier à vérifier." in text(empty)
    pdf = SimpleUploadedFile("enfants.csv", b"%PDF-1.4 not a table")
    refused = operator_client.post(page, {"preset": "guichet", "enfants": pdf})
    assert refused.status_code == 422
    assert "ni un fichier CSV ni un classeur XLSX" in text(refused)
    assert operator_client.get(page + "importer/").status_code == 405
    assert operator_client.get("/admin/tenants/commune/999999/reprise/").status_code == 302
    assert (
        operator_client.get("/admin/tenants/commune/999999/reprise/avancement/").status_code == 404
    )
    with in_town(castres):
        assert not ImportRun.objects.exists()
