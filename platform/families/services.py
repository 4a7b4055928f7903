"""Write path of a family's data. One entry point, `request_change`, for every
change a family makes: applied at once, or turned into a request ("demande")
whose acceptance applies the very same function (families.rules decides which,
from the town's `family_changes` settings).

Payloads are plain JSON (dates as ISO strings): the same dict is applied now or
stored in `Demande.payload` and applied at acceptance, re-validated then.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import connection, transaction

from core import town_config
from demandes import handlers
from demandes.models import Demande
from demandes.services import submit_demande
from families import rules
from families.models import MAX_GUARDIANS, Adult, Child, EntourageMember, HealthSheet, Household
from families.validators import normalize_phone

ADDRESS_FIELDS = ("address_line", "postcode", "city")
CONTACT_FIELDS = ("email", "phone")
QF_FIELDS = (
    "quotient_familial",
    "qf_source",
    "qf_date",
    "allocataire_regime",
    "allocataire_number",
)
QF_API_FIELDS = ("quotient_familial", "qf_source", "qf_date", "qf_reference_month")
ENTOURAGE_FIELDS = (
    "first_name",
    "last_name",
    "relationship",
    "phone",
    "can_pick_up",
    "emergency_contact",
)
HEALTH_FIELDS = (
    "allergies",
    "diet",
    "pai",
    "pai_details",
    "vaccinations_up_to_date",
    "doctor_name",
    "doctor_phone",
    "photo_allowed",
    "may_leave_alone",
    "transport_allowed",
    "emergency_care_allowed",
)
CHILD_FIELDS = ("first_name", "last_name", "birth_date", "school", "school_class", "sex")
PHONE_FIELDS = frozenset({"phone", "doctor_phone"})


@dataclass(frozen=True)
class ChangeOutcome:
    applied: bool  # True: saved now; False: a request awaits the services
    demande: Demande | None = None

    @property
    def message(self) -> str:
        if self.applied:
            return "Vos modifications sont enregistrées."
        return (
            "Votre demande a été transmise aux services de la mairie : elle sera appliquée "
            "après validation. Vous pouvez la suivre dans « Mes demandes »."
        )


@dataclass(frozen=True)
class Change:
    code: str  # key of `family_changes` in the town's YAML, and the demande kind
    label: str  # French: the request's subject
    service_area: str  # which service validates it (accounts.User.Area)
    apply: Callable  # (household, payload, child, actor) -> None
    model: type
    fields: tuple[str, ...]


# --- applying a change (now, or when staff accept the request) -------------


def _assign(instance, payload: dict, fields: tuple[str, ...]) -> None:
    for name in fields:
        if name not in payload:
            continue
        value = payload[name]
        field = instance._meta.get_field(name)
        if value is None and not field.null:
            value = "" if field.get_internal_type() in ("CharField", "TextField") else value
        value = field.to_python(value)
        if name in PHONE_FIELDS and value:
            value = normalize_phone(value)
        setattr(instance, name, value)


def _save_valid(instance, **kwargs) -> None:
    instance.full_clean(**kwargs)
    instance.save()


def _adult_in(household: Household, adult_id) -> Adult:
    adult = household.adults.filter(pk=adult_id).first()
    if adult is None:
        raise ValidationError("Ce responsable légal ne fait pas partie du foyer.")
    return adult


def _apply_contacts(household, payload, child, actor):
    adult = _adult_in(household, payload.get("adult_id"))
    _assign(adult, payload, CONTACT_FIELDS)
    _save_valid(adult)


def _apply_address(household, payload, child, actor):
    household = Household.objects.select_for_update().get(pk=household.pk)
    _assign(household, payload, ADDRESS_FIELDS)
    _save_valid(household)


def _apply_quotient_familial(household, payload, child, actor):
    household = Household.objects.select_for_update().get(pk=household.pk)
    _assign(household, payload, QF_FIELDS)
    household.qf_reference_month = None  # a typed QF: the attestation's date says it
    _save_valid(household)


def _apply_quotient_familial_api(household, payload, child, actor):
    household = Household.objects.select_for_update().get(pk=household.pk)
    _assign(household, payload, QF_API_FIELDS)
    _save_valid(household)


def _apply_entourage_add(household, payload, child, actor):
    member = EntourageMember(household=household)
    _assign(member, payload, ENTOURAGE_FIELDS)
    _save_valid(member)


def _apply_entourage_remove(household, payload, child, actor):
    deleted, _ = household.entourage.filter(pk=payload.get("member_id")).delete()
    if not deleted:
        raise ValidationError("Cette personne ne fait déjà plus partie de l'entourage.")


def _apply_health_sheet(household, payload, child, actor):
    if child is None:
        raise ValidationError("La fiche sanitaire doit concerner un enfant.")
    sheet, _ = HealthSheet.objects.select_for_update().get_or_create(child=child)
    _assign(sheet, payload, HEALTH_FIELDS)
    _save_valid(sheet)


def _apply_child_add(household, payload, child, actor):
    guardian = _adult_in(household, payload.get("adult_id"))
    new = Child(household=household)
    _assign(new, payload, CHILD_FIELDS)
    _save_valid(new)
    new.guardians.add(guardian)
    HealthSheet.objects.create(child=new)


CHANGES: dict[str, Change] = {
    c.code: c
    for c in (
        Change(
            "contacts",
            "Changement de coordonnées",
            "billing",
            _apply_contacts,
            Adult,
            CONTACT_FIELDS,
        ),
        Change(
            "address", "Changement d'adresse", "billing", _apply_address, Household, ADDRESS_FIELDS
        ),
        Change(
            "quotient_familial",
            "Changement de quotient familial",
            "billing",
            _apply_quotient_familial,
            Household,
            QF_FIELDS,
        ),
        Change(
            "quotient_familial_api",
            "Quotient familial obtenu auprès de la CAF ou de la MSA",
            "billing",
            _apply_quotient_familial_api,
            Household,
            QF_API_FIELDS,
        ),
        Change(
            "entourage_add",
            "Ajout d'une personne à l'entourage",
            "periscolaire",
            _apply_entourage_add,
            EntourageMember,
            ENTOURAGE_FIELDS,
        ),
        Change(
            "entourage_remove",
            "Retrait d'une personne de l'entourage",
            "periscolaire",
            _apply_entourage_remove,
            EntourageMember,
            (),
        ),
        Change(
            "health_sheet",
            "Mise à jour de la fiche sanitaire",
            "periscolaire",
            _apply_health_sheet,
            HealthSheet,
            HEALTH_FIELDS,
        ),
        Change(
            "child_add", "Ajout d'un enfant", "periscolaire", _apply_child_add, Child, CHILD_FIELDS
        ),
    )
}
assert set(CHANGES) == set(rules.CHANGES)


# --- the entry point -------------------------------------------------------


def town_policy() -> dict:
    """The current town's `family_changes` settings (stored with its config)."""
    return town_config.section(connection.tenant, "family_changes") or {}


