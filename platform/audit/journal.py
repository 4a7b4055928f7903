"""Journal of access to families' personal data (RGPD art. 5.2 and 32: the town
must be able to show who consulted or changed what).

Any staff view that shows a family's data calls `record(...)`; the town's
data-protection officer (role town_admin) reads the journal on
/<commune>/gestion/journal-des-acces/. Automatic jobs (retention purge) record
with `actor=None`.

    from audit import journal
    journal.record(
        actor=request.user, action=journal.VIEW_DOCUMENT, household=doc.household, target=doc
    )
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from audit.models import AuditEntry

# Action codes and their French labels (shown to the DPO).
VIEW_DOCUMENT = "document.view"
DOWNLOAD_DOCUMENT = "document.download"
REVIEW_DOCUMENT = "document.review"
VIEW_FAMILY = "family.view"
VIEW_ERASURE_PLAN = "personal_data.erasure_plan"
ERASURE = "personal_data.erasure"
RETENTION_PURGE = "personal_data.retention_purge"
EXPORT = "personal_data.export"
ELIGIBILITY_OVERRIDE = "eligibility.override"
VIEW_HEALTH = "health.view"
UNLINK_FRANCECONNECT = "account.franceconnect_unlink"

LABELS = {
    VIEW_DOCUMENT: "consultation d'une pièce justificative",
    DOWNLOAD_DOCUMENT: "téléchargement d'une pièce justificative",
    REVIEW_DOCUMENT: "décision sur une pièce justificative",
    VIEW_FAMILY: "consultation du dossier d'une famille",
    VIEW_ERASURE_PLAN: "consultation du bilan d'effacement",
    ERASURE: "effacement des données d'une famille",
    RETENTION_PURGE: "purge automatique (durée de conservation dépassée)",
    EXPORT: "export de ses données par la famille",
    ELIGIBILITY_OVERRIDE: "dérogation aux conditions d'accueil (âge, résidence)",
    VIEW_HEALTH: "consultation des données de santé (liste du jour, pointage)",
    UNLINK_FRANCECONNECT: "liaison FranceConnect d'un compte retirée",
}


def record(*, actor, action: str, household=None, target=None, detail: dict | None = None):
    """Write one journal line (in the current town's schema)."""
    household_id = getattr(household, "pk", household)
    label = ""
    if actor is not None and getattr(actor, "is_authenticated", False):
        label = f"{actor.get_username()} ({actor.get_role_display()})"
    elif actor is None:
        label = "traitement automatique"
    return AuditEntry.objects.create(
        actor=actor if label and actor is not None else None,
        actor_label=label[:200],
        action=action,
        household_id=household_id,
        target=_target_label(target),
        detail=detail or {},
    )


def _target_label(target) -> str:
    if target is None:
        return ""
    if isinstance(target, str):
        return target[:120]
    return f"{target._meta.label}#{target.pk}"[:120]


def is_dpo(user) -> bool:
    """The town's data-protection officer reads the journal: its town admins."""
    return bool(user.is_authenticated and user.role == "town_admin")


def dpo_required(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_dpo(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped
