"""Deciding whether a provider's notification can be trusted (pure).

eopayment reports a bad signature as `signed=False` instead of raising (its
systempay/payzen and paybox backends): refusing unsigned answers is OUR job,
and so is checking that what was paid is what the invoice asks.
"""

from __future__ import annotations

from ..pricing import euros
from .contracts import (
    ExpectedPayment,
    Notification,
    PaymentStatus,
    RejectedNotification,
    RejectionReason,
    VerifiedPayment,
)

# Statuses where money moves: only then do amount and currency matter (a
# refused or expired attempt may carry no amount at all, e.g. PayFiP's).
_MONEY_MOVED = {PaymentStatus.PAID, PaymentStatus.ACCEPTED}


def verify_notification(
    notification: Notification,
    *,
    expected: ExpectedPayment | None,
    accept_test: bool = False,
) -> VerifiedPayment | RejectedNotification:
    """Trust a notification, or say in French why not.

    expected: the payment the invoice expects under `notification.order_id`
    (None when the reference matches no invoice). accept_test: True only for
    the demo and test towns; in production a test-mode payment moved no money.
    The same notification can come several times (PayZen retries its IPN up to
    4 times, and the browser return repeats it): the caller applies a verified
    payment once per `transaction_id`.
    """
    n = notification
    if not n.signed:
        return RejectedNotification(
            RejectionReason.UNSIGNED,
            "Notification refusée : la signature du prestataire de paiement est absente "
            "ou invalide.",
        )
    if expected is None or n.order_id != expected.reference:
        return RejectedNotification(
            RejectionReason.UNKNOWN_REFERENCE,
            f"Notification refusée : la référence « {n.order_id} » ne correspond à aucun "
            "paiement attendu.",
        )
    if n.test and not accept_test:
        return RejectedNotification(
            RejectionReason.TEST_MODE,
            "Notification refusée : paiement en mode test, aucune somme n'a été encaissée.",
        )
    if n.result in _MONEY_MOVED:
        if n.currency != expected.currency:
            return RejectedNotification(
                RejectionReason.WRONG_CURRENCY,
                f"Notification refusée : devise « {n.currency or 'absente'} » au lieu de "
                f"« {expected.currency} ».",
            )
        if n.amount is None or n.amount != expected.amount:
            paid = "absent" if n.amount is None else _amount(n.amount)
            return RejectedNotification(
                RejectionReason.WRONG_AMOUNT,
                f"Notification refusée : montant payé {paid} au lieu de {euros(expected.amount)}.",
            )
    return VerifiedPayment(
        provider=n.provider,
        reference=n.order_id,
        transaction_id=n.transaction_id,
        result=n.result,
        amount=n.amount,
        test=n.test,
    )


def _amount(value) -> str:
    try:
        return euros(value)
    except Exception:  # NaN, infinity: show what came
        return str(value)
