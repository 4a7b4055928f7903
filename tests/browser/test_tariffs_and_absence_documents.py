"""#14 item 6 and #23 in a real browser (Debian's Chromium, axe-core), at
390x844 and 1280x800: the public tariff page generated from the tariff
configuration, the simulator counting only what one child can attend, an
absence justified with a document already kept in « Mes documents », and the
staff's registration list asking for a dérogation's reason."""

import copy
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SIZES = ((390, 844), (1280, 800))


def _context(browser, live_town, width, height, cookie=None):
    context = browser.new_context(
        locale="fr-FR", timezone_id="Europe/Paris", viewport={"width": width, "height": height}
    )
    context.set_default_timeout(15_000)
    if cookie:
        context.add_cookies([{"name": "sessionid", "value": cookie, "url": live_town.url}])
    return context


def _check(page, axe, width, name):
    assert page.evaluate("document.documentElement.scrollWidth") <= width, name
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    violations = axe(page)
    assert violations == [], axe.format(violations)


def test_the_public_tariff_page_and_the_simulator(browser, live_town, axe):
    for width, height in SIZES:
        context = _context(browser, live_town, width, height)
        page = context.new_page()
        page.goto(f"{live_town.url}/castres/billing/")
        page.get_by_role("link", name="Tarifs de chaque service").click()
        page.wait_for_load_state()
        assert page.get_by_role("heading", name="Restauration scolaire").count() == 1
        assert "QF non communiqué" in page.content()
        _check(page, axe, width, "tarifs")
        page.get_by_role("link", name="simulateur de tarifs").click()
        page.get_by_label("Quotient familial (en euros)").fill("800")
        page.get_by_label("un enfant scolarisé", exact=False).check()
        page.get_by_role("button", name="Calculer mes tarifs").click()
        page.wait_for_load_state()
        assert "non compté" in page.content()  # the crèche, for a school child
        _check(page, axe, width, "simulateur")
        context.close()


@pytest.fixture
def absent(live_town, django_db_blocker, settings, tmp_path):
    """A Castres family whose child was booked at the restaurant two and three
    days ago (no longer cancellable, still reportable), with a medical
    certificate kept in its documents; and a pending registration of a child
    the ALSH no longer takes (its age limit changed), for the staff list."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection
    from django_tenants.utils import tenant_context

    from booking.models import Activity, Booking, DaySlot, Registration
    from booking.tests.conftest import make_staff
    from core import town_config
    from documents.services import upload_document
    from documents.testing import forget_media_root, login, make_family, make_pdf
    from tenants.models import Commune
    from tenants.testing import edit_town_config, service_options, services_restored

    settings.MEDIA_ROOT = str(tmp_path / "media")
    forget_media_root()
    today = timezone.localdate()
    with django_db_blocker.unblock():
        castres = Commune.objects.get(slug="castres")
        with tenant_context(castres):
            fam = make_family("Roux", username="roux-navigateur")
            child = fam.children[0]
            child.refresh_from_db()  # its birth date as a date
            activity = Activity.objects.get(code="restauration-scolaire--ecole-centre")
            for delta in (3, 2):
                slot, _ = DaySlot.objects.get_or_create(
                    activity=activity, day=today - timedelta(days=delta), defaults={"capacity": 9}
                )
                Booking.objects.create(slot=slot, child=child)
            certificate = upload_document(
                household=fam.household,
                uploaded_by=fam.user,
                uploaded_file=SimpleUploadedFile(
                    "certificat.pdf", make_pdf("Certificat"), "application/pdf"
                ),
                kind="certificat_medical",
                title="Certificat du Dr Martin",
            )
            before = copy.deepcopy(castres.config)
            edit_town_config(castres, service_options("alsh-mercredi", registration="validation"))
            alsh = town_config.services(codes=["alsh-mercredi"]).get()
            from booking.registrations import request_registration

            year = today.year if today.month >= 9 else today.year - 1
            registration = request_registration(
                child=child, service=alsh, school_year=year, user=fam.user
            )
            # The ALSH no longer takes children of that age (its activities follow).
            edit_town_config(
                castres, service_options("alsh-mercredi", eligibility={"max_age_months": 12})
            )
            agent = make_staff(username="agent-derogation", areas=["alsh"])
        family_cookie = login(fam.user, castres).cookies["sessionid"].value
        agent_cookie = login(agent, castres).cookies["sessionid"].value
    yield type(
        "Absent",
        (),
        {
            "castres": castres,
            "child": child,
            "certificate": certificate,
            "family_cookie": family_cookie,
            "agent_cookie": agent_cookie,
            "first": today - timedelta(days=3),
            "last": today - timedelta(days=2),
            "registration": registration,
        },
    )
    with django_db_blocker.unblock(), tenant_context(castres):
        from demandes.models import Demande
        from documents.models import Document
        from modules.billing.testing import purge_households

        edit_town_config(castres, services_restored(before))
        Registration.objects.filter(child=child).delete()
        Demande.objects.filter(household=fam.household).delete()
        Document.objects.filter(household=fam.household).delete()
        purge_households([fam.household.pk])
        type(agent).objects.filter(pk=agent.pk).delete()
    connection.set_schema_to_public()
    forget_media_root()


def test_an_absence_uses_a_kept_certificate_and_staff_see_the_derogation_field(
    browser, live_town, absent, axe, django_db_blocker
):
    from django_tenants.utils import tenant_context

    url = (
        f"{live_town.url}/castres/mon-espace/absences/?enfant={absent.child.pk}"
        f"&du={absent.first.isoformat()}&au={absent.last.isoformat()}"
    )
    for width, height in SIZES:
        context = _context(browser, live_town, width, height, absent.family_cookie)
        page = context.new_page()
        page.goto(url)
        offered = page.get_by_label("Certificat du Dr Martin", exact=False)
        assert offered.count() == 1
        _check(page, axe, width, "absence-piece-deposee")
        if width == 1280:
            page.get_by_label("Maladie").check()
            offered.check()
            page.get_by_role("button", name="Déclarer l'absence").click()
            page.wait_for_load_state()
            assert "Absence de Enfant enregistrée" in page.content()
            _check(page, axe, width, "absence-enregistree")
        context.close()
    with django_db_blocker.unblock(), tenant_context(absent.castres):
        from booking.models import Absence

        files = {a.justification.name for a in Absence.objects.filter(booking__child=absent.child)}
        assert files == {absent.certificate.file.name}

    for width, height in SIZES:
        context = _context(browser, live_town, width, height, absent.agent_cookie)
        page = context.new_page()
        page.goto(f"{live_town.url}/castres/alsh/gestion/inscriptions/")
        assert "Hors conditions du service" in page.content()
        _check(page, axe, width, "inscriptions-derogation")
        context.close()
