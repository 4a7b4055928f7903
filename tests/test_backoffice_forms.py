"""The back-office's structured configuration forms (backoffice/config_views.py):
contacts, online payment (secrets by name only), tariffs (never retroactive)
and the town's e-mail texts. Every refusal is French, keeps the admin's input
and saves nothing (no ConfigVersion)."""

from __future__ import annotations

import copy
import datetime
import html

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from tenants.config import ConfigError
from tenants.models import Commune, ConfigVersion
from tenants.services import Actor, apply_town_config

pytestmark = pytest.mark.django_db
BASE = "/castres/gestion/configuration/"
# Billing's configuration pages are billing's (modules/billing/config_views.py).
BILLING = "/castres/billing/gestion/configuration/"


@pytest.fixture
def admin(castres_admin):
    return castres_admin


def _config():
    return Commune.objects.get(slug="castres").config


def _page(response) -> str:
    return html.unescape(response.content.decode())


# --- contacts -------------------------------------------------------------------------


def _contacts_post(**overrides):
    data = {
        "contact-label": "Espace Famille",
        "contact-phone": "05 63 62 43 44",
        "contact-email": "espace-famille@ville-castres.fr",
        "contact-address": "110 boulevard Maréchal Joffre, 81100 Castres",
        "contact-hours": "du lundi au vendredi, 8 h 30 – 17 h",
        "contacts-TOTAL_FORMS": "2",
        "contacts-INITIAL_FORMS": "2",
        "contacts-0-label": "Espace Famille (autres lignes)",
        "contacts-0-phone": "05 63 62 40 06",
        "contacts-1-label": "Ancien accueil",
        "contacts-1-phone": "05 63 62 40 07",
        "contacts-1-DELETE": "on",
        "message": "Horaires",
        "save": "1",
    }
    return {**data, **overrides}


def test_contacts_form_shows_and_saves_the_contacts_with_a_version(admin):
    page = _page(admin.get(BASE + "contacts/"))
    assert 'value="Espace Famille (autres lignes)"' in page and "Horaires d'accueil" in page
    versions = ConfigVersion.objects.count()
    response = admin.post(BASE + "contacts/", _contacts_post())
    assert response.status_code == 302, _page(response)[:2000]
    config = _config()
    assert config["contact"]["hours"] == "du lundi au vendredi, 8 h 30 – 17 h"
    assert config["contacts"] == [
        {"label": "Espace Famille (autres lignes)", "phone": "05 63 62 40 06"}
    ]
    assert ConfigVersion.objects.count() == versions + 1
    assert ConfigVersion.objects.filter(commune__slug="castres").first().message == "Horaires"


def test_contacts_form_puts_french_problems_next_to_the_fields_and_saves_nothing(admin):
    versions = ConfigVersion.objects.count()
    # Refused by the configuration's checks: the problem sits on its field.
    response = admin.post(BASE + "contacts/", _contacts_post(**{"contact-phone": "12"}))
    assert response.status_code == 422
    page = _page(response)
    assert 'id="id_contact-phone_error"' in page and "n'est pas un numéro de téléphone" in page
    assert 'value="12"' in page  # the admin's input is kept
    # Refused by the form: a filled row needs its name.
    response = admin.post(BASE + "contacts/", _contacts_post(**{"contacts-0-label": ""}))
    assert response.status_code == 422
    assert "Indiquez le nom du service de ce contact." in _page(response)
    assert ConfigVersion.objects.count() == versions
    assert _config()["contact"]["phone"] == "05 63 62 43 44"


def test_a_contact_without_phone_nor_email_is_refused(admin):
    response = admin.post(
        BASE + "contacts/", _contacts_post(**{"contact-phone": "", "contact-email": ""})
    )
    assert response.status_code == 422
    assert "indiquez au moins un téléphone ou un e-mail" in _page(response)


def test_add_a_row_without_javascript_saves_nothing(admin):
    versions = ConfigVersion.objects.count()
    data = _contacts_post()
    del data["save"]
    data["add_row"] = "1"
    response = admin.post(BASE + "contacts/", data)
    assert response.status_code == 200
    page = _page(response)
    assert 'name="contacts-TOTAL_FORMS" value="3"' in page and "Autre contact n° 3" in page
    assert ConfigVersion.objects.count() == versions


# --- payment --------------------------------------------------------------------------


def test_payment_form_shows_variable_names_never_a_secret(admin):
    page = _page(admin.get(BILLING + "paiement/"))
    assert "CASTRES_PAYZEN_SECRET_TEST" in page and 'value="00000000"' in page
    assert "jamais le secret lui-même" in page
    assert "n'est pas définie sur ce serveur" in page


