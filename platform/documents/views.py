"""Pages: a family's documents, vault and personal data; staff review of documents.

Family pages resolve the household from the signed-in account (never from the
URL) and answer 404 to anyone else, staff included; private pages are never
cached (`never_cache`: Cache-Control no-store).
"""

from __future__ import annotations

import io
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.permissions import staff_required
from audit import journal
from core import filetypes
from core.access import FAMILY_OBJECT, FAMILY_PAGE, GET_POST, POST, PUBLIC, STAFF, access
from demandes.models import Demande
from demandes.services import submit_demande
from documents import editions, personal_data, rules, selectors, services
from documents.editions import EditionUnavailable
from documents.forms import (
    AttachForm,
    DocumentUploadForm,
    ErasureForm,
    ReviewForm,
    VaultShareForm,
    VaultUploadForm,
)
from documents.models import Document
from documents.vault import VaultError
from families.models import Household


def family_only(view):
    """Signed-in family accounts only; the household comes from the account."""

    @wraps(view)
    @login_required
    @never_cache
    def wrapped(request, *args, **kwargs):
        household = selectors.household_of(request.user)
        if household is None:
            raise Http404("Cette page est réservée aux familles.")
        return view(request, household, *args, **kwargs)

    return wrapped


def attachment(
    content, *, filename: str, content_type: str, inline: bool = False, private: bool = True
) -> FileResponse:
    """A file browsers never sniff nor run (security.md: uploads): an attachment
    unless `inline` (re-encoded images only), never cached when `private`."""
    if isinstance(content, bytes):
        content = io.BytesIO(content)
    response = FileResponse(
        content, as_attachment=not inline, filename=filename, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    if private:
        response["Cache-Control"] = "no-store, private"
    return response


def _document_file(document: Document) -> FileResponse:
    ext = document.file.name.rsplit(".", 1)[-1]
    return attachment(
        document.file.open("rb"),
        filename=filetypes.download_name(document.label, ext),
        content_type=document.content_type,
    )


def _add_errors(form, error: ValidationError, field: str | None = None) -> None:
    for message in error.messages:
        form.add_error(field, message)


# --- family: supporting documents ------------------------------------------------


@access(FAMILY_PAGE, methods=GET_POST)
@family_only
def document_list(request, household):
    children = selectors.family_children(household)
    form = DocumentUploadForm(children=children)
    status = 200
    if request.method == "POST":
        form = DocumentUploadForm(request.POST, request.FILES, children=children)
        if form.is_valid():
            try:
                services.upload_document(
                    household=household,
                    uploaded_by=request.user,
                    uploaded_file=form.cleaned_data["file"],
                    kind=form.cleaned_data["kind"],
                    title=form.cleaned_data["title"],
                    child=form.cleaned_data["child"],
                    issued_on=form.cleaned_data["issued_on"],
                    valid_until=form.cleaned_data["valid_until"],
                )
            except ValidationError as exc:
                _add_errors(form, exc, "file")
            else:
                messages.success(
                    request,
                    "Votre document a été déposé. Les services de la commune vont le vérifier.",
                )
                return redirect("documents:list")
        status = 400
    today = timezone.localdate()
    documents = [
        (d, rules.expiry_state(d.valid_until, today)) for d in selectors.family_documents(household)
    ]
    return render(
        request,
        "documents/list.html",
        {
            "form": form,
            "documents": documents,
            "usage": filetypes.human_size(selectors.documents_usage(household)),
        },
        status=status,
    )


@access(FAMILY_OBJECT, methods=GET_POST, pk="document")
@family_only
def document_detail(request, household, pk):
    document = selectors.family_document(household, pk)
    open_demandes = selectors.family_demandes(household).exclude(
        status__in=services.CLOSED_DEMANDE_STATUSES
    )
    form = AttachForm(demandes=open_demandes)
    status = 200
    if request.method == "POST":
        form = AttachForm(request.POST, demandes=open_demandes)
        if form.is_valid():
            try:
                services.attach_document(
                    document=document, demande=form.cleaned_data["demande"], user=request.user
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, "Le document est joint à votre demande.")
                return redirect("documents:detail", pk=document.pk)
        status = 400
    return render(
        request,
        "documents/detail.html",
        {
            "document": document,
            "form": form,
            "uses": selectors.documents_in_use(document),
            "has_open_demandes": open_demandes.exists(),
            "expiry": rules.expiry_state(document.valid_until, timezone.localdate()),
        },
        status=status,
    )


@access(FAMILY_OBJECT, pk="document")
@family_only
def document_download(request, household, pk):
    return _document_file(selectors.family_document(household, pk))


@access(FAMILY_OBJECT, methods=POST, pk="document")
@family_only
@require_POST
def document_delete(request, household, pk):
    document = selectors.family_document(household, pk)
    try:
        services.delete_document(document=document)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("documents:detail", pk=document.pk)
    messages.success(request, "Le document a été supprimé.")
    return redirect("documents:list")


# --- family: private vault ------------------------------------------------------


@access(FAMILY_PAGE, methods=GET_POST)
@family_only
def vault(request, household):
    form = VaultUploadForm()
    status = 200
    if request.method == "POST":
        form = VaultUploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.vault_store(
                    household=household,
                    uploaded_file=form.cleaned_data["file"],
                    title=form.cleaned_data["title"],
                )
            except ValidationError as exc:
                _add_errors(form, exc, "file")
            else:
                messages.success(request, "Le document est rangé dans votre coffre-fort.")
                return redirect("documents:vault")
        status = 400
    items = services.vault_listing(household, selectors.vault_items(household))
    return render(
        request,
        "documents/vault.html",
        {
            "form": form,
            "items": items,
            "usage": filetypes.human_size(selectors.vault_usage(household)),
        },
        status=status,
    )


@access(FAMILY_OBJECT)
@family_only
def vault_download(request, household, public_id):
    item = selectors.vault_item(household, public_id)
    try:
        meta, content = services.vault_read(item)
    except VaultError as exc:
        services.report_unreadable(item, exc)
        messages.error(request, services.UNREADABLE)
        return redirect("documents:vault")
    return attachment(content, filename=meta["name"], content_type=meta["content_type"])


@access(FAMILY_OBJECT, methods=POST)
@family_only
@require_POST
def vault_delete(request, household, public_id):
    services.vault_delete(item=selectors.vault_item(household, public_id))
    messages.success(request, "Le document a été supprimé de votre coffre-fort.")
    return redirect("documents:vault")


@access(FAMILY_OBJECT, methods=GET_POST)
@family_only
def vault_share(request, household, public_id):
    item = selectors.vault_item(household, public_id)
    children = selectors.family_children(household)
    form = VaultShareForm(children=children)
    status = 200
    if request.method == "POST":
        form = VaultShareForm(request.POST, children=children)
        if form.is_valid():
            try:
                document = services.vault_share(item=item, user=request.user, **form.cleaned_data)
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(
                    request, "Le document a été transmis à la commune comme pièce justificative."
                )
                return redirect("documents:detail", pk=document.pk)
        status = 400
    return render(
        request,
        "documents/vault_share.html",
        {"item": item, "meta": services.vault_metadata(item), "form": form},
        status=status,
    )


# --- family: personal data and editions -----------------------------------------


@access(FAMILY_PAGE, methods=GET_POST)
@family_only
def my_data(request, household):
    form = ErasureForm()
    status = 200
    if request.method == "POST":
        form = ErasureForm(request.POST)
        if form.is_valid():
            submit_demande(
                kind="erasure",
                subject="Demande d'effacement de mes données personnelles",
                submitted_by=request.user,
                household=household,
                message=form.cleaned_data["message"],
            )
            messages.success(
                request,
                "Votre demande d'effacement est envoyée. La commune vous répondra "
                "dans un délai d'un mois (RGPD, article 12).",
            )
            return redirect("documents:my-data")
        status = 400
    pending = (
        selectors.family_demandes(household)
        .filter(kind="erasure")
        .exclude(status__in=services.CLOSED_DEMANDE_STATUSES)
        .first()
    )
    return render(
        request,
        "documents/my_data.html",
        {
            "form": form,
            "pending_erasure": pending,
            "children": selectors.family_children(household),
        },
        status=status,
    )


@access(FAMILY_PAGE)
@family_only
def export(request, household):
    journal.record(actor=request.user, action=journal.EXPORT, household=household)
    spool = personal_data.build_export(household, commune=request.commune)
    name = f"mes-donnees-{request.commune.slug}-{timezone.localdate():%Y-%m-%d}.zip"
    return attachment(spool, filename=name, content_type="application/zip")


def _edition(request, build, filename: str):
    """A PDF edition, or a French page when this server cannot print PDFs."""

    try:
        pdf = build()
    except EditionUnavailable:
        return render(request, "documents/edition_unavailable.html", status=503)
    return attachment(pdf, filename=filename, content_type="application/pdf")


@access(FAMILY_PAGE)
@family_only
def edition_summary(request, household):
    return _edition(
        request,
        lambda: editions.family_summary(household, commune=request.commune),
        "recapitulatif-de-mes-donnees.pdf",
    )


@access(FAMILY_OBJECT)
@family_only
def edition_certificate(request, household, child_pk):
    child = selectors.family_children(household).filter(pk=child_pk).first()
    if child is None:
        raise Http404
    return _edition(
        request,
        lambda: editions.registration_certificate(child, commune=request.commune),
        f"attestation-inscription-{filetypes.download_name(child.first_name, 'pdf')}",
    )


@access(PUBLIC)
def edition_rules(request):
    """The town's booking and cancellation rules, from its configuration (public)."""

    return _edition(
        request, lambda: editions.town_rules(commune=request.commune), "regles-de-reservation.pdf"
    )


# --- staff ---------------------------------------------------------------------


@access(STAFF())
@staff_required()
@never_cache
def staff_document_list(request):
    status = request.GET.get("statut", Document.Status.TO_CHECK)
    if status not in Document.Status.values:
        status = ""
    demande = request.GET.get("demande", "")
    documents = selectors.staff_documents(
        status=status or None, demande_id=int(demande) if demande.isdigit() else None
    )
    return render(
        request,
        "documents/staff_list.html",
        {
            "documents": documents[:200],
            "status": status,
            "statuses": Document.Status.choices,
            "demande": demande if demande.isdigit() else "",
        },
    )


@access(STAFF(), methods=GET_POST, pk="document")
@staff_required()
@never_cache
def staff_document_detail(request, pk):
    document = selectors.staff_document(pk)
    form = ReviewForm()
    status = 200
    if request.method == "POST":
        form = ReviewForm(request.POST)
        if form.is_valid():
            try:
                services.review_document(
                    document=document,
                    reviewer=request.user,
                    status=form.cleaned_data["status"],
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, "Décision enregistrée.")
                return redirect(f"{_staff_list_url()}?statut=to_check")
        status = 400
    else:
        journal.record(
            actor=request.user,
            action=journal.VIEW_DOCUMENT,
            household=document.household_id,
            target=document,
        )
    return render(
        request,
        "documents/staff_detail.html",
        {
            "document": document,
            "form": form,
            "uses": selectors.documents_in_use(document),
        },
        status=status,
    )


def _staff_list_url():
    return reverse("documents:staff-list")


@access(STAFF(), pk="document")
@staff_required()
def staff_document_download(request, pk):
    document = selectors.staff_document(pk)
    journal.record(
        actor=request.user,
        action=journal.DOWNLOAD_DOCUMENT,
        household=document.household_id,
        target=document,
    )
    return _document_file(document)


@access(STAFF())
@staff_required()
@never_cache
def staff_erasure_list(request):
    demandes = Demande.objects.filter(kind="erasure").select_related("household")[:200]
    return render(request, "documents/staff_erasures.html", {"demandes": demandes})


@access(STAFF())
@staff_required()
@never_cache
def staff_erasure_plan(request, household_pk):
    household = Household.objects.filter(pk=household_pk).first()
    if household is None:
        raise Http404
    journal.record(actor=request.user, action=journal.VIEW_ERASURE_PLAN, household=household)
    plan = personal_data.erasure_plan(household)
    return render(
        request, "documents/staff_erasure_plan.html", {"household": household, "plan": plan}
    )
