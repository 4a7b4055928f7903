"""Families' billing pages and the public tariff simulator (thin views).

/<slug>/billing/                 invoices (a family) or the module's public page
/<slug>/billing/simulateur/      public tariff simulator (no login)
/<slug>/billing/tarifs/          public tariffs, generated from the tariff configuration
/<slug>/billing/factures/<id>/   one invoice: lines and their price explanation
/<slug>/billing/paiement/...     online payment (redirect to the provider only)
/<slug>/billing/prelevement/     SEPA mandate; facture-en-ligne/; attestations/
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from functools import wraps
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.access import FAMILY_OBJECT, FAMILY_PAGE, GET_POST, POST, PUBLIC, access
from core.french import format_date, format_datetime
from families.models import Child
from families.selectors import child_of, children_of

from . import pdf, proximity, reminder_services, selectors, services
from .calendar import payer_entries
from .forms import EInvoiceForm, MandateForm, PayerRuleForm, SimulatorForm
from .french import long_day, moment_label, month_label, of_month
from .models import DirectDebit, Invoice, Payment, PaymentAttempt
from .payers import child_households, describe_rules, household_names, propose_payer_rule
from .payments import MalformedNotification, PaymentConfigurationError, PaymentError
from .pricing import PricingError, caf_parts, euros
from .simulation import next_month, simulate_for_town
from .tariff_sheet import tariff_sheet

DUMMY_SERVICE_URL = "https://dummy-payment.entrouvert.com/"


def family_required(view):
    """A signed-in family account (others: login, or 404 for staff: the
    family's pages do not exist for them). Private pages are never cached."""

    @wraps(view)
    @never_cache
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            try:
                return redirect_to_login(request.get_full_path())
            except NoReverseMatch:  # no login page installed
                raise PermissionDenied from None
        selectors.family_household(request.user)  # 404 unless a family with a household
        return view(request, *args, **kwargs)

    return wrapped


def _page(request, template: str, context: dict, **kwargs):
    """Render a family page with what the town offers (menu entries)."""
    _, invoicing = services.town_settings(request.commune)
    nav = {
        "offers_debit": invoicing.direct_debit is not None,
        "offers_e_invoice": invoicing.e_invoice,
        "shared_custody": _has_shared_child(request.user),
    }
    return render(request, template, {**nav, **context}, **kwargs)


def _has_shared_child(user) -> bool:
    """One query: does a child of this account have a representative in another household?"""

    elsewhere = Child.guardians.through.objects.filter(child_id=OuterRef("pk")).exclude(
        adult__household_id=OuterRef("household_id")
    )
    return children_of(user).filter(Exists(elsewhere)).exists()


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def status_label(invoice: Invoice) -> str:
    if invoice.status == Invoice.Status.DIRECT_DEBIT:
        live = (DirectDebit.Status.SCHEDULED, DirectDebit.Status.EXPORTED)
        debit = next((d for d in invoice.direct_debits.all() if d.status in live), None)
        if debit:
            return f"prélèvement prévu le {long_day(debit.collection_date)}"
    return invoice.get_status_display()


def invoice_row(invoice: Invoice, *, now=None) -> dict:
    refusal = services.online_payment_refusal(invoice, now=now)
    return {
        "invoice": invoice,
        "status": status_label(invoice),
        "period": month_label(invoice.year, invoice.month),
        # The family's pages write dates in words (« lundi 7 décembre 2026 »).
        "invoice_date": format_date(invoice.invoice_date),
        "due_date": format_date(invoice.due_date),
        "total": euros(invoice.total),
        "balance": euros(max(invoice.balance, 0)),
        "window": (
            f"du {format_datetime(invoice.payment_opens_at)} au "
            f"{format_datetime(invoice.payment_closes_at)}"
        ),
        "payable": refusal is None,
        "refusal": refusal,
    }


# --- public ---------------------------------------------------------------------------


@access(PUBLIC)
def home(request):
    """A family sees its invoices; anyone else the module's public page."""
    user = request.user
    if (
        user.is_authenticated
        and getattr(user, "role", "") == "family"
        and getattr(user, "adult", None) is not None
    ):
        return invoices(request)
    return render(request, "billing/home.html", {})


@access(PUBLIC, methods=GET_POST)
def simulator(request):
    """Public tariff simulator: the same pricing function as the invoicing
    run; the monthly total adds only what one child can attend, on the days
    each service is open next month (simulation.py)."""
    tariffs, _ = services.town_settings(request.commune)
    form = SimulatorForm(request.POST or None)
    result = error = counting = None
    first, _ = next_month(timezone.localdate())
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        figures = {"child_rank": d.get("child_rank") or 1, "resident": d["resident"]}
        try:
            if d["mode"] == SimulatorForm.MODE_INCOME:
                figures |= {
                    "annual_income": d["annual_income"],
                    "monthly_benefits": d.get("monthly_benefits") or 0,
                    "parts": caf_parts(children=d["children"]),
                }
            else:
                figures["qf"] = d.get("qf")
            result, counting, first = simulate_for_town(
                request.commune, tariffs, child=d["child"], today=timezone.localdate(), **figures
            )
        except PricingError as exc:
            error = str(exc)
    rows = []
    if result:
        rows = [
            {
                "label": s.label,
                "price": euros(s.line.amount),
                "unit": s.line.unit,
                "explanation": s.line.explanation,
                "sessions": s.sessions_per_month,
                "monthly": euros(s.monthly_estimate),
                "counted": s.counted,
                "note": counting.notes.get(s.service_code, ""),
            }
            for s in result.services
        ]
    return render(
        request,
        "billing/simulator.html",
        {
            "form": form,
            "result": result,
            "rows": rows,
            "error": error,
            "month": month_label(first.year, first.month),
            "total": euros(result.monthly_total) if result else "",
        },
    )


@access(PUBLIC)
def tariffs(request):
    """The town's tariffs, generated from the tariff configuration the
    invoicing run prices with (tariff_sheet.py): never free text."""
    settings, _ = services.town_settings(request.commune)
    sheets = tariff_sheet(
        settings,
        day=timezone.localdate(),
        order=town_codes(request.commune, settings.services),
    )
    return render(request, "billing/tariffs.html", {"sheets": sheets})


def town_codes(commune, codes):
    """Service codes in the town's own order (its configuration), not the stored JSON's."""
    return selectors.in_town_order(codes)


# --- a family's invoices ------------------------------------------------------------------


@access(FAMILY_PAGE)
@family_required
def invoices(request):
    now = timezone.now()
    qs = selectors.family_invoices(request.user).prefetch_related("direct_debits")
    household = selectors.family_household(request.user)
    _, invoicing = services.town_settings(request.commune)
    rows = [invoice_row(i, now=now) for i in qs]
    unavailable = services.online_payment_unavailable(request.commune)
    due, count = selectors.amount_due(household)
    credit = selectors.open_credit(household)
    return _page(
        request,
        "billing/invoices.html",
        {
            "credit_label": euros(credit) if credit else "",
            "rows": rows,
            "due": due,
            "due_label": euros(due),
            "due_count": count,
            "payable_count": sum(1 for r in rows if r["payable"]),
            "unavailable": unavailable,
            "invoicing": invoicing,
            "e_invoice": getattr(
                getattr(household, "billing_preference", None), "e_invoice", False
            ),
            "mandate": selectors.family_mandates(request.user).filter(status="active").first(),
        },
    )


@access(FAMILY_OBJECT, pk="invoice")
@family_required
def invoice_detail(request, pk: int):
    invoice = selectors.family_invoice(request.user, pk)
    lines = [
        {
            "line": line,
            "amount": euros(line.amount),
            "quantity": line.quantity.normalize(),
        }
        for line in invoice.lines.all()
    ]
    payments = invoice.payments.filter(status=Payment.Status.VALID).select_related("desk_payment")
    return _page(
        request,
        "billing/invoice_detail.html",
        {
            "row": invoice_row(invoice),
            "unavailable": services.online_payment_unavailable(request.commune),
            "invoice": invoice,
            "lines": lines,
            "proximity": proximity.for_invoice(invoice, request.commune),
            "reminder": _reminder_of(invoice),
            "payments": [
                {"p": p, "amount": euros(p.amount), "when": moment_label(p.paid_at)}
                for p in payments
            ],
        },
    )


def _reminder_of(invoice) -> dict | None:
    """The invoice's last reminder step, for the family's page (None: not reminded)."""

    if not reminder_services.has_letter(invoice, timezone.localdate()):
        return None
    step = invoice.reminders.order_by("-done_on", "-id").first()
    return {
        "title": pdf.LETTER_TITLES[step.stage] if step else "Échéance dépassée",
        "when": format_date(step.done_on) if step else "",
    }


@access(FAMILY_OBJECT, pk="invoice")
@family_required
def invoice_pdf(request, pk: int):
    invoice = selectors.family_invoice(request.user, pk)
    _, invoicing = services.town_settings(request.commune)
    content = pdf.invoice_pdf(
        invoice,
        request.commune,
        how_to_pay=invoicing.how_to_pay,
        pay_url=request.build_absolute_uri(reverse("billing:invoice", args=[invoice.pk])),
    )
    return _pdf_response(content, f"facture-{invoice.number}.pdf")


@access(FAMILY_OBJECT, pk="overdue_invoice")
@family_required
def reminder_pdf(request, pk: int):
    """The reminder letter of an overdue (or handed-over) invoice: what is due and how to pay."""

    invoice = selectors.family_invoice(request.user, pk)
    today = timezone.localdate()
    if not reminder_services.has_letter(invoice, today):
        raise Http404("Pas de relance pour cette facture.")
    content = reminder_services.letter_pdf(invoice, request.commune, today=today)
    return _pdf_response(content, f"relance-{invoice.number}.pdf")


@access(FAMILY_OBJECT, methods=POST, pk="invoice")
@family_required
@require_POST
def pay(request, pk: int):
    """Start an online payment: the browser goes to the provider's page."""
    invoice = selectors.family_invoice(request.user, pk)
    back = redirect("billing:invoice", pk=invoice.pk)
    return _pay_with(request, services.start_online_payment, back, invoice=invoice)


def _pay_with(request, start, back, **what):
    """Open the payment (`start`: one invoice or several) and send the browser
    to the provider; any refusal is a French message on `back`, never the
    technical cause of an unusable configuration (a missing secret...)."""
    try:
        _, target = start(
            **what,
            user=request.user,
            return_url=request.build_absolute_uri(reverse("billing:payment-return")),
            notification_url=request.build_absolute_uri(reverse("billing:payment-notify")),
        )
    except PaymentConfigurationError:
        messages.error(request, services.online_payment_unavailable(request.commune))
        return back
    except (services.BillingError, PaymentError) as exc:
        messages.error(request, str(exc))
        return back
    return _to_provider(request, target)


def _to_provider(request, target):
    if target.is_form:
        return render(request, "billing/redirect_form.html", {"target": target})
    url = target.url
    if url.startswith(DUMMY_SERVICE_URL) and demo_page_enabled():
        # eopayment's demo backend always points at Entr'ouvert's public page:
        # the demo and the browser tests use our local stand-in (fake_provider.py).
        url = reverse("billing:demo-provider") + "?" + urlsplit(url).query
    return HttpResponseRedirect(url)


@access(FAMILY_PAGE, methods=POST)
@family_required
@require_POST
def pay_all(request):
    """« Tout payer »: one payment for every invoice left to pay, oldest first."""
    household = selectors.family_household(request.user)
    invoices = list(selectors.payable_invoices(household))
    back = redirect("billing:invoices")
    return _pay_with(request, services.start_grouped_payment, back, invoices=invoices)


def demo_page_enabled() -> bool:
    return bool(getattr(settings, "BILLING_DEMO_PAYMENT_PAGE", False))


@access(FAMILY_PAGE, family="not_found")  # 404 without a payment reference of the household
@csrf_exempt  # providers may come back with a POST (PayZen); nothing is changed here
@family_required
def payment_return(request):
    """Where the family's browser comes back: it only DISPLAYS the state. The
    server-to-server notification is the source of truth; PayFiP (which signs
    nothing) is asked directly."""
    reference = request.GET.get("ref") or request.POST.get("ref") or ""
    attempt = selectors.family_attempt(request.user, reference)
    if attempt.provider == "payfip_ws" and attempt.status in ("STARTED", "WAITING", "RECEIVED"):
        services.check_payfip_attempt(attempt)
        attempt.refresh_from_db()
    paid = [p for p in attempt.payments.all() if p.status == Payment.Status.VALID]
    if paid:
        total = sum((p.amount for p in paid), Decimal(0))
        state, text = "paid", f"Paiement de {euros(total)} reçu. Merci !"
        if len(paid) > 1:
            text += (
                " Il règle "
                + ", ".join(f"la facture {p.invoice.number} ({euros(p.amount)})" for p in paid)
                + "."
            )
    elif attempt.status in ("STARTED", "WAITING", "RECEIVED", "ACCEPTED"):
        state, text = (
            "waiting",
            (
                "Paiement en cours de confirmation par le prestataire : "
                "actualisez cette page dans quelques instants."
            ),
        )
    else:
        state, text = "failed", "Le paiement n'a pas abouti. Aucune somme n'a été prélevée."
    return render(
        request,
        "billing/payment_return.html",
        {"attempt": attempt, "state": state, "text": text, "invoice": attempt.invoice},
    )


@access(PUBLIC, methods=GET_POST, everyone="bad_request")  # unsigned: refused, 400
@csrf_exempt  # called by the provider's servers, authenticated by its signature
def payment_notify(request):
    raw = (
        request.body
        if request.method == "POST" and request.body
        else request.META.get("QUERY_STRING", "")
    )
    if not raw:
        return HttpResponse(
            "Notification vide.", status=400, content_type="text/plain; charset=utf-8"
        )
    try:
        outcome = services.handle_notification(raw=raw)
    except MalformedNotification as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    except PaymentConfigurationError as exc:
        return HttpResponse(str(exc), status=503, content_type="text/plain; charset=utf-8")
    if not outcome.accepted:
        return HttpResponse(outcome.message, status=400, content_type="text/plain; charset=utf-8")
    return HttpResponse(outcome.return_content or "OK", content_type="text/plain; charset=utf-8")


@access(FAMILY_OBJECT, pk="payment")
@family_required
def receipt_pdf(request, pk: int):
    payment = selectors.family_payment(request.user, pk)
    return _pdf_response(
        pdf.receipt_pdf(payment, request.commune), f"recu-{payment.receipt_number}.pdf"
    )


# --- preferences, mandate, attestations --------------------------------------------------------


@access(FAMILY_PAGE, methods=GET_POST)
@family_required
def e_invoice(request):
    household = selectors.family_household(request.user)
    _, invoicing = services.town_settings(request.commune)
    if not invoicing.e_invoice:
        raise Http404("La commune ne propose pas la facture en ligne.")
    current = getattr(getattr(household, "billing_preference", None), "e_invoice", False)
    form = EInvoiceForm(request.POST or None, initial={"e_invoice": current})
    if request.method == "POST" and form.is_valid():
        enabled = form.cleaned_data["e_invoice"]
        services.set_e_invoice(household=household, enabled=enabled, by=request.user)
        messages.success(
            request,
            "Vos factures vous seront envoyées en ligne uniquement."
            if enabled
            else "Vous recevrez de nouveau vos factures sur papier.",
        )
        return redirect("billing:e-invoice")
    return _page(request, "billing/e_invoice.html", {"form": form, "current": current})


@access(FAMILY_PAGE, methods=GET_POST, family="not_found")  # Castres offers no direct debit
@family_required
def mandate(request):
    household = selectors.family_household(request.user)
    _, invoicing = services.town_settings(request.commune)
    if invoicing.direct_debit is None:
        raise Http404("La commune ne propose pas le prélèvement automatique.")
    active = selectors.family_mandates(request.user).filter(status="active").first()
    form = MandateForm(request.POST or None)
    errors = {}
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            signed = services.sign_mandate(
                household=household,
                user=request.user,
                iban=d["iban"],
                holder_name=d["holder_name"],
                accepted=d["accepted"],
                ip=request.META.get("REMOTE_ADDR"),
            )
        except services.BillingValidationError as exc:
            errors = exc.errors
            for field, message in exc.errors.items():
                form.add_error(field if field in form.fields else None, message)
        else:
            messages.success(
                request,
                f"Mandat {signed.rum} enregistré : vos factures "
                f"{of_month(signed.applies_from.year, signed.applies_from.month)} "
                "et suivantes seront prélevées.",
            )
            return redirect("billing:mandate")
    return _page(
        request,
        "billing/mandate.html",
        {
            "form": form,
            "active": active,
            "errors": errors,
            "creditor": invoicing.direct_debit.creditor,
            "applies_from": (
                of_month(active.applies_from.year, active.applies_from.month) if active else ""
            ),
            "status": 400 if errors else 200,
        },
        status=400 if errors else 200,
    )


@access(FAMILY_OBJECT, methods=POST, pk="mandate")
@family_required
@require_POST
def mandate_revoke(request, pk: int):
    mandate = selectors.family_mandate(request.user, pk)
    try:
        services.revoke_mandate(mandate=mandate, by=request.user)
    except services.BillingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, "Mandat révoqué : vos prochaines factures ne seront plus prélevées."
        )
    return redirect("billing:mandate")


