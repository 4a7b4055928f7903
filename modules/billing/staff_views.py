"""Town staff's billing pages (agents of the "billing" area, managers, admins)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, F, Prefetch, Q, Sum
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.permissions import staff_required
from backoffice.views import tabular_response
from core.access import GET_POST, POST, STAFF, access
from families.models import Child, Household

from . import desk, payers, regie, selectors, services
from .forms import (
    CreditForm,
    CreditHandledForm,
    DeskPaymentForm,
    PayerRuleForm,
    RejectionForm,
    RunForm,
)
from .french import long_day, of_month
from .lines import previous_month
from .models import (
    AccountCredit,
    DirectDebit,
    Invoice,
    InvoicingRun,
    PayerRule,
    Payment,
    SepaExport,
)
from .payments import PaymentError
from .pdf import regie_statement_pdf as render_statement
from .pricing import euros
from .sepa import SepaError

OVERDUE = "en-retard"


def billing_staff(view):
    return never_cache(staff_required("billing")(view))


@access(STAFF("billing"))
@billing_staff
def dashboard(request):
    year, month = previous_month(timezone.localdate())
    form = RunForm(initial={"month": f"{year}-{month:02d}"})
    qs = Invoice.objects.all()
    status = request.GET.get("statut", "")
    if status in Invoice.Status.values:
        qs = qs.filter(status=status)
    elif status == OVERDUE:  # the staff home's counter
        qs = qs.filter(
            status__in=[Invoice.Status.TO_PAY, Invoice.Status.PARTLY_PAID],
            due_date__lt=timezone.localdate(),
        )
    page = Paginator(qs.order_by("-id"), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "billing/staff/dashboard.html",
        {
            "form": form,
            "runs": InvoicingRun.objects.all()[:10],
            "page": page,
            "statuses": [*Invoice.Status.choices, (OVERDUE, "impayée après l'échéance")],
            "status": status,
            "rows": [{"i": i, "total": euros(i.total), "balance": euros(i.balance)} for i in page],
        },
    )


@access(STAFF("billing"), methods=POST)
@billing_staff
@require_POST
def run(request):
    form = RunForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Mois attendu au format AAAA-MM.")
        return redirect("billing:staff")
    year, month = (int(x) for x in form.cleaned_data["month"].split("-"))
    if not 1 <= month <= 12:
        messages.error(request, "Mois invalide.")
        return redirect("billing:staff")
    try:
        result = services.run_month(
            commune=request.commune, year=year, month=month, by=request.user
        )
    except services.BillingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Facturation {of_month(year, month)} : {result.summary()}")
        for problem in result.problems:
            messages.warning(request, problem)
    return redirect("billing:staff")


@access(STAFF("billing"), pk="invoice")
@billing_staff
def invoice(request, pk: int):
    inv = selectors.staff_invoice(pk)
    return render(
        request,
        "billing/staff/invoice.html",
        {
            "i": inv,
            "total": euros(inv.total),
            "balance": euros(inv.balance),
            "lines": [{"l": line, "amount": euros(line.amount)} for line in inv.lines.all()],
            "payments": [
                {"p": p, "amount": euros(p.amount)}
                for p in inv.payments.select_related("desk_payment")
            ],
            "corrections": inv.corrections.all(),
            "credit_form": CreditForm(),
            "desk_form": DeskPaymentForm(invoices=[inv]),
        },
    )


@access(STAFF("billing"), methods=POST, pk="invoice")
@billing_staff
@require_POST
def credit(request, pk: int):
    inv = selectors.staff_invoice(pk)
    form = CreditForm(request.POST)
    form.is_valid()
    reason = form.cleaned_data.get("reason", "")
    try:
        if request.POST.get("corrective"):
            note, corrective = services.issue_corrective_invoice(
                invoice=inv, reason=reason, by=request.user
            )
            messages.success(
                request,
                f"Avoir {note.number} émis"
                + (f", facture rectificative {corrective.number} émise." if corrective else "."),
            )
        else:
            note = services.issue_credit_note(invoice=inv, reason=reason, by=request.user)
            messages.success(request, f"Avoir {note.number} émis.")
    except services.BillingError as exc:
        messages.error(request, str(exc))
    return redirect("billing:staff-invoice", pk=inv.pk)


@access(STAFF("billing"), methods=POST, pk="invoice")
@billing_staff
@require_POST
def desk_payment(request, pk: int):
    inv = selectors.staff_invoice(pk)
    form = DeskPaymentForm(request.POST, invoices=[inv])
    record_desk_form(request, form, household=inv.household_id)
    return redirect("billing:staff-invoice", pk=inv.pk)


def record_desk_form(request, form, *, household):
    """Validate and record a desk payment form; the outcome as messages.
    Returns the DeskOutcome, or None when refused."""
    if not form.is_valid():
        for error in form.errors.values():
            messages.error(request, error[0])
        return None
    data = form.cleaned_data
    try:
        outcome = desk.record_desk_payment(
            household=household,
            means=data["means"],
            allocations=form.allocations(),
            by=request.user,
            idempotency_key=data["idempotency_key"],
            cheque_number=data["cheque_number"],
            bank=data["bank"],
            reference=data["reference"],
            note=data["note"],
        )
    except services.BillingValidationError as exc:
        for message in exc.errors.values():
            messages.error(request, message)
        return None
    d = outcome.desk_payment
    if outcome.created:
        messages.success(
            request, f"Paiement de {euros(d.amount)} enregistré : reçu {d.receipt_number}."
        )
    else:
        messages.info(
            request,
            f"Ce paiement était déjà enregistré (reçu {d.receipt_number}) : rien n'a été ajouté.",
        )
    for warning in outcome.warnings:
        messages.warning(request, warning)
    return outcome


@access(STAFF("billing"))
@billing_staff
def debits(request):
    scheduled = (
        DirectDebit.objects.filter(status=DirectDebit.Status.SCHEDULED)
        .values("collection_date")
        .annotate(n=Count("id"), total=Sum("amount"))
        .order_by("collection_date")
    )
    exported = DirectDebit.objects.filter(status=DirectDebit.Status.EXPORTED).select_related(
        "invoice", "mandate", "export"
    )[:200]
    return render(
        request,
        "billing/staff/debits.html",
        {
            "dates": [
                {
                    "date": d["collection_date"],
                    "label": long_day(d["collection_date"]),
                    "n": d["n"],
                    "total": euros(d["total"]),
                }
                for d in scheduled
            ],
            "exported": [{"d": d, "amount": euros(d.amount)} for d in exported],
            "rejected": [
                {"d": d, "amount": euros(d.amount)}
                for d in DirectDebit.objects.filter(status=DirectDebit.Status.REJECTED)
                .select_related("invoice", "mandate")
                .order_by("-collection_date", "-id")[:200]
            ],
            "exports": [{"e": e, "total": euros(e.total)} for e in SepaExport.objects.all()[:20]],
            "rejection_form": RejectionForm(),
        },
    )


@access(STAFF("billing"), methods=POST)
@billing_staff
@require_POST
def export_debits(request, day: str):
    try:
        collection = date.fromisoformat(day)
    except ValueError:
        raise Http404 from None
    try:
        export = services.export_direct_debits(collection_date=collection, by=request.user)
    except (services.BillingError, SepaError, PaymentError) as exc:
        messages.error(request, str(exc))
        return redirect("billing:staff-debits")
    messages.success(
        request,
        f"Fichier {export.message_id} : {export.count} prélèvement(s), {euros(export.total)}.",
    )
    return redirect("billing:staff-debits")


@access(STAFF("billing"), pk="sepa_export")
@billing_staff
def export_file(request, pk: int):
    try:
        export = SepaExport.objects.get(pk=pk)
    except SepaExport.DoesNotExist:
        raise Http404 from None
    response = HttpResponse(bytes(export.xml), content_type="application/xml")
    response["Content-Disposition"] = (
        f'attachment; filename="prelevements-{export.collection_date:%Y-%m-%d}-{export.pk}.xml"'
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@access(STAFF("billing"), methods=POST, pk="debit")
@billing_staff
@require_POST
def reject_debit(request, pk: int):
    try:
        debit = DirectDebit.objects.get(pk=pk)
    except DirectDebit.DoesNotExist:
        raise Http404 from None
    form = RejectionForm(request.POST)
    form.is_valid()
    try:
        services.record_debit_rejection(
            debit=debit, reason=form.cleaned_data.get("reason", ""), by=request.user
        )
    except services.BillingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Rejet enregistré : la facture est de nouveau à payer.")
    return redirect("billing:staff-debits")


# --- credits (« trop-perçus ») ---------------------------------------------------------------


@access(STAFF("billing"), methods=GET_POST)
@billing_staff
def credits(request):
    """Money families paid that no invoice owed (a second payment of a settled
    invoice...), kept on their account: the régie refunds or uses it, then says
    so here. Two queries whatever the number of credits."""
    if request.method == "POST":
        form = CreditHandledForm(request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return redirect("billing:staff-credits")
        handled = services.handle_credit(
            credit_id=form.cleaned_data["credit"], note=form.cleaned_data["note"], by=request.user
        )
        if handled is None:
            messages.error(request, "Ce trop-perçu est déjà traité ou n'existe pas.")
        else:
            messages.success(
                request,
                f"Trop-perçu de {euros(handled.amount)} ({handled.household.name}) marqué traité.",
            )
        return redirect("billing:staff-credits")
    done = (
        AccountCredit.objects.filter(status=AccountCredit.Status.HANDLED)
        .select_related("household", "invoice")
        .order_by("-handled_at", "-id")[:50]
    )
    return render(
        request,
        "billing/staff/credits.html",
        {
            "open": [{"c": c, "amount": euros(c.amount)} for c in services.open_credits()],
            "done": [{"c": c, "amount": euros(c.amount)} for c in done],
            "form": CreditHandledForm(),
        },
    )


# --- régie closing statement --------------------------------------------------------------


def _statement_day(request) -> date:
    try:
        return date.fromisoformat(request.GET.get("jour", ""))
    except ValueError:
        return timezone.localdate()


@access(STAFF("billing"))
@billing_staff
def regie_statement(request):
    day = _statement_day(request)
    statement = regie.daily_statement(day)
    return render(
        request,
        "billing/staff/regie.html",
        {
            "day": day,
            "day_label": long_day(day),
            "previous": day - timedelta(days=1),
            "next": day + timedelta(days=1),
            "statement": statement,
            "regies": regie.display(statement),
            "total": euros(statement.total),
        },
    )


@access(STAFF("billing"))
@billing_staff
def regie_statement_csv(request):
    day = _statement_day(request)
    return tabular_response(
        regie.csv_rows(regie.daily_statement(day)),
        regie.CSV_COLUMNS,
        "etat-de-regie",
        "csv",
        stamp=day.isoformat(),
    )


@access(STAFF("billing"))
@billing_staff
def regie_statement_pdf(request):
    day = _statement_day(request)
    response = HttpResponse(
        render_statement(regie.daily_statement(day), request.commune),
        content_type="application/pdf",
    )
    response["Content-Disposition"] = f'attachment; filename="etat-de-regie-{day}.pdf"'
    return response


# --- the family record's section and the desk payment for a household ----------------------


@dataclass(frozen=True)
class Section:
    template: str
    context: dict
    order: int = 50


def family_section(request, household, form=None) -> Section:
    invoices = list(
        Invoice.objects.filter(household=household)
        .prefetch_related(Prefetch("payments", queryset=_payments()))
        .order_by("-year", "-month", "-id")[:24]
    )
    open_invoices = [
        i
        for i in invoices
        if i.kind != Invoice.Kind.CREDIT and i.balance > 0 and i.status != Invoice.Status.CANCELLED
    ]
    return Section(
        "billing/staff/_family_section.html",
        {
            "household": household,
            "invoices": [
                {
                    "i": i,
                    "total": euros(i.total),
                    "balance": euros(i.balance),
                    "payments": [{"p": p, "amount": euros(p.amount)} for p in i.payments.all()],
                }
                for i in invoices
            ],
            "desk_form": form or DeskPaymentForm(invoices=open_invoices),
            "action": reverse("billing:staff-family-desk-payment", args=[household.pk]),
            "payer_rules": _payer_rules_of(household),
        },
    )


def _payer_rules_of(household) -> list[dict]:
    """The household's children shared with another household, and who pays
    their days (links to the rule on each child's record)."""

    children = list(
        Child.objects.filter(Q(household=household) | Q(guardians__household=household))
        .distinct()
        .order_by("birth_date", "id")
    )
    shared = {c.pk for c in _shared_children().filter(pk__in=[c.pk for c in children])}
    children = [c for c in children if c.pk in shared]
    rules = payers.describe_rules(children) if children else {}
    return [{"child": c, "rule": rules[c.pk]} for c in children]


def _payments():
    return Payment.objects.select_related("desk_payment").order_by("paid_at", "id")


@access(STAFF("billing"), methods=POST)
@billing_staff
@require_POST
def family_desk_payment(request, household_pk: int):
    household = get_object_or_404(Household, pk=household_pk)
    invoices = Invoice.objects.filter(household=household).exclude(kind=Invoice.Kind.CREDIT)
    form = DeskPaymentForm(request.POST, invoices=[i for i in invoices if i.balance > 0])
    record_desk_form(request, form, household=household)
    return redirect(reverse("backoffice:family", args=[household.pk]) + "#factures")


# --- who pays the days of children of separated parents ----------------------------


def _shared_children():
    """Children with legal representatives in two households (or a rule already)."""

    return (
        Child.objects.annotate(
            other=Count(
                "guardians", filter=~Q(guardians__household_id=F("household_id")), distinct=True
            )
        )
        .filter(Q(other__gt=0) | Q(pk__in=PayerRule.objects.values("child_id")))
        .select_related("household")
        .order_by("last_name", "first_name", "id")
    )


@access(STAFF("billing"))
@billing_staff
def payer_rules(request):
    """Children of separated parents and who pays their days."""

    children = list(_shared_children()[:500])
    rules = payers.describe_rules(children)
    return render(
        request,
        "billing/staff/payer_rules.html",
        {"rows": [{"child": c, "rule": rules[c.pk]} for c in children]},
    )


@access(STAFF("billing"), methods=GET_POST, pk="child")
@billing_staff
def payer_rule(request, pk: int):
    """Set the rule on the child's record (applies to the invoices to come)."""

    child = get_object_or_404(Child.objects.select_related("household"), pk=pk)
    households = payers.child_households(child)
    names = payers.household_names([h.pk for h in households])
    current = PayerRule.objects.filter(child=child).first()
    initial = {"household_a": child.household_id}
    if current:
        initial = {
            "kind": current.kind,
            "household_a": current.household_a_id,
            "household_b": current.household_b_id,
            "weekdays_a": current.weekdays_a,
            "reference_monday": current.reference_monday,
            "percent_a": current.percent_a,
        }
    form = PayerRuleForm(request.POST or None, initial=initial, households=households, names=names)
    if request.method == "POST" and form.is_valid():
        try:
            payers.set_payer_rule(child=child, data=form.cleaned_data, by=request.user)
        except ValidationError as exc:
            form.add_error(None, exc.messages[0])
        else:
            messages.success(
                request,
                f"Règle enregistrée pour {child.first_name} : elle s'applique aux prochaines "
                "factures.",
            )
            return redirect("billing:staff-payer-rules")
    return render(
        request,
        "billing/staff/payer_rule.html",
        {
            "child": child,
            "form": form,
            "households": [(h, names.get(h.pk, h.name)) for h in households],
            "rule": payers.describe_rule(child),
        },
        status=400 if form.errors else 200,
    )
