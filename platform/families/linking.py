"""Linking an account to a family file: where accounts (users, activation keys)
meet the families and their requests (demandes). It lives here, above both:
accounts owns the user and its keys and knows nothing of family files.

- an account with no family file and no key asks the town to link it (a
  `link_account` request, with the children it declares), when its address is
  confirmed (accounts' `unlinked_account_confirmed` signal) or from « Déclarer
  mes enfants »;
- accepting that request links the account to a legal representative, or
  creates the family file with the declared children;
- staff list the legal representatives without an account, to give them a key.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q
from django.shortcuts import get_object_or_404

from accounts import services as accounts
from accounts.models import ActivationKey, User
from demandes import handlers
from demandes.services import submit_demande
from families.models import Adult, Child, Household

LINK_ACCOUNT = "link_account"


def register() -> None:
    """Called from FamiliesConfig.ready: what accepting a `link_account` does."""
    handlers.register(
        LINK_ACCOUNT, label="Rattacher mon compte à mon dossier famille", apply=apply_link_account
    )


def on_unlinked_account_confirmed(sender, user, **kwargs) -> None:
    """A new account confirmed its address without a key: staff are asked to link it."""
    submit_link_request(user=user)


def submit_link_request(*, user, children=()) -> None:
    """Castres: "si vous possédiez déjà un compte, vous devrez demander votre
    code personnel". Without a key, the account asks staff to link it;
    « Déclarer mes enfants » sends the children with it (first name, last name,
    ISO birth date): accepting the request creates them in the new file."""
    children = [
        {"first_name": c["first_name"], "last_name": c["last_name"], "birth_date": c["birth_date"]}
        for c in children
    ]
    subject = f"Rattacher le compte de {user.first_name} {user.last_name} à son dossier famille"
    if children:
        subject = f"Déclaration de {len(children)} enfant(s) par {user.first_name} {user.last_name}"
    submit_demande(
        kind=LINK_ACCOUNT,
        subject=subject,
        submitted_by=user,
        payload={
            "children": children,
            "declared": {
                "first_name": user.first_name,
                "last_name": user.last_name,
                "email": user.email,
                "phone": user.phone,
                "address_line": user.address_line,
                "postcode": user.postcode,
                "city": user.city,
            },
        },
    )


def apply_link_account(demande, actor) -> None:
    """Accepting a `link_account` request. Staff put the chosen legal
    representative in `payload["adult_id"]` (or `payload["create_household"]`
    for a family the town does not know yet)."""
    payload = demande.payload or {}
    user = User.objects.select_for_update().filter(pk=demande.submitted_by_id).first()
    if user is None or not user.is_active:
        raise ValidationError(
            "Le compte à l'origine de cette demande n'existe plus ou est désactivé."
        )
    if Adult.objects.filter(user=user).exists():
        raise ValidationError("Ce compte est déjà rattaché à un responsable légal.")
    if payload.get("adult_id"):
        adult = Adult.objects.select_for_update().filter(pk=payload["adult_id"]).first()
        if adult is None:
            raise ValidationError("Ce responsable légal n'existe pas dans cette commune.")
        if adult.user_id:
            raise ValidationError("Ce responsable légal a déjà un compte.")
    elif payload.get("create_household"):
        household = Household.objects.create(
            name=f"Famille {user.last_name}",
            address_line=user.address_line,
            postcode=user.postcode,
            city=user.city,
        )
        adult = Adult(
            household=household,
            first_name=user.first_name,
            last_name=user.last_name,
            email=user.email,
            phone=user.phone,
        )
    else:
        raise ValidationError("Choisissez le responsable légal auquel rattacher ce compte.")
    adult.user = user
    adult.save()
    _create_declared_children(adult, payload.get("children") or [])
    accounts.account_linked(user=user, adult=adult)


def _create_declared_children(adult, declared) -> None:
    """The children a family declared with its request (« Déclarer mes
    enfants »), created in its file with the account's adult as their legal
    representative; a child already in the file (same names and birth date) is
    not created twice."""
    for c in declared:
        try:
            born = date.fromisoformat(c.get("birth_date", ""))
        except ValueError:
            raise ValidationError(
                f"Date de naissance illisible pour {c.get('first_name', '')} : corrigez la demande."
            ) from None
        child, _ = Child.objects.get_or_create(
            household=adult.household,
            first_name=c.get("first_name", "").strip()[:80],
            last_name=c.get("last_name", "").strip()[:80],
            birth_date=born,
        )
        child.guardians.add(adult)


# --- reads: legal representatives without an account (staff hand them a key) ---------


def adults_without_account(*, query: str = ""):
    qs = (
        Adult.objects.filter(user__isnull=True)
        .select_related("household")
        .prefetch_related(
            Prefetch(
                "activation_keys",
                queryset=ActivationKey.objects.order_by("-created_at", "-id"),
                to_attr="keys",
            )
        )
    )
    if query:
        qs = qs.filter(
            Q(last_name__icontains=query)
            | Q(first_name__icontains=query)
            | Q(household__name__icontains=query)
        )
    return qs.order_by("last_name", "first_name", "id")


def adult_without_account(*, adult_id: int):
    return get_object_or_404(
        Adult.objects.filter(user__isnull=True).select_related("household"), pk=adult_id
    )