@access(FAMILY_PAGE)
@family_required
def attestations(request):
    household = selectors.family_household(request.user)
    years = sorted(
        {
            d.year
            for d in Payment.objects.filter(
                invoice__household=household, status=Payment.Status.VALID
            ).dates("paid_at", "year")
        },
        reverse=True,
    )
    return _page(request, "billing/attestations.html", {"years": years})


@access(FAMILY_PAGE)
@family_required
def attestation_pdf(request, year: int):
    household = selectors.family_household(request.user)
    if not 2000 <= year <= timezone.localdate().year:
        raise Http404
    attestation = selectors.fiscal_attestation(household, year=year, today=timezone.localdate())
    return _pdf_response(
        pdf.attestation_pdf(attestation, request.commune), f"attestation-frais-de-garde-{year}.pdf"
    )


def attempt_query(attempt: PaymentAttempt) -> str:
    return urlencode({"ref": attempt.reference})


# --- separated parents: who pays which days -------------------------------------------


def _shared_children_of(user) -> list:
    """The account's children who belong to two households (separated parents); two queries."""

    children = list(children_of(user))
    links = Child.guardians.through.objects.filter(child_id__in=[c.pk for c in children])
    others: dict[int, set] = {}
    for child_id, household_id in links.values_list("child_id", "adult__household_id"):
        others.setdefault(child_id, set()).add(household_id)
    return [c for c in children if others.get(c.pk, set()) - {c.household_id}]


