"""Payer rules of children of separated parents: reads and writes.

The rule itself is pure (payer_rules.py); this module reads the rows, names
the households (« foyer de Michel Lefort ») and writes a rule, set by staff
on the child's payment page or proposed by a parent through a request
(demandes kind "payer_rule", accepted by staff).
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction

from demandes import handlers
from demandes.services import submit_demande
from families.models import Child, Household

from . import payer_rules, selectors
from .models import PayerRule

DEMANDE_KIND = "payer_rule"


def child_households(child) -> list:
    """The households a child belongs to: its home household, then those of
    its other legal representatives (separated parents)."""

    ids = [child.household_id]
    for household_id in child.guardians.order_by("id").values_list("household_id", flat=True):
        if household_id not in ids:
            ids.append(household_id)
    found = Household.objects.in_bulk(ids)
    return [found[i] for i in ids if i in found]


def household_names(household_ids) -> dict[int, str]:
    """household id -> « foyer de Michel Lefort » (its payer's name)."""
    payers = selectors.payers_for_households(household_ids)
    return {
        hid: f"foyer de {adult.first_name} {adult.last_name}".strip()
        for hid, adult in payers.items()
    }


def rule_for(child) -> payer_rules.Rule | None:
    row = PayerRule.objects.filter(child=child).first()
    return row.as_rule() if row else None


def describe_rule(child) -> str:
    return describe_rules([child])[child.pk]


def describe_rules(children) -> dict[int, str]:
    """child id -> its rule in one French sentence; four queries whatever the
    number of children (the staff list)."""

    children = list(children)
    rules = selectors.payer_rules([c.pk for c in children])
    ids = {c.household_id for c in children}
    for rule in rules.values():
        ids |= {rule.household_a, rule.household_b} - {None}
    ids |= set(
        Child.guardians.through.objects.filter(child_id__in=[c.pk for c in children]).values_list(
            "adult__household_id", flat=True
        )
    )
    names = household_names(ids)
    return {c.pk: payer_rules.describe(rules.get(c.pk), names) for c in children}


def day_payers(children, start: date, end: date, bookings) -> dict[int, str]:
    """booking id -> « foyer de Michel Lefort » (or « foyer de X 60 %, foyer de Y
    40 % ») for the given bookings (Booking rows with slot and created_by's
    adult read), only for children that have a rule: for the others the
    calendar needs no "payé par" (their one household pays, as always)."""
    rules = selectors.payer_rules([c.pk for c in children])
    if not rules:
        return {}
    home = {c.pk: c.household_id for c in children}
    ids = set()
    for rule in rules.values():
        ids |= {rule.household_a, rule.household_b} - {None}
    names = household_names(ids)
    out = {}
    for booking in bookings:
        rule = rules.get(booking.child_id)
        if rule is None:
            continue
        adult = getattr(booking.created_by, "adult", None) if booking.created_by_id else None
        shares = payer_rules.payer_shares(
            rule,
            day=booking.slot.day,
            home_household=home.get(booking.child_id),
            booked_by_household=getattr(adult, "household_id", None),
        )
        out[booking.pk] = payer_text(shares, names)
    return out


def payer_text(shares, names: dict[int, str]) -> str:
    if len(shares) == 1:
        return names.get(shares[0].household_id, "foyer de l'enfant")
    return ", ".join(f"{names.get(s.household_id, 'autre foyer')} {s.percent:f} %" for s in shares)


def _clean(data: dict, households: list) -> payer_rules.Rule:
    ids = {h.pk for h in households}
    try:
        a = int(data.get("household_a") or 0)
        b = int(data["household_b"]) if data.get("household_b") else None
    except (TypeError, ValueError):
        raise ValidationError("Foyer inconnu.") from None
    if a not in ids or (b is not None and b not in ids):
        raise ValidationError("Choisissez des foyers de l'enfant.")
    kind = data.get("kind") or ""
    monday = data.get("reference_monday")
    if isinstance(monday, str):
        try:
            monday = date.fromisoformat(monday) if monday else None
        except ValueError:
            raise ValidationError("Date de la semaine de référence invalide.") from None
    try:
        weekdays = frozenset(int(d) for d in data.get("weekdays_a") or ())
        percent = int(data["percent_a"]) if data.get("percent_a") not in (None, "") else None
    except (TypeError, ValueError):
        raise ValidationError("Jours ou pourcentage invalides.") from None
    if b is None and kind not in (payer_rules.HOME, payer_rules.BOOKER):
        others = [i for i in ids if i != a]
        b = others[0] if len(others) == 1 else None
    rule = payer_rules.Rule(
        kind=kind,
        household_a=a,
        household_b=b,
        weekdays_a=weekdays,
        reference_monday=monday,
        percent_a=percent,
    )
    try:
        payer_rules.check_rule(rule)
    except payer_rules.RuleError as exc:
        raise ValidationError(str(exc)) from None
    return rule


@transaction.atomic
def set_payer_rule(*, child, data: dict, by) -> PayerRule:
    """Record the rule (staff, or a parent's accepted request). Days already
    invoiced are not changed: a rule applies to the invoices to come."""
    rule = _clean(data, child_households(child))
    row, _ = PayerRule.objects.update_or_create(
        child=child,
        defaults={
            "kind": rule.kind,
            "household_a_id": rule.household_a,
            "household_b_id": rule.household_b,
            "weekdays_a": sorted(rule.weekdays_a),
            "reference_monday": rule.reference_monday,
            "percent_a": rule.percent_a,
            "updated_by": by if getattr(by, "pk", None) else None,
        },
    )
    return row


def propose_payer_rule(*, child, household, data: dict, user):
    """A parent asks the town to record a rule (checked now, applied by staff)."""

    rule = _clean(data, child_households(child))
    payload = {
        "kind": rule.kind,
        "household_a": rule.household_a,
        "household_b": rule.household_b,
        "weekdays_a": sorted(rule.weekdays_a),
        "reference_monday": rule.reference_monday.isoformat() if rule.reference_monday else "",
        "percent_a": rule.percent_a,
    }
    return submit_demande(
        kind=DEMANDE_KIND,
        subject=f"Qui paie les journées de {child.first_name}",
        submitted_by=user,
        household=household,
        child=child,
        service_area="billing",
        payload=payload,
    )


def apply_from_demande(demande, actor) -> None:
    if demande.child_id is None:
        raise ValidationError("Cette demande ne concerne aucun enfant.")
    set_payer_rule(child=demande.child, data=demande.payload, by=actor)


def describe_demande(demande) -> list[tuple[str, str]]:
    payload = demande.payload or {}
    try:
        rule = payer_rules.Rule(
            kind=payload.get("kind", ""),
            household_a=int(payload.get("household_a") or 0),
            household_b=int(payload["household_b"]) if payload.get("household_b") else None,
            weekdays_a=frozenset(payload.get("weekdays_a") or ()),
            reference_monday=(
                date.fromisoformat(payload["reference_monday"])
                if payload.get("reference_monday")
                else None
            ),
            percent_a=payload.get("percent_a"),
        )
    except (TypeError, ValueError):
        return []
    names = household_names({rule.household_a, rule.household_b} - {None})
    return [("Règle proposée", payer_rules.describe(rule, names))]


def register_demande_kind() -> None:
    handlers.register(
        DEMANDE_KIND,
        label="Qui paie les journées (parents séparés)",
        apply=apply_from_demande,
        describe=describe_demande,
    )