def jsonable(data: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, datetime.date) else v) for k, v in data.items()}


@transaction.atomic
def request_change(
    *, adult: Adult, change: str, payload: dict, child: Child | None = None, message: str = ""
) -> ChangeOutcome:
    """Apply `change` for this adult's household now, or file it as a request.

    `payload` was validated by a form or serializer; it is validated again by
    the models when applied (a request may wait while the data changes).
    """
    spec = CHANGES[change]
    payload = jsonable(payload)
    household = adult.household
    if rules.change_mode(change, town_policy()) == rules.DIRECT:
        spec.apply(household, payload, child, adult.user)
        return ChangeOutcome(applied=True)
    subject = spec.label + (f" — {child.first_name}" if child is not None else "")
    demande = submit_demande(
        kind=change,
        subject=subject,
        submitted_by=adult.user,
        household=household,
        child=child,
        payload=payload,
        service_area=spec.service_area,
        message=message,
    )
    return ChangeOutcome(applied=False, demande=demande)


@transaction.atomic
def add_guardian(*, child: Child, adult: Adult) -> None:
    """Make `adult` (maybe of another household: separated parents) a legal
    representative of `child`: two at most."""
    child = Child.objects.select_for_update().get(pk=child.pk)
    current = list(child.guardians.values_list("pk", flat=True))
    if adult.pk in current:
        return
    if len(current) >= MAX_GUARDIANS:
        raise ValidationError("Un enfant a au plus deux responsables légaux.")
    child.guardians.add(adult)


# --- requests: what staff accept --------------------------------------------


def _handler(spec: Change):
    def apply(demande: Demande, actor) -> None:
        if demande.household_id is None:
            raise ValidationError("Cette demande n'est rattachée à aucun foyer.")
        spec.apply(demande.household, demande.payload, demande.child, actor)

    return apply


def describe(demande: Demande) -> list[tuple[str, str]]:
    """What a family-change request asks, as (label, value) lines in French."""
    spec = CHANGES.get(demande.kind)
    if spec is None:
        return []
    payload = demande.payload
    if spec.code == "entourage_remove":
        return [("Personne à retirer", payload.get("name", ""))]
    lines = []
    for name in spec.fields:
        if name not in payload:
            continue
        field = spec.model._meta.get_field(name)
        value = payload[name]
        if isinstance(value, bool):
            shown = "oui" if value else "non"
        elif field.choices:
            shown = str(dict(field.flatchoices).get(value, value or "—"))
        elif name in ("birth_date", "qf_date", "qf_reference_month"):
            try:
                shown = datetime.date.fromisoformat(value).strftime("%d/%m/%Y") if value else "—"
            except (TypeError, ValueError):
                shown = str(value)
        else:
            shown = "—" if value in (None, "") else str(value)
        lines.append((str(field.verbose_name).capitalize(), shown))
    return lines


def register_handlers() -> None:
    for spec in CHANGES.values():
        handlers.register(spec.code, label=spec.label, apply=_handler(spec), describe=describe)


def child_health(child: Child) -> HealthSheet:
    try:
        return child.health
    except ObjectDoesNotExist:
        return HealthSheet(child=child)
