"""Invoices, payments and direct-debit mandates (town schema).

Rules:
- an issued invoice is immutable: only its payment state (`status`,
  `amount_paid`, `amount_credited`, `updated_at`) can change, and its lines can
  never change. The models AND their querysets refuse anything else (`save`,
  `delete`, `update`, `bulk_update`); deleting needs the maintenance context
  (maintenance.py: retention purge, tests). A mistake is corrected by a credit
  note ("avoir") and a corrective invoice (services.py), never by an edit;
- numbering is per town, gapless: numbers come from `Counter` inside the
  transaction that writes the invoice (numbering.py);
- a booking is billed once per generation (UniqueConstraint on charge lines):
  re-running a month cannot bill it twice;
- one payment per provider transaction id (UniqueConstraint): a replayed
  notification cannot pay twice. A desk payment has its own reference
  (`DeskPayment`: means, cheque number, bank) and an idempotency key; its
  allocations' transaction id is our own receipt number, never what staff type.
Writes go through services.py only.
"""

from __future__ import annotations

from contextvars import ContextVar
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from .french import month_label
from .payer_rules import Rule

ZERO = Decimal("0.00")


class ImmutableInvoiceError(Exception):
    """An issued invoice (or its lines) cannot be edited; French message."""


# True only inside maintenance.maintenance() (retention purge, test clean-up).
in_maintenance: ContextVar[bool] = ContextVar("billing_maintenance", default=False)

_EDIT_REFUSED = (
    "Une facture émise ne peut plus être modifiée : émettez un avoir puis une "
    "facture rectificative."
)
_DELETE_REFUSED = "Une facture émise ne peut pas être supprimée."


class InvoiceQuerySet(models.QuerySet):
    """Bulk writes obey the same rule as `Invoice.save()`."""

    def update(self, **kwargs):
        if not set(kwargs) <= Invoice.MUTABLE_FIELDS and not in_maintenance.get():
            raise ImmutableInvoiceError(_EDIT_REFUSED)
        return super().update(**kwargs)

    def bulk_update(self, objs, fields, batch_size=None):
        if not set(fields) <= Invoice.MUTABLE_FIELDS and not in_maintenance.get():
            raise ImmutableInvoiceError(_EDIT_REFUSED)
        return super().bulk_update(objs, fields, batch_size=batch_size)

    def delete(self):
        if not in_maintenance.get():
            raise ImmutableInvoiceError(_DELETE_REFUSED)
        return super().delete()


class InvoiceLineQuerySet(models.QuerySet):
    """An issued line never changes, even in bulk."""

    def update(self, **kwargs):
        if not in_maintenance.get():
            raise ImmutableInvoiceError("Une ligne de facture émise ne peut pas être modifiée.")
        return super().update(**kwargs)

    def bulk_update(self, objs, fields, batch_size=None):
        return self.update()  # refused the same way

    def delete(self):
        if not in_maintenance.get():
            raise ImmutableInvoiceError("Une ligne de facture émise ne peut pas être supprimée.")
        return super().delete()


class PaymentSettings(models.Model):
    """The town's online-payment provider (at most one row), derived from the
    `payment` section of its configuration (BillingConfig.sync_town_rows, in
    onboarding's transaction). Secrets are NEVER stored: `secret_env` maps an
    eopayment option name to the environment variable that holds its value on
    the servers. Moved from core (migration 0007 keeps every town's row)."""

    kind = models.CharField("prestataire", max_length=30)
    options = models.JSONField(default=dict, blank=True)
    secret_env = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "paiement en ligne"

    def __str__(self) -> str:
        return self.kind


class Counter(models.Model):
    """A gapless per-town counter ("invoice-2026", "mandate")."""

    name = models.CharField(max_length=40, primary_key=True)
    value = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = "compteur"

    def __str__(self) -> str:
        return f"{self.name} = {self.value}"


