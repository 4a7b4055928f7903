"""Contract dataclasses of online payment: what the rest of billing sees.

Nothing here knows eopayment; `gateway.py` translates both ways.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from ..pricing import euros

# The strictest provider sets the format: PayFiP's `refdet` is 1-30 letters
# or digits (eopayment.payfip_ws.REFDET_RE); PayZen's vads_order_id and
# Paybox's PBX_CMD accept it too. Invoice references must follow it.
REFERENCE_RE = re.compile(r"^[A-Za-z0-9]{1,30}$")
MAX_AMOUNT = Decimal("100000.00")  # PayFiP's ceiling, the lowest of our providers


class PaymentError(Exception):
    """Online payment cannot proceed; the message is French."""


class PaymentConfigurationError(PaymentError):
    """The town's payment settings or the server's environment are wrong."""


class MalformedNotification(PaymentError):
    """A provider's notification cannot be read at all."""


class PaymentStatus(StrEnum):
    """eopayment's statuses, by name."""

    RECEIVED = "RECEIVED"
    ACCEPTED = "ACCEPTED"  # authorised, not yet captured
    PAID = "PAID"
    DENIED = "DENIED"
    CANCELLED = "CANCELLED"
    WAITING = "WAITING"
    EXPIRED = "EXPIRED"
    ERROR = "ERROR"


@dataclass(frozen=True)
class PaymentRequest:
    amount: Decimal  # euros
    reference: str  # the invoice's reference, REFERENCE_RE
    email: str  # the payer's; Paybox and PayFiP require one
    return_url: str  # where the family's browser comes back
    notification_url: str  # server-to-server notification (the source of truth)
    description: str = ""

    def __post_init__(self) -> None:
        if not REFERENCE_RE.match(self.reference):
            raise PaymentError(
                f"Référence de paiement « {self.reference} » invalide : 1 à 30 lettres ou chiffres."
            )
        amount = Decimal(self.amount)
        if amount <= 0 or amount > MAX_AMOUNT or amount != amount.quantize(Decimal("0.01")):
            raise PaymentError(
                f"Montant à payer invalide ({self.amount}) : entre 0,01 € et {euros(MAX_AMOUNT)}, "
                "au centime près."
            )
        if "@" not in self.email:
            raise PaymentError("Une adresse e-mail valide est nécessaire pour payer en ligne.")


@dataclass(frozen=True)
class PaymentRedirect:
    """Where to send the family's browser: a plain redirect (GET) or a form to
    post automatically (POST, with its hidden fields). Card data is typed on the
    provider's page only: our servers never see it (PCI DSS SAQ A)."""

    transaction_id: str  # the provider's/eopayment's id of this attempt: store it
    url: str
    method: str = "GET"
    fields: tuple[tuple[str, str], ...] = ()

    @property
    def is_form(self) -> bool:
        return self.method == "POST"


@dataclass(frozen=True)
class Notification:
    """A provider's answer, read but NOT yet trusted: see verify_notification()."""

    provider: str
    result: PaymentStatus
    signed: bool
    transaction_id: str
    order_id: str  # our reference, as the provider echoes it
    amount: Decimal | None  # euros
    currency: str | None  # ISO 4217 letters ("EUR")
    test: bool  # a test-mode payment: no money moved
    bank_status: str = ""
    bank_data: Mapping = field(default_factory=dict)  # keep for audit (no card data)
    return_content: str | None = None  # body to answer the provider with, if any


@dataclass(frozen=True)
class ExpectedPayment:
    """What the invoice says (plain values until invoice models exist)."""

    reference: str
    amount: Decimal
    currency: str = "EUR"


class RejectionReason(StrEnum):
    UNSIGNED = "unsigned"
    UNKNOWN_REFERENCE = "unknown_reference"
    TEST_MODE = "test_mode"
    WRONG_CURRENCY = "wrong_currency"
    WRONG_AMOUNT = "wrong_amount"


@dataclass(frozen=True)
class VerifiedPayment:
    """A notification that can be trusted. Act on it only when `paid`; it may
    arrive several times (IPN retries, browser return): key the effect on
    `transaction_id` so a repeat changes nothing."""

    provider: str
    reference: str
    transaction_id: str
    result: PaymentStatus
    amount: Decimal | None
    test: bool

    @property
    def paid(self) -> bool:
        return self.result is PaymentStatus.PAID


@dataclass(frozen=True)
class RejectedNotification:
    reason: RejectionReason
    message: str  # French, for the audit log and the staff
