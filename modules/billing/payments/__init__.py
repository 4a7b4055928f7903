"""Online payment: contracts, the eopayment adapter and notification checks.

gateway = gateway_from_settings(PaymentSettings.objects.get())
redirect = gateway.start(PaymentRequest(amount=..., reference=..., email=...,
                                        return_url=..., notification_url=...))
...
notification = gateway.parse_notification(request.body)
result = verify_notification(notification, expected=ExpectedPayment(...))
"""

from .contracts import (
    ExpectedPayment,
    MalformedNotification,
    Notification,
    PaymentConfigurationError,
    PaymentError,
    PaymentRedirect,
    PaymentRequest,
    PaymentStatus,
    RejectedNotification,
    RejectionReason,
    VerifiedPayment,
)
from .gateway import EopaymentGateway, PaymentGateway, gateway_from_settings
from .payfip import needs_another_look, reconcile_payfip_payment
from .verification import verify_notification

__all__ = [
    "EopaymentGateway",
    "ExpectedPayment",
    "MalformedNotification",
    "Notification",
    "PaymentConfigurationError",
    "PaymentError",
    "PaymentGateway",
    "PaymentRedirect",
    "PaymentRequest",
    "PaymentStatus",
    "RejectedNotification",
    "RejectionReason",
    "VerifiedPayment",
    "gateway_from_settings",
    "needs_another_look",
    "reconcile_payfip_payment",
    "verify_notification",
]
