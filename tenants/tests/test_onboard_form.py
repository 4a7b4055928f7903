"""Onboarding a town from the operator console's FORM (tenants.onboard_form):
the same configuration dict as a YAML, the same validation and write path,
French errors next to the fields, nothing created on any error."""

from datetime import timedelta

import pytest
import yaml
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from tenants.config import parse_yaml, schema_name_for, validate
from tenants.models import Commune, ConfigVersion, Domain
from tenants.onboard_form import TownForm, kind_choices, problem_field

URL = "/admin/tenants/commune/integrer/formulaire/"
pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(db):
    from accounts.models import User

    return User.objects.create_superuser(
        "ops-form", "ops@example.org", "un-mot-de-passe-operateur", role="operator"
    )


@pytest.fixture
def ops(operator):
    """A client of the operator with a verified second factor."""
    from accounts.testing import force_login_verified

    client = Client()
    force_login_verified(client, operator)
    return client


def form_data(**changes) -> dict:
    """What an operator submits: the form's initial values plus a town (a
    fictional one: INSEE 99xxx is not a real commune)."""
    form = TownForm()
    data = {}
    for name in form.fields:
        value = form[name].initial
        if value in (None, False):
            continue
        data[name] = value if not isinstance(value, list) else list(value)
    data.update(
        {
            "slug": "saint-formulaire",
            "name": "Saint-Formulaire",
            "insee_code": "99101",
            "department_code": "44",
            "department_name": "Loire-Atlantique",
            "school_holiday_zone": "B",
            "contact_label": "Mairie de Saint-Formulaire",
            "contact_phone": "02 40 00 00 00",
            "contact_email": "enfance@saint-formulaire.example",
            "contact_address": "1 place de la Mairie, 44000 Saint-Formulaire",
            "action": "onboard",
        }
    )
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def schema_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", [name])
        return cursor.fetchone() is not None


def nothing_created(slug="saint-formulaire"):
    connection.set_schema_to_public()
    return (
        not Commune.objects.filter(slug=slug).exists()
        and not Commune.objects.filter(insee_code="99101").exists()
        and not Domain.objects.filter(domain=slug).exists()
        and not schema_exists(schema_name_for(slug))
    )