class InvoicingRun(models.Model):
    """One execution of the monthly run (audit: what it did, what it skipped)."""

    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    invoices_created = models.PositiveIntegerField(default=0)
    lines_created = models.PositiveIntegerField(default=0)
    deferred = models.PositiveIntegerField(
        "réservations en attente (absence à examiner)", default=0
    )
    problems = models.JSONField(default=list, blank=True)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-started_at"]
        verbose_name = "facturation mensuelle"

    def __str__(self) -> str:
        return f"Facturation {self.month:02d}/{self.year}"


class Invoice(models.Model):
    class Kind(models.TextChoices):
        INVOICE = "invoice", "facture"
        CORRECTIVE = "corrective", "facture rectificative"
        CREDIT = "credit", "avoir"
        # What a family owed in the town's previous portal, taken over by the
        # import (opening_balances.py): payable like an invoice, never titled.
        OPENING = "opening", "solde repris"

    class Status(models.TextChoices):
        TO_PAY = "to_pay", "à payer"
        PARTLY_PAID = "partly_paid", "partiellement payée"
        PAID = "paid", "payée"
        DIRECT_DEBIT = "direct_debit", "prélèvement programmé"
        CANCELLED = "cancelled", "annulée par avoir"
        NOTHING_DUE = "nothing_due", "rien à payer"
        CREDIT = "credit", "avoir"
        HANDED_OVER = "handed_over", "transmise au Trésor public"

    # Fields that may change after issue.
    MUTABLE_FIELDS = frozenset({"status", "amount_paid", "amount_credited", "updated_at"})
    # Set once by an erasure (documents.personal_data through billing's retention
    # hook): the payer's identity is replaced by a pseudonym, the amounts stay.
    anonymised_at = models.DateTimeField("anonymisée le", null=True, blank=True)
    retention_until = models.DateField("conservée jusqu'au", null=True, blank=True)

    number = models.CharField("numéro", max_length=20, unique=True)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.INVOICE)
    regie_code = models.CharField("régie", max_length=40)
    regie_name = models.CharField("nom de la régie", max_length=160)
    household = models.ForeignKey(
        "families.Household", on_delete=models.PROTECT, related_name="invoices"
    )
    payer = models.ForeignKey(
        "families.Adult", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Snapshot: an invoice shows the payer and address it was issued to.
    payer_name = models.CharField("payeur", max_length=170)
    payer_email = models.EmailField(blank=True)
    payer_address = models.TextField(blank=True)
    year = models.PositiveSmallIntegerField("année facturée")
    month = models.PositiveSmallIntegerField("mois facturé")
    invoice_date = models.DateField("date de facture")
    due_date = models.DateField("date d'échéance")
    payment_opens_at = models.DateTimeField("paiement en ligne à partir du")
    payment_closes_at = models.DateTimeField("paiement en ligne jusqu'au")
    total = models.DecimalField(max_digits=10, decimal_places=2)
    paper = models.BooleanField("envoi papier", default=True)
    corrects = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="corrections",
        verbose_name="facture corrigée",
    )
    reason = models.CharField("motif (avoir, rectification)", max_length=255, blank=True)
    run = models.ForeignKey(
        InvoicingRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="invoices"
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Payment state: the only columns that change after issue.
    status = models.CharField(max_length=14, choices=Status.choices, default=Status.TO_PAY)
    amount_paid = models.DecimalField(max_digits=10, decimal_places=2, default=ZERO)
    amount_credited = models.DecimalField(max_digits=10, decimal_places=2, default=ZERO)
    updated_at = models.DateTimeField(auto_now=True)

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        ordering = ["-invoice_date", "-id"]
        verbose_name = "facture"
        constraints = [
            # One monthly invoice per payer household and régie: the run's idempotency key.
            models.UniqueConstraint(
                fields=["household", "regie_code", "year", "month"],
                condition=Q(kind="invoice"),
                name="billing_one_invoice_per_month_and_regie",
            ),
            models.CheckConstraint(
                condition=Q(month__gte=1, month__lte=12), name="billing_invoice_month_valid"
            ),
        ]
        indexes = [models.Index(fields=["household", "status"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display().capitalize()} {self.number}"

    def save(self, *args, **kwargs):
        # Only the payment state may change (the queryset guards bulk writes).
        if self.pk is not None and not self._state.adding:
            fields = kwargs.get("update_fields")
            if fields is None or not set(fields) <= self.MUTABLE_FIELDS:
                raise ImmutableInvoiceError(
                    f"La facture {self.number} est émise : elle ne peut plus être modifiée. "
                    "Émettez un avoir puis une facture rectificative."
                )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if not in_maintenance.get():
            raise ImmutableInvoiceError(
                f"La facture {self.number} est émise : elle ne peut pas être supprimée."
            )
        return super().delete(*args, **kwargs)

    @property
    def balance(self) -> Decimal:
        """What is left to pay (negative: the town owes the family)."""
        return self.total - self.amount_paid - self.amount_credited

    @property
    def payment_reference(self) -> str:
        """Letters and digits only (PayFiP's refdet, PayZen's order id)."""
        return self.number.replace("-", "")

    @property
    def period_label(self) -> str:
        return month_label(self.year, self.month)


class InvoiceLine(models.Model):
    class Kind(models.TextChoices):
        CHARGE = "charge", "prestation"
        REVERSAL = "reversal", "annulation (avoir)"

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CHARGE)
    # No database constraint on booking and child (Django still PROTECTs them):
    # checking 10^5 foreign keys at commit, each locking the booking row
    # FOR KEY SHARE, cost a quarter of the monthly run (bench/billing_run.py);
    # no plain index either (lookups by booking use the partial unique ones).
    booking = models.ForeignKey(
        "booking.Booking",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="billing_lines",
        db_constraint=False,
        db_index=False,  # the partial unique indexes below start with booking
    )
    # 1 for the monthly run; a corrective invoice bills the booking again as 2, 3...
    generation = models.PositiveSmallIntegerField(default=1)
    # 0: the whole day; 1 and 2: household A's and B's share of a day the
    # child's payer rule splits (payer_rules.SPLIT): each share is billed once.
    share_part = models.PositiveSmallIntegerField("part", default=0)
    child = models.ForeignKey(
        "families.Child",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    child_name = models.CharField("enfant", max_length=170)
    service_code = models.CharField(max_length=60)
    service_name = models.CharField("prestation", max_length=160)
    day = models.DateField("date")
    quantity = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal(1))
    unit = models.CharField(max_length=30, default="séance")
    attendance = models.CharField(max_length=24)
    billed_percent = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal(100))
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    explanation = models.TextField("détail du prix", blank=True)
    position = models.PositiveIntegerField(default=0)

    objects = InvoiceLineQuerySet.as_manager()

    class Meta:
        ordering = ["invoice", "position", "id"]
        verbose_name = "ligne de facture"
        constraints = [
            models.UniqueConstraint(
                fields=["booking", "generation", "share_part"],
                condition=Q(kind="charge"),
                name="billing_booking_billed_once_per_generation",
            ),
            models.UniqueConstraint(
                fields=["booking", "generation", "share_part"],
                condition=Q(kind="reversal"),
                name="billing_booking_reversed_once_per_generation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.child_name} — {self.service_name} — {self.day:%d/%m/%Y}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise ImmutableInvoiceError("Une ligne de facture émise ne peut pas être modifiée.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if not in_maintenance.get():
            raise ImmutableInvoiceError("Une ligne de facture émise ne peut pas être supprimée.")
        return super().delete(*args, **kwargs)


class BillingPreference(models.Model):
    """A household's choices: e-invoice ("adhésion à la facture en ligne")."""

    household = models.OneToOneField(
        "families.Household", on_delete=models.CASCADE, related_name="billing_preference"
    )
    e_invoice = models.BooleanField("facture en ligne (plus de facture papier)", default=False)
    e_invoice_since = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "préférences de facturation"

    def __str__(self) -> str:
        return f"Préférences du foyer {self.household_id}"


class PaymentAttempt(models.Model):
    """A family started an online payment (one redirect to the provider)."""

    class Status(models.TextChoices):
        STARTED = "STARTED", "commencé"
        WAITING = "WAITING", "en attente de confirmation"
        PAID = "PAID", "payé"
        ACCEPTED = "ACCEPTED", "autorisé"
        DENIED = "DENIED", "refusé"
        CANCELLED = "CANCELLED", "abandonné"
        EXPIRED = "EXPIRED", "expiré"
        ERROR = "ERROR", "erreur"
        RECEIVED = "RECEIVED", "reçu"

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="attempts")
    reference = models.CharField(max_length=30, unique=True)  # our order id, sent to the provider
    provider = models.CharField(max_length=20)
    provider_transaction_id = models.CharField(max_length=120, blank=True)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.STARTED)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = "tentative de paiement en ligne"
        indexes = [models.Index(fields=["provider", "status"])]

    def __str__(self) -> str:
        return self.reference


class AttemptShare(models.Model):
    """One invoice paid by a grouped payment attempt (« Tout payer »): the share
    of the attempt's amount it receives, oldest invoice first."""

    attempt = models.ForeignKey(PaymentAttempt, on_delete=models.PROTECT, related_name="shares")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        ordering = ["id"]
        verbose_name = "facture d'un paiement groupé"
        constraints = [
            models.UniqueConstraint(fields=["attempt", "invoice"], name="billing_share_once"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="billing_share_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.attempt} — {self.invoice}"


class DeskPayment(models.Model):
    """Money handed over at the régie's desk (cash, cheque, CESU, chèques
    vacances, card on the desk terminal), entered by staff. Its own reference
    (cheque number, bank) is NEVER a provider transaction id: the same cheque
    number may be typed twice (a warning, not an error). It is allocated
    explicitly to one or more invoices of one household: one `Payment` per
    invoice, pointing here. `idempotency_key` (one per rendered form) makes a
    double submit record one operation."""

    class Means(models.TextChoices):
        CASH = "cash", "espèces"
        CHEQUE = "cheque", "chèque"
        CESU = "cesu", "CESU"
        ANCV = "ancv", "chèques vacances ANCV"
        CARD = "card", "carte bancaire au guichet"

    household = models.ForeignKey(
        "families.Household", on_delete=models.PROTECT, related_name="desk_payments"
    )
    means = models.CharField("moyen de paiement", max_length=8, choices=Means.choices)
    cheque_number = models.CharField("numéro du chèque", max_length=30, blank=True)
    bank = models.CharField("banque", max_length=80, blank=True)
    reference = models.CharField("référence (titre, ticket…)", max_length=80, blank=True)
    amount = models.DecimalField("montant reçu", max_digits=10, decimal_places=2)
    receipt_number = models.CharField("numéro de reçu", max_length=20, unique=True)
    idempotency_key = models.UUIDField(unique=True)
    received_at = models.DateTimeField("reçu le")
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    received_by_label = models.CharField("agent", max_length=200, blank=True)
    note = models.CharField("commentaire", max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = "encaissement au guichet"
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="billing_desk_payment_positive"),
        ]
        indexes = [models.Index(fields=["means", "cheque_number"])]

    def __str__(self) -> str:
        return self.receipt_number

    @property
    def means_label(self) -> str:
        label = self.get_means_display()
        if self.means == self.Means.CHEQUE and self.cheque_number:
            label += f" n° {self.cheque_number}"
            if self.bank:
                label += f" ({self.bank})"
        return label


class Payment(models.Model):
    class Method(models.TextChoices):
        ONLINE = "online", "carte bancaire en ligne"
        DIRECT_DEBIT = "direct_debit", "prélèvement"
        DESK = "desk", "à la régie"

    class Status(models.TextChoices):
        # A direct debit handed to the bank: the money arrives on `paid_at`
        # (the collection date); settle_direct_debits() makes it valid then.
        SCHEDULED = "scheduled", "prélèvement prévu"
        VALID = "valid", "encaissé"
        REJECTED = "rejected", "rejeté"

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    method = models.CharField(max_length=14, choices=Method.choices)
    provider = models.CharField(max_length=20)  # payzen, dummy..., "sepa", "regie"
    transaction_id = models.CharField(max_length=120)
    attempt = models.ForeignKey(
        PaymentAttempt, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.VALID)
    paid_at = models.DateTimeField()
    test = models.BooleanField("paiement de test", default=False)
    # Audit trail; providers mask card numbers, we never receive one in full.
    bank_data = models.JSONField(default=dict, blank=True)
    receipt_number = models.CharField(max_length=20, unique=True)
    rejection_reason = models.CharField(max_length=255, blank=True)
    # A desk payment's allocation to this invoice (means, cheque number, bank there).
    desk_payment = models.ForeignKey(
        DeskPayment, null=True, blank=True, on_delete=models.PROTECT, related_name="allocations"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-paid_at", "-id"]
        verbose_name = "paiement"
        constraints = [
            # A replayed or concurrent notification cannot record a second payment
            # (a grouped payment records one row per invoice it pays).
            models.UniqueConstraint(
                fields=["provider", "transaction_id", "invoice"],
                name="billing_one_payment_per_provider_transaction",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="billing_payment_positive"),
        ]

    def __str__(self) -> str:
        return self.receipt_number

    @property
    def how_label(self) -> str:
        """« chèque n° 1234567 (Banque Postale) », « carte bancaire en ligne »...
        (select_related("desk_payment") in lists)."""
        if self.desk_payment_id:
            return f"{self.desk_payment.means_label}, à la régie"
        return self.get_method_display()


class AccountCredit(models.Model):
    """Money a family paid that no invoice owed (« trop-perçu »): a second paid
    transaction for a settled invoice (two tabs, a provider's duplicate), or a
    grouped payment whose invoice was settled at the desk meanwhile. Kept on the
    household's account — never on an invoice, never lost — until the régie
    refunds it or uses it, and marks it handled. One per provider transaction."""

    class Status(models.TextChoices):
        OPEN = "open", "à traiter par la régie"
        HANDLED = "handled", "traité"

    household = models.ForeignKey(
        "families.Household", on_delete=models.PROTECT, related_name="account_credits"
    )
    invoice = models.ForeignKey(
        Invoice,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="surpluses",
        verbose_name="facture visée par le paiement",
    )
    regie_code = models.CharField("régie", max_length=40)
    regie_name = models.CharField("nom de la régie", max_length=160)
    amount = models.DecimalField("montant", max_digits=10, decimal_places=2)
    provider = models.CharField(max_length=20)
    transaction_id = models.CharField(max_length=120)
    attempt = models.ForeignKey(
        PaymentAttempt, null=True, blank=True, on_delete=models.PROTECT, related_name="surpluses"
    )
    received_at = models.DateTimeField("reçu le")
    test = models.BooleanField("paiement de test", default=False)
    bank_data = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    handled_at = models.DateTimeField("traité le", null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handled_by_label = models.CharField("traité par", max_length=200, blank=True)
    handled_note = models.CharField("suite donnée", max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = "trop-perçu (crédit de la famille)"
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "transaction_id"], name="billing_one_credit_per_transaction"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="billing_credit_positive"),
        ]
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"{self.amount} € — {self.transaction_id}"


class Mandate(models.Model):
    """An electronic SEPA direct-debit mandate signed online by a payer."""

    class Status(models.TextChoices):
        ACTIVE = "active", "actif"
        REVOKED = "revoked", "révoqué"

    household = models.ForeignKey(
        "families.Household", on_delete=models.PROTECT, related_name="mandates"
    )
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    rum = models.CharField("référence unique de mandat (RUM)", max_length=35, unique=True)
    holder_name = models.CharField("titulaire du compte", max_length=70)
    iban = models.CharField("IBAN", max_length=34)
    bic = models.CharField("BIC", max_length=11, blank=True)
    signed_at = models.DateTimeField("signé le")
    signed_ip = models.GenericIPAddressField(null=True, blank=True)
    applies_from = models.DateField("s'applique aux factures à partir du mois de")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_collection_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-signed_at"]
        verbose_name = "mandat de prélèvement"
        constraints = [
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(status="active"),
                name="billing_one_active_mandate_per_household",
            ),
        ]

    def __str__(self) -> str:
        return self.rum

    @property
    def masked_iban(self) -> str:
        return f"{self.iban[:4]} •••• •••• {self.iban[-4:]}"


class SepaExport(models.Model):
    """One pain.008 file handed to the bank, for one collection date."""

    collection_date = models.DateField("date de prélèvement")
    message_id = models.CharField(max_length=35)
    xml = models.BinaryField()
    count = models.PositiveIntegerField()
    total = models.DecimalField(max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "fichier de prélèvement"

    def __str__(self) -> str:
        return self.message_id


class DirectDebit(models.Model):
    """One invoice to collect by direct debit on a date."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "programmé"
        EXPORTED = "exported", "transmis à la banque"
        REJECTED = "rejected", "rejeté"
        CANCELLED = "cancelled", "annulé"

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="direct_debits")
    mandate = models.ForeignKey(Mandate, on_delete=models.PROTECT, related_name="debits")
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    collection_date = models.DateField("date de prélèvement")
    sequence = models.CharField(max_length=4, blank=True)  # FRST/RCUR, fixed at export
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    prenotified_at = models.DateTimeField(null=True, blank=True)
    export = models.ForeignKey(
        SepaExport, null=True, blank=True, on_delete=models.PROTECT, related_name="debits"
    )
    rejection_reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["collection_date", "id"]
        verbose_name = "prélèvement"
        constraints = [
            models.UniqueConstraint(
                fields=["invoice"],
                condition=Q(status__in=["scheduled", "exported"]),
                name="billing_one_live_debit_per_invoice",
            ),
        ]

    def __str__(self) -> str:
        return f"Prélèvement {self.invoice_id} du {self.collection_date:%d/%m/%Y}"


class PayerRule(models.Model):
    """Who pays a child's booked days (separated parents: two households).

    No rule: the child's home household pays everything (the behaviour before
    rules existed). Applied by payer_rules.payer_shares() (pure) in the
    monthly run, the calendar and the price explanation. Set by staff on the
    child's record, or proposed by a parent through a request (kind
    "payer_rule")."""

    class Kind(models.TextChoices):
        HOME = "home", "un seul foyer paie tout"
        BOOKER = "booker", "le parent qui a réservé paie le jour"
        ALTERNATE_WEEKS = "alternate_weeks", "une semaine sur deux (garde alternée)"
        WEEKDAYS = "weekdays", "selon les jours de la semaine"
        SPLIT = "split", "partage en pourcentage de chaque jour"

    child = models.OneToOneField(
        "families.Child", on_delete=models.CASCADE, related_name="payer_rule"
    )
    kind = models.CharField("règle", max_length=16, choices=Kind.choices)
    household_a = models.ForeignKey(
        "families.Household", on_delete=models.CASCADE, related_name="+", verbose_name="foyer A"
    )
    household_b = models.ForeignKey(
        "families.Household",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name="foyer B",
    )
    weekdays_a = ArrayField(
        models.PositiveSmallIntegerField(),
        default=list,
        blank=True,
        verbose_name="jours du foyer A",
    )
    reference_monday = models.DateField("lundi d'une semaine du foyer A", null=True, blank=True)
    percent_a = models.PositiveSmallIntegerField("part du foyer A (%)", null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "règle de paiement"

    def __str__(self) -> str:
        return f"{self.child_id}: {self.get_kind_display()}"

    def as_rule(self):
        return Rule(
            kind=self.kind,
            household_a=self.household_a_id,
            household_b=self.household_b_id,
            weekdays_a=frozenset(self.weekdays_a or ()),
            reference_monday=self.reference_monday,
            percent_a=self.percent_a,
        )


class DebtorDetails(models.Model):
    """What Hélios needs about a household's payer and the family record lacks
    (civility). Set by billing staff from the PES batch page."""

    class Civility(models.TextChoices):
        M = "M", "M."
        MME = "MME", "Mme"

    household = models.OneToOneField(
        "families.Household", on_delete=models.CASCADE, related_name="debtor_details"
    )
    civility = models.CharField("civilité du payeur", max_length=3, choices=Civility.choices)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "débiteur (Hélios)"

    def __str__(self) -> str:
        return f"{self.household_id}: {self.civility}"


class PesBatch(models.Model):
    """One PES V2 ORMC file (a bordereau) for one régie and one month."""

    class Status(models.TextChoices):
        BUILT = "built", "prêt à transmettre"
        SENT = "sent", "transmis à la trésorerie"
        ACKNOWLEDGED = "acknowledged", "accusé de réception enregistré"

    regie_code = models.CharField("régie", max_length=40)
    regie_name = models.CharField("nom de la régie", max_length=160)
    year = models.PositiveSmallIntegerField("année facturée")
    month = models.PositiveSmallIntegerField("mois facturé")
    exercice = models.PositiveSmallIntegerField("exercice")
    bordereau = models.PositiveIntegerField("numéro de bordereau")
    file_name = models.CharField(max_length=100)
    xml = models.BinaryField()
    count = models.PositiveIntegerField()
    total = models.DecimalField(max_digits=12, decimal_places=2)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.BUILT)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "bordereau PES"
        constraints = [
            models.UniqueConstraint(
                fields=["exercice", "bordereau"], name="billing_pes_one_number_per_exercice"
            )
        ]

    def __str__(self) -> str:
        return f"Bordereau {self.bordereau}/{self.exercice}"


class PesPiece(models.Model):
    """One invoice sent as a title in a batch, and what Hélios answered."""

    class Status(models.TextChoices):
        PENDING = "pending", "en attente de la trésorerie"
        ACCEPTED = "accepted", "acceptée"
        REJECTED = "rejected", "rejetée"

    batch = models.ForeignKey(PesBatch, on_delete=models.PROTECT, related_name="pieces")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="pes_pieces")
    number = models.PositiveIntegerField("numéro de pièce")
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    rejection_reason = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["batch", "number"]
        verbose_name = "pièce PES"
        constraints = [
            models.UniqueConstraint(fields=["batch", "number"], name="billing_pes_piece_number"),
            # An invoice is a title once, unless the treasury rejected it.
            models.UniqueConstraint(
                fields=["invoice"],
                condition=~Q(status="rejected"),
                name="billing_pes_one_live_title_per_invoice",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}/{self.number}"


class ReminderStep(models.Model):
    """A step of the unpaid follow-up taken for an invoice (once: the run's key)."""

    class Stage(models.TextChoices):
        FIRST = "reminder_1", "première relance"
        SECOND = "reminder_2", "seconde relance"
        HANDOVER = "handover", "transmise au Trésor public"

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="reminders")
    stage = models.CharField(max_length=12, choices=Stage.choices)
    done_on = models.DateField("le")
    emailed = models.BooleanField(default=False)

    class Meta:
        ordering = ["invoice", "done_on"]
        verbose_name = "relance"
        constraints = [
            models.UniqueConstraint(fields=["invoice", "stage"], name="billing_one_step_per_stage")
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id}: {self.stage}"


class ReminderPause(models.Model):
    """Reminders stopped for a household (a payment plan agreed with the régie)."""

    household = models.OneToOneField(
        "families.Household", on_delete=models.CASCADE, related_name="reminder_pause"
    )
    reason = models.CharField("motif", max_length=255)
    instalments = models.TextField("échéancier convenu", blank=True)
    until = models.DateField("jusqu'au", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "relances suspendues"

    def __str__(self) -> str:
        return f"{self.household_id}: {self.reason}"
