"""Demo families for a town (`manage.py rundemo`): fictitious people only
(Faker fr_FR, seeded per town so every run shows the same names).

Three households: a couple with two children, separated parents sharing one
child (each household its own payer and quotient familial), a single parent.
Their requests go through the real services, in every status. Every date
is computed from today (children's ages, quotient dates), so the demo reads
the same whatever the day it is loaded on.

`load_martin` gives README's famille.martin (accounts.demo) its household,
« Famille Martin (démo) », and two children; `demo_households()` lists the
households every other demo loader fills (bookings, absences, invoices, documents).
"""

from __future__ import annotations

import datetime
import hashlib
import re

from django.db import connection, transaction
from django.db.models import Case, IntegerField, Q, Value, When
from django.utils import timezone
from django.utils.text import slugify
from faker import Faker

from accounts.demo import FAMILY_USERNAME
from accounts.models import User
from core import town_config
from demandes.services import change_status
from families.models import Adult, Child, EntourageMember, HealthSheet, Household, QFConsent
from families.services import add_guardian, request_change
from notifications.models import OutboxMessage

# Demo only, printed in README.md and docs/demo-accounts.md (the accounts of these households).
DEMO_PASSWORD = "demo-famille-2026"
MARTIN = "Famille Martin (démo)"  # the household of README's famille.martin (accounts.demo)
STAFF_USERNAME = "agent.demo"  # accounts.demo's agent (with its TOTP device), when loaded first
MARKER = "[démo]"  # in Household.name: a second run does nothing


def demo_households() -> list[Household]:
    """The fictitious households the demo fills: the « … [démo] » ones first,
    then README's Martin family (so a loader that adds a baby to the first
    household leaves the Martins with their two children)."""

    return list(
        Household.objects.filter(Q(name__endswith=MARKER) | Q(name=MARTIN))
        .annotate(
            martin=Case(
                When(name=MARTIN, then=Value(1)), default=Value(0), output_field=IntegerField()
            )
        )
        .order_by("martin", "pk")
    )


def born(years_at_rentree: int, month: int, day: int) -> datetime.date:
    """A birth date giving a child `years_at_rentree` years at this school
    year's rentrée (so a CM1 pupil stays in CM1 whatever today is)."""
    today = timezone.localdate()
    rentree = today.year if today.month >= 9 else today.year - 1
    return datetime.date(rentree - years_at_rentree, month, day)


def _martin_household(commune) -> None:
    """The « Famille Martin (démo) » household of accounts.demo's famille.martin
    (Claire); the other legal representative, Paul, has no account yet: staff
    can issue their activation key from /<town>/compte/agents/cles/."""
    family = User.objects.filter(username=FAMILY_USERNAME).first()
    if family is None or Adult.objects.filter(user=family).exists():
        return
    slug = connection.schema_name
    household = Household.objects.create(
        name=MARTIN, address_line="1 rue des Écoles", postcode="", city=commune.name
    )
    Adult.objects.create(
        household=household,
        user=family,
        first_name="Claire",
        last_name="Martin",
        email=family.email,
        phone="06 12 34 56 78",
    )
    Adult.objects.create(
        household=household,
        first_name="Paul",
        last_name="Martin",
        email=f"paul.martin@{slug}.example",
        phone="06 98 76 54 32",
    )


def load_martin(commune) -> None:
    """README's famille.martin: two children (CM1 and grande section) with their
    health sheets. Idempotent."""
    _martin_household(commune)
    household = Household.objects.filter(name=MARTIN).first()
    if household is None or household.children.exists():
        return
    claire = household.adults.exclude(user=None).order_by("pk").first()
    if claire is None:
        return
    if household.payer_id is None:
        household.payer = claire
        household.quotient_familial = 850
        household.qf_source = "caf"
        household.qf_date = timezone.localdate() - datetime.timedelta(days=120)
        household.allocataire_regime = "caf"
        household.allocataire_number = "1234567"
        household.postcode = _postcode(commune, Faker("fr_FR"))
        household.save()
    fake = Faker("fr_FR")
    fake.seed_instance(7)
    for first, years, birth, school, klass, sex in (
        ("Léa", 9, (3, 14), "École élémentaire Jean Moulin", "CM1", Child.Sex.FEMALE),
        ("Hugo", 5, (10, 2), "École maternelle Les Tilleuls", "GS", Child.Sex.MALE),
    ):
        child = _child(fake, household, claire, first, "Martin", born(years, *birth), school, klass)
        child.sex = sex
        child.save(update_fields=["sex"])
        child.guardians.add(*household.adults.all())