def test_switching_provider_shows_its_fields_and_saves_nothing(admin):
    versions = ConfigVersion.objects.count()
    page = _page(admin.post(BILLING + "paiement/", {"provider": "paybox", "switch": "1"}))
    assert "Numéro de rang" in page and "Clé HMAC" in page and "vads_site_id" not in page
    assert ConfigVersion.objects.count() == versions


def test_payment_saves_a_provider_with_secret_names(admin):
    response = admin.post(
        BILLING + "paiement/",
        {
            "provider": "paybox",
            "option_site": "1999888",
            "option_rang": "32",
            "option_identifiant": "107904482",
            "option_platform": "prod",
            "secret_shared_secret": "CASTRES_PAYBOX_HMAC",
            "save": "1",
        },
    )
    assert response.status_code == 302, _page(response)[:3000]
    assert _config()["payment"] == {
        "provider": "paybox",
        "options": {
            "site": "1999888",
            "rang": "32",
            "identifiant": "107904482",
            "platform": "prod",
        },
        "secrets": {"shared_secret": "CASTRES_PAYBOX_HMAC"},
    }


@pytest.mark.parametrize(
    "value, words",
    [
        ("s3cr3t-v@leur", "jamais la valeur du secret"),  # the form's shape check
        ("A1B2C3D4E5F6G7H8J9K0", "ressemble à la valeur d'un secret"),  # the config's rule
    ],
)
def test_a_secret_value_is_refused_in_french_and_never_echoed(admin, value, words):
    versions = ConfigVersion.objects.count()
    response = admin.post(
        BILLING + "paiement/",
        {
            "provider": "payzen",
            "option_vads_site_id": "12345678",
            "secret_secret_test": value,
            "save": "1",
        },
    )
    assert response.status_code == 422
    assert words in _page(response)
    assert ConfigVersion.objects.count() == versions
    assert _config()["payment"]["secrets"]["secret_test"] == "CASTRES_PAYZEN_SECRET_TEST"


def test_the_validator_refuses_a_secret_written_as_an_option(castres):
    data = copy.deepcopy(castres.config)
    data["payment"]["options"]["secret_production"] = "une-valeur"
    data["payment"]["secrets"]["password"] = "CASTRES_X"
    with pytest.raises(ConfigError) as exc:
        apply_town_config(commune=castres, data=data, actor=Actor("x"))
    problems = {p.key: p.message for p in exc.value.problems}
    assert "est un secret : ne l'écrivez jamais" in problems["payment.options.secret_production"]
    assert "n'est pas un secret de ce prestataire" in problems["payment.secrets.password"]
    assert "une-valeur" not in str(exc.value)


# --- tariffs --------------------------------------------------------------------------


def _version_post(applies_from, **extra):
    data = {
        "applies_from": applies_from.isoformat(),
        "kind": "grid",
        "unit": "repas",
        "grid-TOTAL_FORMS": "3",
        "grid-INITIAL_FORMS": "0",
        "grid-0-up_to": "600",
        "grid-0-price": "1.10",
        "grid-1-up_to": "1000",
        "grid-1-price": "2.90",
        "grid-2-up_to": "",
        "grid-2-price": "4.20",
        "save": "1",
    }
    return {**data, **extra}


def test_tariffs_page_shows_versions_in_force_as_read_only(admin):
    page = _page(admin.get(BILLING + "tarifs/"))
    assert "en vigueur (non modifiable)" in page
    assert "Ajouter une version du tarif « Restauration scolaire »" in page
    assert 'value="20"' in page  # the non-resident surcharge


def test_a_new_grid_version_from_a_future_date_is_added(admin):
    day = timezone.localdate() + datetime.timedelta(days=40)
    response = admin.post(BILLING + "tarifs/accueil-matin/nouvelle-version/", _version_post(day))
    assert response.status_code == 302, _page(response)[:3000]
    versions = _config()["module_settings"]["billing"]["services"]["accueil-matin"]["versions"]
    assert versions[-1] == {
        "applies_from": day.isoformat(),
        "kind": "grid",
        "unit": "repas",
        "grid": [{"up_to": 600, "price": 1.1}, {"up_to": 1000, "price": 2.9}, {"price": 4.2}],
    }
    assert versions[0]["applies_from"] == "2025-09-01"  # the old one untouched
    page = _page(admin.get(BILLING + "tarifs/"))
    assert "à venir" in page
    # A version still to come can be withdrawn.
    response = admin.post(BILLING + f"tarifs/accueil-matin/versions/{day.isoformat()}/retirer/")
    assert response.status_code == 302
    versions = _config()["module_settings"]["billing"]["services"]["accueil-matin"]["versions"]
    assert [v["applies_from"] for v in versions] == ["2025-09-01"]