def test_form_onboards_a_town_that_serves_with_bookable_services(
    ops, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = ops.post(
            URL,
            form_data(
                admin_email="dgs@saint-formulaire.example",
                admin_first_name="Dana",
                admin_last_name="G",
                svc_restauration_scolaire_rule="days_before",
                svc_restauration_scolaire_amount="3",
                svc_restauration_scolaire_site="École Jules Verne",
                svc_restauration_scolaire_capacity="2",
                svc_alsh_mercredi_rule="weekday_previous_week",
                svc_alsh_mercredi_weekday="monday",
                svc_transport_scolaire_create="",  # unticked: not created
            ),
        )
    commune = Commune.objects.get(slug="saint-formulaire")
    assert response.status_code == 302
    assert response["Location"] == f"/admin/tenants/commune/{commune.pk}/yaml/"
    assert commune.enabled_modules == ["periscolaire", "alsh", "petite_enfance", "billing"]
    assert commune.contact_email == "enfance@saint-formulaire.example"
    version = ConfigVersion.objects.get(commune=commune)
    assert version.source == "console" and "ops-form" in version.actor_display
    # The first admin is invited (the same console service as the "invite" action).
    assert [m.to for m in mail.outbox] == [["dgs@saint-formulaire.example"]]

    from booking.catalogue import activity_day_kinds
    from booking.models import Activity, Booking
    from booking.selectors import town_calendar
    from booking.services import book_days, open_days
    from core.models import Service
    from modules.billing.models import PaymentSettings
    from tests.factories import AdultFactory, ChildFactory, HouseholdFactory, UserFactory

    with tenant_context(commune):
        codes = set(Service.objects.filter(is_active=True).values_list("code", flat=True))
        expected = {k.service_code for k in kind_choices()} - {"transport-scolaire"}
        assert codes == expected
        meal = Service.objects.get(code="restauration-scolaire")
        assert meal.deadlines == {"booking": {"rule": "days_before", "days": 3, "time": "23:59"}}
        assert Service.objects.get(code="alsh-mercredi").deadlines["booking"] == {
            "rule": "weekday_previous_week",
            "weekday": "monday",
            "time": "23:59",
        }
        assert PaymentSettings.objects.get().kind == "dummy"
        activity = Activity.objects.get(code="restauration-scolaire--ecole-jules-verne")
        assert activity.default_capacity == 2 and activity.site.name == "École Jules Verne"
        # Bookable: open the coming weeks, a family books a day beyond the deadline.
        today = timezone.localdate()
        assert open_days(
            activity=activity,
            calendar=town_calendar(),
            start=today,
            end=today + timedelta(days=90),
            kinds=activity_day_kinds(activity),
        )
        day = activity.slots.filter(day__gte=today + timedelta(days=10)).order_by("day").first().day
        household = HouseholdFactory(name="Famille Test")
        user = UserFactory(username="test-form", email="famille@example.org")
        adult = AdultFactory(household=household, user=user)
        child = ChildFactory(
            household=household,
            first_name="Léo",
            guardians=[adult],
            birth_date=today - timedelta(days=7 * 365),
        )
        result = book_days(child=child, activity=activity, days=[day])
        assert [r.status for r in result.days] == ["booked"], result
        assert Booking.objects.filter(child=child, slot__day=day, status="booked").exists()
    connection.set_schema_to_public()
    page = ops.get("/saint-formulaire/")
    assert page.status_code == 200 and "Saint-Formulaire" in page.content.decode()
    api = ops.get("/saint-formulaire/api/commune/").json()
    assert "Restauration scolaire" in {s["name"] for s in api["services"]}


def test_the_form_builds_the_config_a_yaml_would(ops):
    form = TownForm(
        form_data(
            svc_creche_occasionnelle_rule="hours_before",
            svc_creche_occasionnelle_amount="48",
            payment_provider="none",
        )
    )
    assert form.is_valid(), form.errors
    config = form.config()
    assert validate(config, source="t").data == config
    # Its YAML text reads back as the same dict (then onboarding it is a no-op).
    from tenants.onboard_form import config_yaml

    text = config_yaml(config)
    assert "tenant_configs/saint-formulaire.yaml" in text.splitlines()[1]
    assert parse_yaml(text, source="t") == config
    creche = next(s for s in config["services"] if s["code"] == "creche-occasionnelle")
    assert creche["deadlines"] == {"booking": {"rule": "hours_before", "hours": 48}}
    assert config["payment"] == {"provider": "none"}
    assert config["department"] == {"code": "44", "name": "Loire-Atlantique"}


def test_download_gives_the_yaml_and_writes_nothing(ops):
    response = ops.post(URL, form_data(action="yaml"))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="saint-formulaire.yaml"'
    data = yaml.safe_load(response.content.decode())
    assert data["slug"] == "saint-formulaire" and data["insee_code"] == "99101"
    assert nothing_created()


def test_yaml_page_of_a_town_explains_how_to_commit_it(ops, castres):
    page = ops.get(f"/admin/tenants/commune/{castres.pk}/yaml/").content.decode()
    assert "git add tenant_configs/castres.yaml" in page
    text = ops.get(f"/admin/tenants/commune/{castres.pk}/yaml/?telecharger=1").content.decode()
    assert parse_yaml(text, source="t") == castres.config


BAD = {
    "duplicate slug": (
        {"slug": "castres"},
        "slug",
        "« castres » est déjà le chemin de la commune « Castres »",
    ),
    "alias of another town": (
        {"slug": "ville-castres"},
        "slug",
        "est déjà le chemin de la commune « castres »",
    ),
    "reserved slug": ({"slug": "admin"}, "slug", "« admin » est réservé par la plateforme"),
    "bad slug": ({"slug": "Saint Formulaire"}, "slug", "n'a pas le format attendu"),
    "bad INSEE": ({"insee_code": "4416"}, "insee_code", "« 4416 » n'a pas le format attendu"),
    "INSEE of another town": (
        {"insee_code": "81065"},
        "insee_code",
        "déjà utilisé par la commune « castres »",
    ),
    "bad department": ({"department_code": "x"}, "department_code", "n'a pas le format attendu"),
    "no module": ({"modules": []}, "modules", "Cochez au moins un module."),
    "no service": ({"modules": ["billing"]}, "modules", "Cochez au moins un service"),
    "invalid e-mail": (
        {"contact_email": "pas-un-email"},
        "contact_email",
        "« pas-un-email » n'est pas une adresse e-mail valide",
    ),
    "bad phone": (
        {"contact_phone": "12"},
        "contact_phone",
        "« 12 » n'est pas un numéro de téléphone",
    ),
    "no phone nor e-mail": (
        {"contact_phone": "", "contact_email": ""},
        "contact_phone",
        "indiquez au moins un téléphone ou un e-mail",
    ),
    "empty name": ({"name": ""}, "name", "Ce champ est obligatoire."),
    "payment without billing": (
        {"modules": ["periscolaire"]},
        "payment_provider",
        "le paiement en ligne demande le module « billing »",
    ),
    "empty service name": (
        {"svc_accueil_soir_name": "  "},
        "svc_accueil_soir_name",
        "ne doit pas être vide",
    ),
    "site without a usable name": (
        {"svc_accueil_soir_site": "!!"},
        "svc_accueil_soir_site",
        "n'a pas le format attendu",
    ),
    "deadline out of range": (
        {"svc_accueil_soir_amount": "400"},
        "svc_accueil_soir_amount",
        "doit être au plus 365",
    ),
    "missing deadline figure": (
        {"svc_accueil_soir_amount": ""},
        "svc_accueil_soir_amount",
        "Indiquez le nombre pour cette règle de délai.",
    ),
    "negative capacity": (
        {"svc_accueil_soir_capacity": "-1"},
        "svc_accueil_soir_capacity",
        "supérieure ou égale à 0",
    ),
    "invalid admin e-mail": (
        {"admin_email": "dgs@"},
        "admin_email",
        "Saisissez une adresse e-mail valide.",
    ),
    "admin without a name": (
        {"admin_email": "dgs@example.org"},
        "admin_first_name",
        "Indiquez le prénom et le nom",
    ),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_bad_input_shows_a_french_error_next_to_the_field_and_creates_nothing(case, ops, castres):
    changes, field, message = BAD[case]
    response = ops.post(URL, form_data(**changes))
    assert response.status_code == 200
    form = response.context["form"]
    assert any(message in e for e in form.errors.get(field, [])), form.errors
    page = response.content.decode()
    assert "Configuration refusée, rien n'a été créé" in page
    assert f'id="id_{field}_error"' in page  # shown next to its field (aria-describedby)
    assert nothing_created(changes.get("slug", "saint-formulaire")) or changes.get("slug") in (
        "castres",
        "ville-castres",
    )
    assert not Commune.objects.filter(insee_code="99101").exists()
    castres.refresh_from_db()
    assert (
        castres.name == "Castres"
        and ConfigVersion.objects.filter(commune__slug="castres").count() == 1
    )


def test_a_failed_invitation_leaves_no_town_behind(ops, monkeypatch):
    import tenants.console

    def boom(**kwargs):
        raise tenants.console.InviteError(
            "un compte existe déjà avec cette adresse dans cette commune."
        )

    monkeypatch.setattr(tenants.console, "invite_town_admin", boom)
    response = ops.post(
        URL, form_data(admin_email="dgs@example.org", admin_first_name="D", admin_last_name="G")
    )
    assert response.status_code == 200
    assert "un compte existe déjà" in response.context["form"].errors["admin_email"][0]
    assert nothing_created()


def test_every_problem_key_of_a_service_maps_to_its_field():
    kinds = kind_choices()
    first = kinds[0].prefix
    assert problem_field("services[0].name", kinds) == f"{first}_name"
    assert problem_field("services[0].options.sites[0].code", kinds) == f"{first}_site"
    assert problem_field("services[0].options.sites[0].capacity", kinds) == f"{first}_capacity"
    assert problem_field("services[0].deadlines.booking.days", kinds) == f"{first}_amount"
    assert problem_field("services[0].deadlines.booking.weekday", kinds) == f"{first}_weekday"
    assert problem_field("services[0].deadlines.booking.rule", kinds) == f"{first}_rule"
    assert problem_field("modules[1]", kinds) == "modules"
    assert problem_field("module_settings.billing", kinds) is None


def _staff_client(castres):
    from accounts.models import User
    from accounts.testing import force_login_verified

    with tenant_context(castres):
        admin = User.objects.create_user(
            "admin-form", "a@castres.example", "x" * 20, role="town_admin"
        )
    client = Client()
    force_login_verified(client, admin, castres)
    return client


def test_only_an_operator_with_a_verified_second_factor_reaches_the_form(operator, castres, family):
    from accounts.models import User

    anonymous = Client()
    unverified = Client()
    unverified.force_login(operator)  # password only, no TOTP in this session
    public_family = Client()
    public_family.force_login(
        User.objects.create_user("fam", "f@example.org", "x" * 20, role="family")
    )
    town_family = Client()
    with tenant_context(castres):
        town_family.force_login(family.user)
    connection.set_schema_to_public()
    town_staff = _staff_client(castres)
    for who, client in {
        "anonymous": anonymous,
        "operator without TOTP": unverified,
        "family": public_family,
        "Castres family": town_family,
        "Castres town admin": town_staff,
    }.items():
        for method in ("get", "post"):
            response = getattr(client, method)(URL, form_data() if method == "post" else None)
            assert response.status_code == 302, who
            assert response["Location"].startswith("/admin/login/"), (who, response["Location"])
        assert client.get(f"/admin/tenants/commune/{castres.pk}/yaml/").status_code == 302, who
    assert nothing_created()


def test_invite_action_from_the_console_links_to_the_town(
    ops, castres, django_capture_on_commit_callbacks
):
    # The console runs with the public urlconf: the link must still be the town's.
    with django_capture_on_commit_callbacks(execute=True):
        response = ops.post(
            f"/admin/tenants/commune/{castres.pk}/inviter/",
            {"email": "dgs@ville-castres.fr", "first_name": "Dana", "last_name": "G"},
        )
    assert response.status_code == 302
    assert "/castres/compte/reinitialiser/" in mail.outbox[-1].body


def test_the_exported_yaml_onboarded_by_the_command_is_unchanged(ops, tmp_path):
    from tenants.onboarding import onboard_files

    assert ops.post(URL, form_data()).status_code == 302
    commune = Commune.objects.get(slug="saint-formulaire")
    text = ops.get(f"/admin/tenants/commune/{commune.pk}/yaml/?telecharger=1").content.decode()
    path = tmp_path / "saint-formulaire.yaml"
    path.write_text(text, encoding="utf-8")
    [result] = onboard_files([path])
    assert not result.created and not result.changed
    assert ": inchangée en " in result.summary()


@pytest.mark.parametrize(
    "name, code",
    [("Groupe_scolaire", "groupe-scolaire"), ("École du Centre", "ecole-du-centre"), ("!!", "")],
)
def test_site_codes_follow_the_schema_pattern(name, code):
    from tenants.onboard_form import site_code

    assert site_code(name) == code
