"""Write path of registrations (the annual "dossier" per child and service).

A service's `options.registration` decides: `auto` registrations are accepted
at once; `validation` ones (Chalonnes: "une validation par le service est
nécessaire", bookings open only after the confirmation e-mail) become a
request (`demandes`) that staff accept in their inbox — accepting it runs
`accept_from_demande` here. Required documents (`options.documents`) must come
with the request.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from audit import journal
from booking.catalogue import activity_eligibility, options_of
from booking.models import Activity, Registration, RegistrationDocument, Site
from booking.rules import eligibility_problem, is_resident, school_year_label
from booking.selectors import family_emails
from booking.services import portal_url
from core.uploads import ATTACHMENT_MAX_BYTES, check_upload
from demandes import handlers
from demandes import services as demande_services
from demandes.services import submit_demande
from documents.selectors import reusable_documents
from documents.services import store_checked_document
from notifications.outbox import queue_mail

DEMANDE_KIND = "inscription_service"


class RegistrationRefused(Exception):
    """The registration cannot be made; the message is French."""


def register_demande_kind() -> None:
    handlers.register(DEMANDE_KIND, label="Inscription à un service", apply=accept_from_demande)


def sites_of(service) -> list[Site]:
    return list(
        Site.objects.filter(activities__service=service, activities__is_active=True)
        .distinct()
        .order_by("name")
    )


@transaction.atomic
def request_registration(
    *,
    child,
    service,
    school_year: int,
    site: Site | None = None,
    documents: Mapping[str, object] | None = None,
    stored: Mapping[str, int] | None = None,
    user=None,
    now: datetime | None = None,
) -> Registration:
    """`documents`: new uploads by document code; `stored`: ids of the
    family's stored documents chosen instead (deposited once, used everywhere).
    A new upload is stored with the family's documents too."""
    now = now or timezone.now()
    documents = documents or {}
    stored = stored or {}
    opts = options_of(service)
    sites = sites_of(service)
    if site is None and len(sites) == 1:
        site = sites[0]
    if sites and site not in sites:
        raise RegistrationRefused("Choisissez le lieu d'accueil.")
    _forget_refused(child, service, school_year)
    existing = Registration.objects.filter(
        child=child,
        service=service,
        school_year=school_year,
        status__in=[Registration.Status.PENDING, Registration.Status.ACCEPTED],
    ).first()
    if existing is not None:
        what = (
            "est déjà inscrit(e)"
            if existing.status == Registration.Status.ACCEPTED
            else "a déjà une demande en cours"
        )
        raise RegistrationRefused(
            f"{child.first_name} {what} pour {service.name} ({school_year_label(school_year)})."
        )
    problem = eligibility_problem_at(
        child=child, service=service, site=site, school_year=school_year, now=now
    )
    if problem:
        raise RegistrationRefused(f"{child.first_name} ne peut pas être inscrit(e) : {problem}.")
    checked = {}
    reused = {}
    household = _family_household(user, child)
    for doc in opts.documents:
        upload = documents.get(doc.code)
        if upload is None and stored.get(doc.code):
            reused[doc.code] = (doc, _stored_document(household, doc, stored[doc.code], now))
            continue
        if upload is None:
            raise RegistrationRefused(f"Pièce manquante : {doc.label}.")
        try:
            checked[doc.code] = (doc, check_upload(upload, limit=ATTACHMENT_MAX_BYTES))
        except ValidationError as exc:
            raise RegistrationRefused(f"{doc.label} : {exc.messages[0]}") from None
    registration = Registration.objects.create(
        child=child,
        service=service,
        site=site,
        school_year=school_year,
        created_by=user,
        status=Registration.Status.PENDING
        if opts.needs_validation
        else Registration.Status.ACCEPTED,
        decided_at=None if opts.needs_validation else now,
    )
    for doc, info in checked.values():
        kept = _store_upload(household, doc, info, user=user, child=child)
        row = RegistrationDocument(
            registration=registration,
            document=kept,
            code=doc.code,
            label=doc.label,
            original_name=info.original_name,
            content_type=info.content_type,
            size=info.size,
        )
        if kept is not None:
            row.file.name = kept.file.name
        else:
            row.file.save(info.stored_name, info.as_file(), save=False)
        row.save()
    for doc, document in reused.values():
        RegistrationDocument.objects.create(
            registration=registration,
            document=document,
            code=doc.code,
            label=doc.label,
            file=document.file.name,
            original_name=(document.title or document.get_kind_display())[:120],
            content_type=document.content_type,
            size=document.size,
        )
    if opts.needs_validation:
        registration.demande = submit_demande(
            kind=DEMANDE_KIND,
            subject=f"Inscription de {child.first_name} {child.last_name} — {service.name} "
            f"({school_year_label(school_year)})",
            submitted_by=user,
            household=child.household,
            child=child,
            payload={
                "registration": registration.pk,
                "service": service.code,
                "school_year": school_year,
                "site": site.name if site else "",
                "documents": [d.label for d, _ in checked.values()],
            },
            service_area=service.module,
        )
        registration.save(update_fields=["demande"])
    _notify(registration)
    return registration


