"""One configuration truth (docs/decisions/0006), end to end: the town admin
edits each section through the back-office (HTTP, the forms as the page shows
them), and after each edit the YAML export, the derived rows and the behaviour
(a page or a service that uses the section) agree."""

from __future__ import annotations

import datetime
import html

import lxml.html
import pytest
import yaml
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from booking.models import Activity
from core import town_config
from modules.billing.selectors import payment_settings
from modules.billing.services import gateway_for_town, town_settings
from notifications.outbox import render_mail
from tenants.models import Commune

pytestmark = pytest.mark.django_db
BASE = "/castres/gestion/configuration/"
BILLING = "/castres/billing/gestion/configuration/"


def _page(response) -> str:
    return html.unescape(response.content.decode())


def _form_values(client, url: str, field: str) -> dict[str, list[str]]:
    """What the page's form holding `field` would send as it stands."""
    response = client.get(url)
    assert response.status_code == 200, url
    for form in lxml.html.fromstring(response.content).forms:
        if field in form.inputs.keys():
            values: dict[str, list[str]] = {}
            for name, value in form.form_values():
                values.setdefault(name, []).append(value)
            return values
    raise AssertionError(f"no form with « {field} » on {url}")


def _edit(client, url: str, changes: dict, *, save: bool = True) -> None:
    values = _form_values(client, url, next(iter(changes)))
    values.update({k: v if isinstance(v, list) else [v] for k, v in changes.items()})
    if save:
        values["save"] = ["1"]
    response = client.post(url, values)
    assert response.status_code == 302, _page(response)[:4000]


def _export(client) -> dict:
    response = client.get(BASE + "export.yaml")
    assert response.status_code == 200
    data = yaml.safe_load(response.content.decode())
    # The export is the applied document, byte for byte what is versioned.
    assert data == Commune.objects.get(slug="castres").config
    return data


def _rows(castres, read):
    with tenant_context(castres):
        return read()


