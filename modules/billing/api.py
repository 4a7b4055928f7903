"""Billing API (/<slug>/api/billing/...): thin views, French problem documents.

Family endpoints are scoped to the signed-in family's household (another
family's id is a 404); the simulator is public.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsFamily
from core.access import FAMILY_API, FAMILY_API_OBJECT, PUBLIC, access
from core.api import problem

from . import selectors, services
from .models import Invoice, InvoiceLine, Mandate, Payment
from .payments import PaymentError
from .pricing import PricingError, caf_parts
from .simulation import SCHOOL, YOUNG, simulate_for_town
from .views import status_label


class LineOut(serializers.ModelSerializer):
    class Meta:
        model = InvoiceLine
        fields = [
            "day",
            "child_name",
            "service_name",
            "quantity",
            "unit",
            "attendance",
            "billed_percent",
            "amount",
            "explanation",
        ]


class InvoiceOut(serializers.ModelSerializer):
    # Plain strings, not enums: several models have a "status" (one OpenAPI name each).
    status = serializers.CharField(read_only=True)
    kind = serializers.CharField(read_only=True)
    status_label = serializers.SerializerMethodField()
    balance = serializers.DecimalField(max_digits=10, decimal_places=2, read_only=True)
    online_payment = serializers.SerializerMethodField()

    class Meta:
        model = Invoice
        fields = [
            "id",
            "number",
            "kind",
            "regie_name",
            "payer_name",
            "year",
            "month",
            "invoice_date",
            "due_date",
            "payment_opens_at",
            "payment_closes_at",
            "total",
            "amount_paid",
            "balance",
            "status",
            "status_label",
            "online_payment",
        ]

    def get_status_label(self, obj) -> str:
        return status_label(obj)

    def get_online_payment(self, obj) -> dict:
        refusal = services.online_payment_refusal(obj)
        return {"possible": refusal is None, "reason": refusal or ""}


class InvoiceDetailOut(InvoiceOut):
    lines = LineOut(many=True, read_only=True)

    class Meta(InvoiceOut.Meta):
        fields = [*InvoiceOut.Meta.fields, "lines"]


@access(FAMILY_API)
class FamilyInvoices(APIView):
    permission_classes = [IsFamily]

    @extend_schema(responses=InvoiceOut(many=True))
    def get(self, request):
        qs = selectors.family_invoices(request.user).prefetch_related("direct_debits")
        return Response(InvoiceOut(qs, many=True).data)


@access(FAMILY_API_OBJECT, pk="invoice")
class FamilyInvoice(APIView):
    permission_classes = [IsFamily]

    @extend_schema(responses=InvoiceDetailOut)
    def get(self, request, pk: int):
        invoice = selectors.family_invoice(request.user, pk)
        return Response(InvoiceDetailOut(invoice).data)


@access(FAMILY_API_OBJECT, pk="invoice")
class FamilyInvoicePayment(APIView):
    """Start an online payment: where to send the browser (URL, or a form to post)."""

    permission_classes = [IsFamily]

    @extend_schema(
        request=None,
        responses=inline_serializer(
            "PaymentRedirect",
            {
                "method": serializers.CharField(),
                "url": serializers.CharField(),
                "fields": serializers.DictField(child=serializers.CharField()),
                "reference": serializers.CharField(),
            },
        ),
    )
    def post(self, request, pk: int):
        invoice = selectors.family_invoice(request.user, pk)
        try:
            attempt, target = services.start_online_payment(
                invoice=invoice,
                user=request.user,
                return_url=request.build_absolute_uri(reverse("billing:payment-return")),
                notification_url=request.build_absolute_uri(reverse("billing:payment-notify")),
            )
        except (services.BillingError, PaymentError) as exc:
            return problem(409, str(exc))
        return Response(
            {
                "method": target.method,
                "url": target.url,
                "fields": dict(target.fields),
                "reference": attempt.reference,
            },
            status=status.HTTP_201_CREATED,
        )


class PaymentOut(serializers.ModelSerializer):
    method = serializers.CharField(read_only=True)
    invoice_number = serializers.CharField(source="invoice.number")

    class Meta:
        model = Payment
        fields = [
            "id",
            "invoice",
            "invoice_number",
            "method",
            "amount",
            "paid_at",
            "receipt_number",
        ]


@access(FAMILY_API_OBJECT, pk="payment")
class FamilyPayment(APIView):
    permission_classes = [IsFamily]

    @extend_schema(responses=PaymentOut)
    def get(self, request, pk: int):
        return Response(PaymentOut(selectors.family_payment(request.user, pk)).data)


class MandateOut(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True)
    iban = serializers.CharField(source="masked_iban")

    class Meta:
        model = Mandate
        fields = ["id", "rum", "holder_name", "iban", "signed_at", "applies_from", "status"]


class MandateIn(serializers.Serializer):
    holder_name = serializers.CharField(allow_blank=True, required=False, default="")
    iban = serializers.CharField(allow_blank=True, required=False, default="")
    accepted = serializers.BooleanField(required=False, default=False)


@access(FAMILY_API)
class FamilyMandates(APIView):
    permission_classes = [IsFamily]

    @extend_schema(responses=MandateOut(many=True))
    def get(self, request):
        return Response(MandateOut(selectors.family_mandates(request.user), many=True).data)

    @extend_schema(request=MandateIn, responses={201: MandateOut})
    def post(self, request):
        data = MandateIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            mandate = services.sign_mandate(
                household=selectors.family_household(request.user),
                user=request.user,
                ip=request.META.get("REMOTE_ADDR"),
                **data.validated_data,
            )
        except services.BillingValidationError as exc:
            return problem(400, str(exc), errors=exc.errors)
        except services.BillingError as exc:
            return problem(409, str(exc))
        return Response(MandateOut(mandate).data, status=status.HTTP_201_CREATED)


@access(FAMILY_API_OBJECT, pk="mandate")
class FamilyMandate(APIView):
    permission_classes = [IsFamily]

    @extend_schema(responses=MandateOut)
    def get(self, request, pk: int):
        return Response(MandateOut(selectors.family_mandate(request.user, pk)).data)

    @extend_schema(request=None, responses=MandateOut)
    def delete(self, request, pk: int):
        mandate = selectors.family_mandate(request.user, pk)
        try:
            services.revoke_mandate(mandate=mandate, by=request.user)
        except services.BillingError as exc:
            return problem(409, str(exc))
        mandate.refresh_from_db()
        return Response(MandateOut(mandate).data)


class SimulatorIn(serializers.Serializer):
    qf = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=100_000,
        error_messages={
            "invalid": "Le quotient familial est un nombre entier.",
            "min_value": "Le quotient familial ne peut pas être négatif.",
        },
    )
    annual_income = serializers.DecimalField(
        max_digits=10, decimal_places=2, required=False, allow_null=True, min_value=0
    )
    monthly_benefits = serializers.DecimalField(
        max_digits=8, decimal_places=2, required=False, default=0, min_value=0
    )
    children = serializers.IntegerField(required=False, min_value=0, max_value=15)
    child_rank = serializers.IntegerField(required=False, default=1, min_value=1, max_value=15)
    resident = serializers.BooleanField(required=False, default=True)
    child = serializers.ChoiceField(
        choices=[(SCHOOL, "enfant scolarisé"), (YOUNG, "jeune enfant pas encore scolarisé")],
        required=False,
        default=SCHOOL,
        help_text="Le total ne compte que les activités de cet enfant.",
        error_messages={"invalid_choice": "« child » vaut « scolaire » ou « petite_enfance »."},
    )


class SimulatedServiceOut(serializers.Serializer):
    service = serializers.CharField()
    label = serializers.CharField()
    price = serializers.DecimalField(max_digits=10, decimal_places=2)
    unit = serializers.CharField()
    explanation = serializers.CharField()
    sessions_per_month = serializers.IntegerField()
    monthly_estimate = serializers.DecimalField(max_digits=10, decimal_places=2)
    counted = serializers.BooleanField(help_text="Compté dans le total du mois.")


class SimulationOut(serializers.Serializer):
    qf = serializers.IntegerField(allow_null=True)
    qf_explanation = serializers.CharField()
    services = SimulatedServiceOut(many=True)
    monthly_total = serializers.DecimalField(max_digits=12, decimal_places=2)


@access(PUBLIC)
class Simulator(APIView):
    """Public: each activity's price for a QF (or CAF income figures) and a
    monthly estimate, by the billing's own pricing function."""

    # Anyone may simulate; a signed-in session still needs its CSRF token
    # (SessionAuthentication), like every unsafe operation of the API.
    permission_classes = [AllowAny]

    @extend_schema(request=SimulatorIn, responses=SimulationOut)
    def post(self, request):
        data = SimulatorIn(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        tariffs, _ = services.town_settings(request.commune)
        figures = {"child_rank": d["child_rank"], "resident": d["resident"]}
        try:
            if d.get("annual_income") is not None:
                if d.get("children") is None:
                    return problem(400, "Indiquez le nombre d'enfants à charge (« children »).")
                figures |= {
                    "annual_income": d["annual_income"],
                    "monthly_benefits": d["monthly_benefits"],
                    "parts": caf_parts(children=d["children"]),
                }
            else:
                figures["qf"] = d.get("qf")
            result, _, _ = simulate_for_town(
                request.commune, tariffs, child=d["child"], today=timezone.localdate(), **figures
            )
        except PricingError as exc:
            return problem(400, str(exc))
        return Response(
            SimulationOut(
                {
                    "qf": result.qf,
                    "qf_explanation": result.qf_explanation,
                    "services": [
                        {
                            "service": s.service_code,
                            "label": s.label,
                            "price": s.line.amount,
                            "unit": s.line.unit,
                            "explanation": s.line.explanation,
                            "sessions_per_month": s.sessions_per_month,
                            "monthly_estimate": s.monthly_estimate,
                            "counted": s.counted,
                        }
                        for s in result.services
                    ],
                    "monthly_total": result.monthly_total,
                }
            ).data
        )
