"""Staff pages: the requests inbox per service area and the decision page.

Access: `staff_required()` (town staff only), then every object comes from
demandes.selectors, scoped to the areas the user works in (404 otherwise).
Accepting runs the kind's handler in the same transaction (demandes.services).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.permissions import staff_required
from core.access import POST, STAFF, access
from demandes import handlers, rules, selectors, services
from demandes.forms import AssignForm, DecisionForm, InboxFilterForm, MessageForm
from demandes.uploads import serve_attachment

INBOX_PAGE = 100


@access(STAFF())
@never_cache
@staff_required()
def inbox(request):
    form = InboxFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    service = filters.get("service", "")
    if service and not request.user.works_in(service):
        raise PermissionDenied  # same rule as staff_required(service)
    demandes = list(
        selectors.inbox(
            request.user,
            status=filters.get("status", ""),
            kind=filters.get("kind", ""),
            service=service,
            mine=filters.get("mine", False),
        )[:INBOX_PAGE]
    )
    areas = dict(User.Area.choices)
    return render(
        request,
        "demandes/inbox.html",
        {
            "form": form,
            "rows": [
                (d, handlers.label(d.kind), areas.get(d.service_area, d.service_area))
                for d in demandes
            ],
        },
    )


@access(STAFF(), area="billing", pk="demande", agent_other_area="not_found")  # area of the demande
@never_cache
@staff_required()
def detail(request, pk):
    demande = selectors.demande_for_staff(request.user, pk)
    return _detail(request, demande)


def _detail(request, demande, *, decision_form=None, message_form=None, status=200):
    kind = handlers.get(demande.kind)
    return render(
        request,
        "demandes/detail.html",
        {
            "demande": demande,
            "kind_label": handlers.label(demande.kind),
            "lines": kind.describe(demande) if kind and kind.describe else [],
            "actions": rules.allowed_actions(demande.status, by_staff=True),
            "decision_form": decision_form or DecisionForm(),
            "assign_form": AssignForm(
                staff=selectors.assignable_staff(demande),
                initial={"assignee": demande.assigned_to_id},
            ),
            "message_form": message_form or MessageForm(),
        },
        status=status,
    )


@access(STAFF(), methods=POST, area="billing", pk="demande", agent_other_area="not_found")
@require_POST
@staff_required()
def decide(request, pk):
    demande = selectors.demande_for_staff(request.user, pk)
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            services.change_status(
                demande=demande,
                action=form.cleaned_data["action"],
                actor=request.user,
                message=form.cleaned_data["message"],
            )
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(
                request, "La décision est enregistrée ; la famille est prévenue par e-mail."
            )
            return redirect("demandes:detail", pk=demande.pk)
    return _detail(request, demande, decision_form=form, status=400)


@access(STAFF(), methods=POST, area="billing", pk="demande", agent_other_area="not_found")
@require_POST
@staff_required()
def assign(request, pk):
    demande = selectors.demande_for_staff(request.user, pk)
    form = AssignForm(request.POST, staff=selectors.assignable_staff(demande))
    if form.is_valid():
        try:
            services.assign_demande(
                demande=demande, assignee=form.cleaned_data["assignee"], actor=request.user
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "La demande est attribuée.")
    else:
        messages.error(request, "Choisissez un agent du service de cette demande.")
    return redirect("demandes:detail", pk=demande.pk)


@access(STAFF(), methods=POST, area="billing", pk="demande", agent_other_area="not_found")
@require_POST
@staff_required()
def message(request, pk):
    demande = selectors.demande_for_staff(request.user, pk)
    form = MessageForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.post_message(
                demande=demande,
                author=request.user,
                message=form.cleaned_data["message"],
                upload=form.cleaned_data["attachment"],
            )
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(request, "Message envoyé à la famille.")
            return redirect("demandes:detail", pk=demande.pk)
    return _detail(request, demande, message_form=form, status=400)


@access(STAFF(), area="billing", pk="attachment", agent_other_area="not_found")
@never_cache
@staff_required()
def attachment(request, demande_pk, pk):
    return serve_attachment(selectors.attachment_for_staff(request.user, demande_pk, pk))
