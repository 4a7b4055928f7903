"""ACCESS MATRIX of the town back-office: every URL of the `backoffice`
namespace against every kind of visitor. The expected status is declared next
to each URL name; a URL added without a line here fails the first test."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import URLPattern, get_resolver

from families.testing import login, make_family, make_staff

pytestmark = pytest.mark.django_db

ROLES = (
    "anonymous",
    "family",
    "agent_alsh",
    "agent_billing",
    "manager",
    "town_admin",
    "other_town_admin",
)
# Anonymous visitors and another town's staff (their session is unknown here)
# are sent to the sign-in page; families are refused.
OUT = {"anonymous": 302, "other_town_admin": 302, "family": 403}
STAFF = {**OUT, "agent_alsh": 200, "agent_billing": 200, "manager": 200, "town_admin": 200}
BILLING = {**STAFF, "agent_alsh": 403}
ADMIN = {**OUT, "agent_alsh": 403, "agent_billing": 403, "manager": 403, "town_admin": 200}
ADMIN_POST = {**ADMIN, "town_admin": 302}
# Staff acting for a family: an empty form goes back to the record (redirect).
STAFF_POST = {**OUT, "agent_alsh": 302, "agent_billing": 302, "manager": 302, "town_admin": 302}

URLS = {
    "backoffice:home": ("gestion/", "get", STAFF),
    "backoffice:families": ("gestion/familles/?q=alpha", "get", STAFF),
    "backoffice:family": ("gestion/familles/{household}/", "get", STAFF),
    "backoffice:family-act": ("gestion/familles/{household}/agir/", "post", STAFF_POST),
    "backoffice:family-franceconnect-unlink": (
        "gestion/familles/{household}/franceconnect/delier/",
        "post",
        STAFF_POST,
    ),
    "backoffice:styleguide": ("gestion/styleguide/", "get", STAFF),
    "backoffice:config-identity": ("gestion/configuration/identite/", "get", ADMIN),
    "backoffice:exports": ("gestion/exports/", "get", STAFF),
    "backoffice:export-families-csv": ("gestion/exports/familles.csv", "get", STAFF),
    "backoffice:export-families-xlsx": ("gestion/exports/familles.xlsx", "get", STAFF),
    "backoffice:export-demandes-csv": ("gestion/exports/demandes.csv", "get", STAFF),
    "backoffice:export-demandes-xlsx": ("gestion/exports/demandes.xlsx", "get", STAFF),
    "billing:staff-overview": ("billing/gestion/apercu/", "get", BILLING),
    "backoffice:config": ("gestion/configuration/", "get", ADMIN),
    "backoffice:config-modules": ("gestion/configuration/modules/", "get", ADMIN),
    "backoffice:config-service": (
        "gestion/configuration/services/restauration-scolaire/",
        "get",
        ADMIN,
    ),
    "backoffice:config-preview": (
        "gestion/configuration/services/restauration-scolaire/apercu/?rule=days_before&days=3&time=23:59",
        "get",
        ADMIN,
    ),
    "backoffice:config-service-options": (
        "gestion/configuration/services/restauration-scolaire/options/",
        "get",
        ADMIN,
    ),
    "backoffice:config-service-new": ("gestion/configuration/nouveau-service/", "get", ADMIN),
    "backoffice:config-service-retire": (
        "gestion/configuration/services/etudes-dirigees/retirer/",
        "post",
        ADMIN_POST,
    ),
    "billing:config-regies": ("billing/gestion/configuration/regies/", "get", ADMIN),
    "backoffice:config-town": ("gestion/configuration/commune/", "get", ADMIN),
    "backoffice:config-data-protection": (
        "gestion/configuration/donnees-personnelles/",
        "get",
        ADMIN,
    ),
    "backoffice:config-contacts": ("gestion/configuration/contacts/", "get", ADMIN),
    "billing:config-payment": ("billing/gestion/configuration/paiement/", "get", ADMIN),
    "billing:config-tariffs": ("billing/gestion/configuration/tarifs/", "get", ADMIN),
    "billing:config-tariff-settings": (
        "billing/gestion/configuration/tarifs/accueil-matin/reglages/",
        "post",
        ADMIN_POST,
    ),
    "billing:config-tariff-version": (
        "billing/gestion/configuration/tarifs/accueil-matin/nouvelle-version/",
        "get",
        ADMIN,
    ),
    # A version that does not exist: the admin gets a 404, everyone else is refused first.
    "billing:config-tariff-delete": (
        "billing/gestion/configuration/tarifs/accueil-matin/versions/2099-01-01/retirer/",
        "post",
        {**ADMIN, "town_admin": 404},
    ),
    "backoffice:config-emails": ("gestion/configuration/courriels/", "get", ADMIN),
    "backoffice:config-email": (
        "gestion/configuration/courriels/booking/email/offer.txt/",
        "get",
        ADMIN,
    ),
    "backoffice:config-email-preview": (
        "gestion/configuration/courriels/booking/email/offer.txt/apercu/?body=Bonjour",
        "get",
        ADMIN,
    ),
    # Nothing to revert: a redirect to the list, and no version written.
    "backoffice:config-email-revert": (
        "gestion/configuration/courriels/booking/email/offer.txt/retablir/",
        "post",
        ADMIN_POST,
    ),
    "backoffice:config-export": ("gestion/configuration/export.yaml", "get", ADMIN),
    # Taking over the families of the previous portal (issue #22). Nothing staged
    # and nothing imported: the admin's POSTs go back to the page.
    "backoffice:config-import": ("gestion/configuration/reprise/", "get", ADMIN),
    "backoffice:config-import-progress": (
        "gestion/configuration/reprise/avancement/",
        "get",
        ADMIN,
    ),
    "backoffice:config-import-apply": (
        "gestion/configuration/reprise/importer/",
        "post",
        ADMIN_POST,
    ),
    "backoffice:config-import-letters": (
        "gestion/configuration/reprise/lettres/",
        "post",
        ADMIN_POST,
    ),
    "backoffice:config-import-templates": (
        "gestion/configuration/reprise/modeles.zip",
        "get",
        ADMIN,
    ),
    "backoffice:history": ("gestion/configuration/historique/", "get", ADMIN),
    "backoffice:version": ("gestion/configuration/historique/1/", "get", ADMIN),
    "backoffice:version-export": ("gestion/configuration/historique/1/export.yaml", "get", ADMIN),
    "backoffice:version-restore": (
        "gestion/configuration/historique/1/restaurer/",
        "post",
        ADMIN_POST,
    ),
}


def test_every_backoffice_url_is_declared():
    def names(patterns, prefix):
        for p in patterns:
            if isinstance(p, URLPattern):
                yield prefix + p.name
            else:
                ns = f"{p.namespace}:" if p.namespace else ""
                yield from names(p.url_patterns, prefix + ns)

    found = {
        n
        for n in names(get_resolver("portal.urls_tenant").url_patterns, "")
        if n.startswith("backoffice:")
    }
    # Billing's configuration pages (its namespace) are checked here too.
    assert found == {n for n in URLS if n.startswith("backoffice:")}


@pytest.fixture
def people(castres, bondoufle):
    fam = make_family(castres, key="alpha", last_name="Alpha")
    users = {
        "family": (castres, fam.user),
        "agent_alsh": (castres, make_staff(castres, username="a-alsh", areas=["alsh"])),
        "agent_billing": (castres, make_staff(castres, username="a-billing", areas=["billing"])),
        "manager": (castres, make_staff(castres, username="resp", role="manager")),
        "town_admin": (castres, make_staff(castres, username="admin", role="town_admin")),
        "other_town_admin": (
            bondoufle,
            make_staff(bondoufle, username="admin-b", role="town_admin"),
        ),
    }
    clients = {"anonymous": Client()}
    for role, (commune, user) in users.items():
        clients[role] = Client()
        login(clients[role], commune, user)
    return fam, clients


def test_access_matrix(people):
    fam, clients = people
    failures = []
    for name, (template, method, expected) in URLS.items():
        url = "/castres/" + template.format(household=fam.household.pk)
        for role in ROLES:
            response = getattr(clients[role], method)(url)
            if response.status_code != expected[role]:
                failures.append((name, role, expected[role], response.status_code))
    assert not failures, failures


def test_another_town_admin_signed_in_there_sees_only_their_own_town(people, bondoufle):
    fam, clients = people
    # Bondoufle's admin, in Bondoufle: Castres' household id is unknown there.
    response = clients["other_town_admin"].get(
        f"/bondoufle/gestion/familles/{fam.household.pk + 100000}/"
    )
    assert response.status_code == 404
    assert clients["other_town_admin"].get("/bondoufle/gestion/configuration/").status_code == 200