def _family_household(user, child):
    """The household whose stored documents a registration may use: the
    account's own (separated parents each have theirs), else the child's."""
    adult = getattr(user, "adult", None) if user is not None else None
    return adult.household if adult is not None else child.household


def _stored_document(household, doc, document_id, now):
    try:
        pk = int(document_id)
    except (TypeError, ValueError):
        raise RegistrationRefused(f"{doc.label} : document inconnu.") from None
    found = (
        reusable_documents(household, [doc.kind], today=timezone.localdate(now))
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise RegistrationRefused(
            f"{doc.label} : ce document n'est plus valable ou n'est pas du bon type ; "
            "choisissez-en un autre ou envoyez un nouveau fichier."
        )
    return found


def _store_upload(household, doc, info, *, user, child):
    """Keep a new registration paper with the family's documents (reused next
    time). None when the paper has no stored type."""
    if not doc.kind:
        return None

    try:
        return store_checked_document(
            household=household,
            uploaded_by=user,
            checked=info,
            kind=doc.kind,
            title=doc.label,
            child=child if child.household_id == household.pk else None,
        )
    except ValidationError as exc:
        raise RegistrationRefused(f"{doc.label} : {exc.messages[0]}") from None


def _forget_refused(child, service, school_year) -> None:
    """A pending registration whose request staff refused or the family withdrew
    (in the demandes inbox) follows its request."""
    for reg in Registration.objects.filter(
        child=child,
        service=service,
        school_year=school_year,
        status=Registration.Status.PENDING,
        demande__isnull=False,
    ).select_related("demande"):
        if reg.demande.status in ("refused", "cancelled"):
            reg.status = (
                Registration.Status.REFUSED
                if reg.demande.status == "refused"
                else Registration.Status.CANCELLED
            )
            reg.save(update_fields=["status"])


def eligibility_problem_at(*, child, service, site, school_year: int, now=None, activities=None):
    """The service's age, level and residence rules for `child` (French
    reason), or None: checked at the family's request AND again when staff
    accept it (the child's file or the rules may have changed since).
    `activities`: a cache {(service id, site id): Activity | None} for lists."""
    key = (service.pk, getattr(site, "pk", None))
    if activities is not None and key in activities:
        activity = activities[key]
    else:
        activity = (
            Activity.objects.filter(service=service, is_active=True, site=site)
            .select_related("service")
            .order_by("id")
            .first()
        )
        if activities is not None:
            activities[key] = activity
    if activity is None:
        return None
    first_day = date(school_year, 9, 1)
    return eligibility_problem(
        activity_eligibility(activity),
        birth_date=child.birth_date,
        school_level=getattr(child, "school_class", ""),
        on=max(first_day, timezone.localdate(now or timezone.now())),
        resident=household_resident(child.household),
    )


def accept_from_demande(demande, actor) -> None:
    """demandes handler: staff accepted the request in their inbox. A child
    outside the service's conditions is accepted only with a dérogation
    given on the service's page (staff_decide puts it on the request)."""

    registration = Registration.objects.select_for_update().filter(demande=demande).first()
    if registration is None:
        raise ValidationError("Inscription introuvable pour cette demande.")
    override = (demande.payload or {}).get("derogation") or ""
    try:
        decide_registration(
            registration=registration, accept=True, actor=actor, override_reason=override
        )
    except RegistrationRefused as exc:
        raise ValidationError(str(exc)) from None


@transaction.atomic
def decide_registration(
    *,
    registration: Registration,
    accept: bool,
    actor,
    now: datetime | None = None,
    override_reason: str = "",
) -> Registration:
    """Accepting re-checks the service's conditions (age, level, residence):
    a child outside them is accepted only with the reason of the dérogation,
    written to the town's access journal with who gave it."""
    registration = Registration.objects.select_for_update().get(pk=registration.pk)
    if registration.status != Registration.Status.PENDING:
        raise RegistrationRefused("Cette inscription a déjà été examinée.")
    if accept:
        problem = eligibility_problem_at(
            child=registration.child,
            service=registration.service,
            site=registration.site,
            school_year=registration.school_year,
            now=now,
        )
        override_reason = (override_reason or "").strip()
        if problem and not override_reason:
            raise RegistrationRefused(
                f"{registration.child.first_name} ne remplit pas les conditions du service "
                f"({problem}). Pour valider malgré tout, indiquez le motif de la dérogation "
                "sur la page « Inscriptions à valider » du service."
            )
        if problem:
            journal.record(
                actor=actor,
                action=journal.ELIGIBILITY_OVERRIDE,
                household=registration.child.household_id,
                target=registration,
                detail={
                    "condition": problem,
                    "motif": override_reason[:500],
                    "service": registration.service.name,
                },
            )
    registration.status = Registration.Status.ACCEPTED if accept else Registration.Status.REFUSED
    registration.decided_by = actor
    registration.decided_at = now or timezone.now()
    registration.save(update_fields=["status", "decided_by", "decided_at"])
    _notify(registration)
    return registration


def household_resident(household) -> bool | None:
    """Does the household live in the current town? None: its city is unknown."""
    return is_resident(household.city, connection.tenant.name)


@transaction.atomic
def register_by_staff(
    *, child, service, school_year: int, site=None, actor=None, now: datetime | None = None
) -> Registration:
    """Staff register a child directly (a crèche place given by the commission)."""
    registration, _ = Registration.objects.update_or_create(
        child=child,
        service=service,
        school_year=school_year,
        status__in=[Registration.Status.PENDING, Registration.Status.ACCEPTED],
        defaults={
            "status": Registration.Status.ACCEPTED,
            "site": site,
            "decided_by": actor,
            "decided_at": now or timezone.now(),
        },
    )
    return registration


def _notify(registration: Registration) -> None:
    child = registration.child
    to = family_emails([child.pk]).get(child.pk, [])
    if not to:
        return
    status = Registration.Status(registration.status).label
    queue_mail(
        to=to,
        subject=f"Inscription de {child.first_name} — {registration.service.name} : {status}",
        template="booking/email/registration.txt",
        context={
            "commune": connection.tenant,
            "registration": registration,
            "child": child,
            "portal_url": portal_url(),
        },
    )


@transaction.atomic
def staff_decide(
    *,
    registration: Registration,
    accept: bool,
    actor,
    message: str = "",
    now: datetime | None = None,
    override_reason: str = "",
) -> Registration:
    """Staff accept or refuse a registration from the service's page. With a
    request in the demandes inbox, the decision goes through it (its history
    and e-mail); accepting it validates the registration (accept_from_demande).
    `override_reason`: the dérogation for a child outside the conditions."""

    if not accept and not message.strip():
        raise RegistrationRefused("Indiquez le motif du refus : la famille a le droit de savoir.")
    if registration.status != Registration.Status.PENDING:
        raise RegistrationRefused("Cette inscription a déjà été examinée.")

    change_status = getattr(demande_services, "change_status", None)
    if registration.demande_id and change_status is not None:
        if accept and override_reason.strip():
            demande = registration.demande
            demande.payload = {**(demande.payload or {}), "derogation": override_reason.strip()}
            demande.save(update_fields=["payload"])
        try:
            change_status(
                demande=registration.demande,
                action="accept" if accept else "refuse",
                actor=actor,
                message=message,
            )
        except ValidationError as exc:
            raise RegistrationRefused(" ".join(exc.messages)) from None
        registration.refresh_from_db()
        if accept or registration.status != Registration.Status.PENDING:
            return registration
    return decide_registration(
        registration=registration,
        accept=accept,
        actor=actor,
        now=now,
        override_reason=override_reason,
    )