def load(commune) -> None:
    """Create the demo families in the current town's schema (idempotent)."""
    load_martin(commune)
    if Household.objects.filter(name__endswith=MARKER).exists():
        return
    seed = int(hashlib.sha256(commune.slug.encode()).hexdigest()[:8], 16)
    fake = Faker("fr_FR")
    fake.seed_instance(seed)
    with transaction.atomic():
        started = timezone.now()
        staff = User.objects.filter(username=STAFF_USERNAME).first() or _user(
            STAFF_USERNAME,
            f"agent.demo@{commune.slug}.example",
            "Agent",
            "Démo",
            role=User.Role.MANAGER,
        )
        _couple(fake, commune, staff)
        _separated(fake, commune, staff)
        _single(fake, commune, staff)
        # Demo e-mails are not sent: mark the outbox rows of this load as sent.

        OutboxMessage.objects.filter(created_at__gte=started).update(sent_at=timezone.now())


def _user(username, email, first, last, role=User.Role.FAMILY):
    user = User.objects.create_user(
        username=username,
        email=email,
        password=DEMO_PASSWORD,
        first_name=first,
        last_name=last,
        role=role,
    )
    return user


def _household(fake, commune, last_name, qf):
    return Household.objects.create(
        name=f"Famille {last_name} {MARKER}",
        address_line=fake.street_address(),
        postcode=fake.numerify("#####"),
        city=commune.name,
        allocataire_regime="caf",
        allocataire_number=fake.numerify("#######"),
        quotient_familial=qf,
        qf_source="caf",
        qf_date=timezone.localdate() - datetime.timedelta(days=330),
    )


def _postcode(commune, fake) -> str:
    """The town's own postcode when its contact address gives one (Castres: 81100)."""
    found = re.search(r"\b\d{5}\b", commune.contact_address or "")
    return found.group(0) if found else fake.postcode()


def _adult(fake, household, first, last, *, account=True, payer=False):
    local = f"{slugify(first)}.{slugify(last)}.{household.pk}"
    email = f"{local}@example.org"
    # famille.demo.1 … famille.demo.4, in the order the households are made
    # (README.md lists them, password DEMO_PASSWORD).
    number = User.objects.filter(username__startswith="famille.demo.").count() + 1
    user = _user(f"famille.demo.{number}", email, first, last) if account else None
    adult = Adult.objects.create(
        household=household,
        user=user,
        first_name=first,
        last_name=last,
        email=email,
        phone=fake.numerify("06 ## ## ## ##"),
    )
    if payer:
        household.payer = adult
        household.save(update_fields=["payer"])
    return adult


def _child(fake, household, guardian, first, last, birth, school, klass, **health):
    child = Child.objects.create(
        household=household,
        first_name=first,
        last_name=last,
        birth_date=birth,
        school=school,
        school_class=klass,
    )
    child.guardians.add(guardian)
    HealthSheet.objects.create(
        child=child,
        vaccinations_up_to_date=True,
        photo_allowed=True,
        emergency_care_allowed=True,
        doctor_name=f"Dr {fake.last_name()}",
        doctor_phone=fake.numerify("05 ## ## ## ##"),
        **health,
    )
    return child


def _entourage(fake, household, relationship, **roles):
    EntourageMember.objects.create(
        household=household,
        first_name=fake.first_name(),
        last_name=fake.last_name(),
        relationship=relationship,
        phone=fake.numerify("06 ## ## ## ##"),
        **roles,
    )


def _qf(adult, qf):
    return request_change(
        adult=adult,
        change="quotient_familial",
        payload={
            "quotient_familial": qf,
            "qf_source": "caf",
            "qf_date": (timezone.localdate() - datetime.timedelta(days=90)).isoformat(),
            "allocataire_regime": "caf",
            "allocataire_number": adult.household.allocataire_number,
        },
    ).demande


def _couple(fake, commune, staff):
    last = fake.last_name()
    household = _household(fake, commune, last, 720)
    mother = _adult(fake, household, fake.first_name_female(), last, payer=True)
    if town_config.section(commune, "api_particulier"):
        # The couple's QF came from the CAF through API Particulier, with consent:
        # staff see its source and date on the family's record.
        QFConsent.objects.create(household=household, adult=mother, text=QFConsent.TEXT)
        fetched = timezone.localdate() - datetime.timedelta(days=20)
        household.qf_source = Household.QFSource.API_CAF
        household.qf_date = fetched
        household.qf_reference_month = fetched.replace(day=1)
        household.save(update_fields=["qf_source", "qf_date", "qf_reference_month"])
    _adult(fake, household, fake.first_name_male(), last, account=False)
    _child(
        fake,
        household,
        mother,
        fake.first_name_female(),
        last,
        born(9, 4, 12),
        "École élémentaire Jean Moulin",
        "CM1",
        allergies="arachide",
        pai=True,
        pai_details="Trousse d'urgence à l'accueil.",
        diet="medical",
    )
    _child(
        fake,
        household,
        mother,
        fake.first_name_male(),
        last,
        born(4, 9, 3),
        "École maternelle Les Tilleuls",
        "MS",
        may_leave_alone=False,
    )
    _entourage(fake, household, "grand-mère", can_pick_up=True, emergency_contact=True)
    _entourage(fake, household, "voisin", can_pick_up=True)
    accepted = _qf(mother, 680)
    change_status(demande=accepted, action="start_review", actor=staff)
    change_status(
        demande=accepted, action="accept", actor=staff, message="Attestation CAF vérifiée."
    )
    request_change(
        adult=mother,
        change="child_add",
        payload={
            "first_name": fake.first_name_female(),
            "last_name": last,
            "birth_date": (timezone.localdate() - datetime.timedelta(days=540)).isoformat(),
            "adult_id": mother.pk,
        },
    )


def _separated(fake, commune, staff):
    mother_last, father_last = fake.last_name(), fake.last_name()
    home_a = _household(fake, commune, mother_last, 540)
    home_b = _household(fake, commune, father_last, 1150)
    mother = _adult(fake, home_a, fake.first_name_female(), mother_last, payer=True)
    father = _adult(fake, home_b, fake.first_name_male(), father_last, payer=True)
    child = _child(
        fake,
        home_a,
        mother,
        fake.first_name_male(),
        father_last,
        born(10, 2, 20),
        "École élémentaire Jean Moulin",
        "CM2",
    )
    add_guardian(child=child, adult=father)  # each parent sees the child from his own household
    _entourage(fake, home_b, "compagne du père", emergency_contact=True)
    in_review = _qf(father, 1090)
    change_status(demande=in_review, action="start_review", actor=staff)


def _single(fake, commune, staff):
    last = fake.last_name()
    household = _household(fake, commune, last, 410)
    father = _adult(fake, household, fake.first_name_male(), last, payer=True)
    _child(
        fake,
        household,
        father,
        fake.first_name_female(),
        last,
        born(6, 11, 5),
        "École primaire Pasteur",
        "CP",
        diet="sans_viande",
        transport_allowed=True,
    )
    _entourage(fake, household, "tante", can_pick_up=True, emergency_contact=True)
    refused = _qf(father, 390)
    change_status(
        demande=refused,
        action="refuse",
        actor=staff,
        message="L'attestation jointe date de plus de trois mois : merci d'en envoyer une récente.",
    )
    cancelled = _qf(father, 395)
    change_status(demande=cancelled, action="cancel", actor=father.user)
