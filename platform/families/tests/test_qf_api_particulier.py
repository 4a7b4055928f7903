"""The quotient familial from the CAF/MSA through API Particulier: our real
client (requests) against a local stand-in speaking API Particulier's v3
HTTP API (platform/idsim). Consent recorded, only the QF kept, the next
invoice priced from it, French messages and the manual path on every error,
and no personal data in the logs."""

from __future__ import annotations

import html as htmllib
import logging
from datetime import date
from decimal import Decimal

import pytest
from django_tenants.utils import tenant_context

from families.models import Household, QFConsent
from families.testing import login, make_family, make_staff

pytestmark = pytest.mark.django_db
URL = "/castres/mon-espace/quotient-familial/caf/"
CLAIRE = {
    "consent": "on",
    "birth_name": "Martin",
    "first_names": "Claire",
    "sex": "F",
    "birth_date": "1986-04-12",
    "birth_commune": "81065",
}


@pytest.fixture
def martin(castres):
    return make_family(castres, key="martin", last_name="Martin")


@pytest.fixture
def martin_client(client, martin):
    login(client, martin.commune, martin.user)
    return client


def household(martin):
    with tenant_context(martin.commune):
        return Household.objects.get(pk=martin.household.pk)


def test_consent_then_qf_480_from_the_caf_prices_the_next_invoice_at_2_10(
    martin_client, martin, idsim, castres
):
    from modules.billing.pricing import price_session
    from modules.billing.selectors import household_facts
    from modules.billing.tariffs import billing_settings_from_town_config

    page = martin_client.get(URL)
    assert page.status_code == 200
    assert "J'autorise la mairie à obtenir mon quotient familial" in htmllib.unescape(
        page.content.decode()
    )
    response = martin_client.post(URL, CLAIRE)
    assert response.status_code == 302, response.content.decode()[:2000]
    h = household(martin)
    assert (h.quotient_familial, h.qf_source) == (480, Household.QFSource.API_CAF)
    assert h.qf_date is not None and h.qf_reference_month is not None
    with tenant_context(castres):
        consent = QFConsent.objects.get(household=h)
        assert consent.text.startswith("J'autorise la mairie")
        facts = household_facts([h.pk], commune=castres)[h.pk]
    # The town's SIRET went as `recipient`, with the town's token (the stand-in checks it).
    assert idsim.api_calls[-1] == ("/v3/dss/quotient_familial/identite", "00000000000000")
    tariff = billing_settings_from_town_config(castres.config).tariff("restauration-scolaire")
    line = price_session(tariff, day=date(2026, 10, 5), qf=facts.qf)
    assert line.amount == Decimal("2.10")


def test_without_consent_nothing_is_asked(martin_client, martin, idsim):
    response = martin_client.post(URL, {**CLAIRE, "consent": ""})
    assert response.status_code == 400
    assert "Cochez la case" in response.content.decode()
    assert idsim.api_calls == []
    assert household(martin).quotient_familial != 480


@pytest.mark.parametrize(
    ("status", "words", "code"),
    [
        (404, "ne trouvent pas de dossier allocataire", 422),
        (503, "indisponible", 503),
        (429, "Trop de demandes", 503),
    ],
)
def test_api_errors_give_french_messages_and_the_manual_path(
    martin_client, martin, idsim, status, words, code
):
    before = household(martin)
    idsim.api_status = status
    response = martin_client.post(URL, CLAIRE)
    html = htmllib.unescape(response.content.decode())
    assert response.status_code == code
    assert words in html
    assert "/castres/mon-espace/quotient-familial/" in html  # « le saisir moi-même »
    after = household(martin)
    assert (after.quotient_familial, after.qf_source) == (
        before.quotient_familial,
        before.qf_source,
    )


def test_an_unknown_person_is_the_api_s_not_found(martin_client, idsim):
    response = martin_client.post(URL, {**CLAIRE, "birth_name": "Inconnue"})
    assert response.status_code == 422
    assert "ne trouvent pas de dossier allocataire" in response.content.decode()