@access(FAMILY_PAGE)
@family_required
def shared_custody(request):
    """« Garde partagée » : the rule of each shared child and who pays the
    coming booked days (« payé par : foyer de Michel Lefort »)."""

    today = timezone.localdate()
    days = {}
    for booking, payer in payer_entries(request.user, today, today + timedelta(days=56)):
        days.setdefault(booking.child_id, []).append(
            {
                "day": long_day(booking.slot.day),
                "service": booking.slot.activity.service.name,
                "payer": payer,
            }
        )
    shared = _shared_children_of(request.user)
    rules = describe_rules(shared)
    children = [
        {"child": child, "rule": rules[child.pk], "days": days.get(child.pk, [])}
        for child in shared
    ]
    return _page(request, "billing/shared_custody.html", {"children": children})


@access(FAMILY_OBJECT, methods=GET_POST, pk="child")
@family_required
def shared_custody_propose(request, pk: int):
    """A parent proposes the rule; staff accept it in the requests inbox."""

    child = child_of(request.user, pk)  # another family's child: 404
    households = child_households(child)
    if len(households) < 2:
        return _page(request, "billing/shared_custody_form.html", {"child": child, "form": None})
    names = household_names([h.pk for h in households])
    household = selectors.family_household(request.user)
    form = PayerRuleForm(
        request.POST or None,
        initial={"household_a": household.pk},
        households=households,
        names=names,
    )
    if request.method == "POST" and form.is_valid():
        try:
            propose_payer_rule(
                child=child, household=household, data=form.cleaned_data, user=request.user
            )
        except ValidationError as exc:
            form.add_error(None, exc.messages[0])
        else:
            messages.success(
                request,
                "Votre proposition est envoyée au service facturation : vous serez prévenu de "
                "sa décision.",
            )
            return redirect("billing:shared-custody")
    return _page(
        request,
        "billing/shared_custody_form.html",
        {"child": child, "form": form},
        status=400 if form.errors else 200,
    )