def test_retroactive_or_inconsistent_tariffs_are_refused_in_french(admin):
    versions = ConfigVersion.objects.count()
    today = timezone.localdate()
    response = admin.post(BILLING + "tarifs/accueil-matin/nouvelle-version/", _version_post(today))
    assert response.status_code == 422
    assert "jamais rétroactifs" in _page(response)
    later = today + datetime.timedelta(days=30)
    response = admin.post(
        BILLING + "tarifs/accueil-matin/nouvelle-version/",
        _version_post(later, **{"grid-1-up_to": "500"}),
    )
    assert response.status_code == 422
    assert "croissantes" in _page(response)
    response = admin.post(
        BILLING + "tarifs/alsh-mercredi/nouvelle-version/",
        _version_post(later, kind="effort_rate", rate_percent="1.2", floor="", ceiling="18"),
    )
    assert "obligatoire pour ce type de tarif" in _page(response)
    # An applied version cannot be withdrawn: billing's retroactivity check.
    admin.post(BILLING + "tarifs/accueil-matin/versions/2025-09-01/retirer/")
    assert ConfigVersion.objects.count() == versions
    assert "a déjà servi" in _page(admin.get(BILLING + "tarifs/"))


def test_simulation_uses_the_pricing_function_and_saves_nothing(admin):
    versions = ConfigVersion.objects.count()
    later = timezone.localdate() + datetime.timedelta(days=30)
    data = _version_post(later, simulate_qf="800")
    del data["save"]
    data["simulate"] = "1"
    page = _page(admin.post(BILLING + "tarifs/accueil-matin/nouvelle-version/", data))
    assert "Pour un quotient familial de 800 €" in page
    assert "tranche 2 (601–1" in page and "2,90 €" in page
    assert ConfigVersion.objects.count() == versions


def test_a_billed_service_settings_are_saved_with_a_version(admin, castres):
    page = _page(admin.get(BILLING + "tarifs/"))
    assert 'name="accueil-matin-sessions_per_month"' in page and 'value="16"' in page
    versions = ConfigVersion.objects.filter(commune=castres).count()
    response = admin.post(
        BILLING + "tarifs/accueil-matin/reglages/",
        {
            "accueil-matin-sessions_per_month": "12",
            "accueil-matin-quantity_per_booking": "1.5",
            "accueil-matin-message": "Accueil du matin",
        },
    )
    assert response.status_code == 302
    entry = _config()["module_settings"]["billing"]["services"]["accueil-matin"]
    assert entry["sessions_per_month"] == 12 and entry["quantity_per_booking"] == 1.5
    assert ConfigVersion.objects.filter(commune=castres).count() == versions + 1
    # Cleared: back to the defaults (1 per booking), the key leaves the config.
    admin.post(
        BILLING + "tarifs/accueil-matin/reglages/", {"accueil-matin-sessions_per_month": "12"}
    )
    assert (
        "quantity_per_booking"
        not in (_config()["module_settings"]["billing"]["services"]["accueil-matin"])
    )


@pytest.mark.parametrize(
    "field, value, words",
    [
        ("quantity_per_booking", "30", "inférieure ou égale à 24"),
        ("quantity_per_booking", "0", "supérieure ou égale à 0.01"),
        ("sessions_per_month", "-1", "supérieure ou égale à 0"),
        ("sessions_per_month", "douze", "Saisissez un nombre entier"),
    ],
)
def test_bad_service_settings_are_refused_in_french_and_nothing_saved(admin, field, value, words):
    before = _config()
    response = admin.post(
        BILLING + "tarifs/accueil-matin/reglages/", {f"accueil-matin-{field}": value}, follow=True
    )
    assert words in _page(response)
    assert _config() == before


def test_settings_of_a_service_without_tariff_is_404(admin):
    assert admin.post(BILLING + "tarifs/inconnu/reglages/", {}).status_code == 404