def test_each_section_edited_in_the_backoffice_agrees_in_export_rows_and_behaviour(
    castres, castres_admin, client
):
    admin = castres_admin

    # --- contacts: rows core.Contact, columns Commune.contact_*; the contacts page.
    _edit(admin, BASE + "contacts/", {"contact-phone": "05 63 00 00 01"})
    assert _export(admin)["contact"]["phone"] == "05 63 00 00 01"
    assert Commune.objects.get(slug="castres").contact_phone == "05 63 00 00 01"
    desks = _rows(castres, lambda: list(town_config.contacts()))
    assert desks[0].phone == "05 63 00 00 01"
    assert "05 63 00 00 01" in _page(client.get("/castres/contacts/"))

    # --- a service: rows core.Service; the town's home page and the public API.
    _edit(
        admin,
        BASE + "services/restauration-scolaire/",
        {"name": "Cantine des écoles", "message": "Nom du service"},
    )
    yaml_services = {s["code"]: s["name"] for s in _export(admin)["services"]}
    assert yaml_services["restauration-scolaire"] == "Cantine des écoles"
    rows = _rows(castres, lambda: dict(town_config.services().values_list("code", "name")))
    assert rows == yaml_services
    assert "Cantine des écoles" in _page(client.get("/castres/"))
    api = client.get("/castres/api/commune/").json()
    assert {s["code"]: s["name"] for s in api["services"]} == yaml_services

    # --- a service's sites and places: booking's activities derived from them.
    _edit(
        admin,
        BASE + "services/restauration-scolaire/options/",
        {"lieux-0-capacity": "130", "message": "Places"},
        save=False,
    )
    service = next(s for s in _export(admin)["services"] if s["code"] == "restauration-scolaire")
    site = service["options"]["sites"][0]
    assert site["capacity"] == 130
    activity = _rows(
        castres,
        lambda: Activity.objects.get(code=f"restauration-scolaire--{site['code']}"),
    )
    assert (activity.default_capacity, activity.is_active) == (130, True)

    # --- modules: column Commune.enabled_modules, services of a module switched
    # off; the module's pages answer 404, the API lists what is on.
    values = _form_values(admin, BASE + "modules/", "modules")
    kept = [m for m in values["modules"] if m != "petite_enfance"]
    assert len(kept) == len(values["modules"]) - 1
    _edit(admin, BASE + "modules/", {"modules": kept, "message": "Sans petite enfance"}, save=False)
    exported = _export(admin)
    assert exported["modules"] == kept
    assert Commune.objects.get(slug="castres").enabled_modules == kept
    active = _rows(castres, lambda: set(town_config.services().values_list("module", flat=True)))
    assert active <= set(kept) and "petite_enfance" not in active
    assert set(client.get("/castres/api/commune/").json()["modules"]) == set(kept)
    assert client.get("/castres/petite-enfance/conges/").status_code == 404

    # --- town settings (no derived rows but the aliases): the alias redirects.
    _edit(
        admin,
        BASE + "commune/",
        {"aliases": "ville-castres, guichet-castres", "activation_key_label": "clé Famille"},
        save=False,
    )
    exported = _export(admin)
    assert exported["aliases"] == ["ville-castres", "guichet-castres"]
    assert exported["accounts"] == {"activation_key_label": "clé Famille"}
    redirect = client.get("/guichet-castres/")
    assert redirect.status_code in (301, 302) and "/castres/" in redirect["Location"]
    assert "Votre clé Famille" in _page(client.get("/castres/compte/creer/"))

    # --- data protection (document only): the privacy page.
    _edit(
        admin,
        BASE + "donnees-personnelles/",
        {"dpo_name": "Délégué de test", "dpo_email": "dpd@ville-castres.fr"},
        save=False,
    )
    assert _export(admin)["data_protection"]["dpo"]["name"] == "Délégué de test"
    assert "Délégué de test" in _page(client.get("/castres/donnees-personnelles/"))

    # --- identity (document only): the favicon's colour.
    _edit(admin, BASE + "identite/", {"primary_color": "#7a1f5c"}, save=False)
    assert _export(admin)["identity"]["primary_color"] == "#7a1f5c"
    assert "#7a1f5c" in client.get("/castres/identite/favicon.svg").content.decode()

    # --- e-mail texts (document only): the town's text is the one sent.
    editor = BASE + "courriels/booking/email/offer.txt/"
    _edit(admin, editor, {"subject": "Place pour {{ child.first_name }}", "body": "Bonjour."})
    exported = _export(admin)
    assert exported["email_templates"]["booking/email/offer.txt"]["body"] == "Bonjour."
    with tenant_context(Commune.objects.get(slug="castres")):
        subject, body = render_mail(
            template="booking/email/offer.txt",
            subject="défaut",
            context={"child": {"first_name": "Léa"}},
        )
    assert (subject, body.strip()) == ("Place pour Léa", "Bonjour.")

    # --- online payment: row billing.PaymentSettings; the gateway built from it.
    response = admin.post(BILLING + "paiement/", {"provider": "dummy", "save": "1"})
    assert response.status_code == 302, _page(response)[:4000]
    payment = _export(admin)["payment"]
    assert payment["provider"] == "dummy" and not payment.get("secrets")
    row = _rows(castres, payment_settings)
    assert (row.kind, row.options, row.secret_env) == ("dummy", {}, {})
    with tenant_context(Commune.objects.get(slug="castres")):
        assert gateway_for_town().provider == "dummy"

    # --- tariffs (document only, services as rows): the public tariff page and
    # the prices the invoicing run uses.
    day = timezone.localdate() + datetime.timedelta(days=40)
    _edit(
        admin,
        BILLING + "tarifs/accueil-matin/nouvelle-version/",
        {
            "applies_from": day.isoformat(),
            "kind": "grid",
            "unit": "repas",
            "grid-TOTAL_FORMS": "1",
            "grid-INITIAL_FORMS": "0",
            "grid-0-up_to": "",
            "grid-0-price": "3.33",
        },
    )
    versions = _export(admin)["module_settings"]["billing"]["services"]["accueil-matin"]["versions"]
    assert versions[-1]["applies_from"] == day.isoformat()
    town = Commune.objects.get(slug="castres")
    with tenant_context(town):
        tariffs, _ = town_settings(town)
    assert str(tariffs.tariff("accueil-matin").versions[-1].applies_from) == day.isoformat()

    # --- billing's common rules and invoicing (document only): the due date.
    _edit(admin, BILLING + "tarifs/", {"payment_days": "31"}, save=False)
    assert _export(admin)["module_settings"]["billing"]["invoicing"]["payment_days"] == 31
    town = Commune.objects.get(slug="castres")
    with tenant_context(town):
        _, invoicing = town_settings(town)
    assert invoicing.due_date(datetime.date(2027, 1, 1)) == datetime.date(2027, 2, 1)

    # --- régies (document only, services as rows): the régie of a service.
    response = admin.post(
        BILLING + "regies/",
        {
            "what": "regies",
            "regies-TOTAL_FORMS": "1",
            "regies-INITIAL_FORMS": "0",
            "regies-0-code": "scolaire",
            "regies-0-name": "Régie scolaire",
            "regies-0-services": ["restauration-scolaire", "accueil-matin"],
        },
    )
    assert response.status_code == 302, _page(response)[:4000]
    regies = _export(admin)["module_settings"]["billing"]["regies"]
    assert regies[0]["services"] == ["restauration-scolaire", "accueil-matin"]
    town = Commune.objects.get(slug="castres")
    with tenant_context(town):
        _, invoicing = town_settings(town)
    assert invoicing.regie_for("accueil-matin").name == "Régie scolaire"

    # Every applied edit is one version; the document in force is the last one.
    town = Commune.objects.get(slug="castres")
    assert town.config_versions.first().digest == town.config_digest
    connection.set_schema_to_public()