def test_the_api_down_is_a_french_message_not_a_500(martin_client, idsim, settings):
    settings.API_PARTICULIER_URLS = {
        **settings.API_PARTICULIER_URLS,
        "staging": "http://127.0.0.1:9",
    }
    response = martin_client.post(URL, CLAIRE)
    assert response.status_code == 503
    assert "ne répond pas" in response.content.decode()


def test_bad_input_is_a_french_form_error(martin_client, idsim):
    response = martin_client.post(
        URL, {**CLAIRE, "birth_date": "3000-01-01", "birth_commune": "Ω\u202e"}
    )
    assert response.status_code == 400
    html = htmllib.unescape(response.content.decode())
    assert "Cette date de naissance n'est pas possible." in html
    assert idsim.api_calls == []


def test_no_personal_data_from_the_api_in_the_logs(martin_client, idsim, caplog):
    caplog.set_level(logging.DEBUG)
    martin_client.post(URL, CLAIRE)
    idsim.api_status = 404
    martin_client.post(URL, CLAIRE)
    ours = [r for r in caplog.records if r.name.startswith("guichet.")]
    # The message and the fields our code adds; not the record's own clock fields
    # (`msecs` 480.0 or a `created` with « 480 » in it matched by chance).
    standard = vars(logging.makeLogRecord({})).keys()
    logged = " ".join(
        f"{r.getMessage()} { ({k: v for k, v in vars(r).items() if k not in standard}) }"
        for r in ours
    ).upper()
    assert "API_PARTICULIER QUOTIENT_FAMILIAL" in logged  # the calls are logged...
    for personal in ("MARTIN", "CLAIRE", "1986", "81065", "480"):  # ...without personal data
        assert personal not in logged


def test_staff_see_the_source_and_date(martin_client, martin, idsim, castres, client):
    martin_client.post(URL, CLAIRE)
    agent = make_staff(castres, username="agent.qf", role="manager")
    login(client, castres, agent)
    page = client.get(f"/castres/gestion/familles/{martin.household.pk}/")
    assert page.status_code == 200, page.status_code
    html = page.content.decode()
    assert "480" in html and "obtenu auprès de la CAF (API Particulier)" in html


def test_a_town_without_api_particulier_has_no_page(martin_client, idsim, monkeypatch):
    monkeypatch.delenv("CASTRES_API_PARTICULIER_TOKEN")
    assert martin_client.get(URL).status_code == 404


def test_the_monthly_refresh_asks_again_only_with_a_valid_consent(
    martin_client, martin, idsim, castres
):
    from families import qf_api
    from families.tasks import refresh_qf_for_town

    martin_client.post(URL, CLAIRE)
    calls = len(idsim.api_calls)
    with tenant_context(castres):
        Household.objects.filter(pk=martin.household.pk).update(quotient_familial=999)
        assert refresh_qf_for_town() == {"asked": 1, "updated": 1, "failed": 0}
    assert len(idsim.api_calls) == calls + 1
    assert household(martin).quotient_familial == 480
    idsim.api_status = 503  # a failure is counted, never raised; the QF stays
    with tenant_context(castres):
        assert qf_api.refresh_town(commune=castres) == {"asked": 1, "updated": 0, "failed": 1}
        qf_api.withdraw_consent(household=Household.objects.get(pk=martin.household.pk))
        consent = QFConsent.objects.get(household_id=martin.household.pk)
        assert consent.withdrawn_at is not None and consent.identity == {}
        assert qf_api.refresh_town(commune=castres) == {"asked": 0, "updated": 0, "failed": 0}
    assert household(martin).quotient_familial == 480


def test_the_refresh_is_a_periodic_job_of_the_towns_that_opt_in():
    from core.contributions import periodic_jobs

    job = next(j for j in periodic_jobs() if j.name == "families-qf-refresh")
    assert job.task == "families.tasks.refresh_qf_for_town"
    assert job.town_filter == {"config__api_particulier__refresh": True}