def test_billing_rules_form_saves_rules_and_invoicing(admin):
    data = {
        "sibling_2": "15",
        "sibling_3": "20",
        "non_resident_surcharge_percent": "25",
        "unjustified_percent": "100",
        "late_cancellation_percent": "50",
        "carence_days": "1",
        "payment_days": "30",
        "online_payment_opens_at": "09:30",
        "e_invoice": "on",
        "how_to_pay": "En ligne ou à l'Espace Famille.",
    }
    response = admin.post(BILLING + "tarifs/", data)
    assert response.status_code == 302
    billing = _config()["module_settings"]["billing"]
    assert billing["rules"]["sibling_reductions"] == {"2": 15, "3": 20}
    # Never retroactive: versions already in force keep the rules they were priced with.
    meals = billing["services"]["restauration-scolaire"]["versions"]
    assert meals[0]["sibling_reductions"] == {"2": 10, "3": 20}
    assert meals[0]["non_resident_surcharge_percent"] == 20
    assert meals[0]["absences"]["late_cancellation_percent"] == 100
    assert billing["rules"]["absences"]["late_cancellation_percent"] == 50
    assert billing["invoicing"]["payment_days"] == 30
    versions = ConfigVersion.objects.count()
    response = admin.post(BILLING + "tarifs/", {**data, "online_payment_opens_at": "9h30"})
    assert response.status_code == 422 and "HH:MM" in _page(response)
    assert ConfigVersion.objects.count() == versions


# --- e-mail texts ---------------------------------------------------------------------

EDITOR = BASE + "courriels/booking/email/offer.txt/"


def test_email_list_and_editor_show_default_text_and_variables(admin):
    page = _page(admin.get(BASE + "courriels/"))
    assert "Réservations — place proposée (liste d'attente)" in page
    page = _page(admin.get(EDITOR))
    assert "slot.activity.name" in page and "Elle vous est réservée" in page
    assert "{% load" not in page  # the editable default has no framing tag
    assert "Aperçu sur des données d'exemple" in page and "Léa" in page


def test_email_editor_previews_saves_and_reverts(admin, castres, bondoufle):
    body = "Bonjour, une place pour {{ child.first_name }} à {{ commune.name }}."
    page = _page(admin.post(EDITOR + "apercu/", {"subject": "", "body": body}))
    assert "une place pour Léa à Castres." in page
    versions = ConfigVersion.objects.count()
    response = admin.post(
        EDITOR, {"subject": "Place : {{ child.first_name }}", "body": body, "save": "1"}
    )
    assert response.status_code == 302, _page(response)[:3000]
    assert _config()["email_templates"] == {
        "booking/email/offer.txt": {"subject": "Place : {{ child.first_name }}", "body": body}
    }
    assert ConfigVersion.objects.count() == versions + 1
    assert "email_templates" not in Commune.objects.get(slug="bondoufle").config
    assert "propre à la commune" in _page(admin.get(BASE + "courriels/"))
    response = admin.post(EDITOR + "retablir/")
    assert response.status_code == 302
    assert "email_templates" not in _config()


def test_email_editor_refuses_an_unsafe_text_in_french_and_saves_nothing(admin):
    versions = ConfigVersion.objects.count()
    response = admin.post(
        EDITOR, {"subject": "", "body": "{% include 'x.html' %}{{ user.password }}", "save": "1"}
    )
    assert response.status_code == 422
    page = _page(response)
    assert "{% include %} n'est pas permise" in page
    assert ConfigVersion.objects.count() == versions
    assert "email_templates" not in _config()
    assert admin.get(BASE + "courriels/inconnu/x.txt/").status_code == 404


# --- YAML sections and the home chart ---------------------------------------------------


def test_no_yaml_text_is_left_to_edit(admin):
    for key in ("contact", "payment", "family_changes", "data_protection", "regies"):
        assert admin.get(BASE + f"sections/{key}/").status_code == 404
    page = _page(admin.get(BASE))
    assert "format YAML)" not in page
    assert "Textes des e-mails" in page and "Tarifs et règles de facturation" in page


def test_home_unpaid_chart_comes_from_billing_with_constant_queries(castres, admin):
    from modules.billing.testing import make_invoiced_family

    def count():
        with CaptureQueriesContext(connection) as ctx:
            response = admin.get("/castres/gestion/")
        assert response.status_code == 200
        return len(ctx.captured_queries), _page(response)

    with tenant_context(castres):
        make_invoiced_family(castres, last_name="Un")
    few, page = count()
    assert "Impayés" in page and "<svg" in page
    with tenant_context(castres):
        for name in ("Deux", "Trois", "Quatre"):
            make_invoiced_family(castres, last_name=name, run=False)
        from modules.billing import services
        from modules.billing.testing import billed_month, issue_day

        services.run_month(
            commune=castres,
            year=billed_month()[0],
            month=billed_month()[1],
            today=issue_day(),
            notify=False,
        )
    assert count()[0] == few
