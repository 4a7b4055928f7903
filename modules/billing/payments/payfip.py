"""PayFiP (DGFiP's card and direct-debit payment of public revenue).

PayFiP signs nothing. Its notification (and the family's browser return) only
carries the operation id `idop`; the payment is CONFIRMED by asking PayFiP for
that operation's details (SOAP `recupererDetailPaiementSecurise`, through
eopayment's `payment_status`). Consequences:

- an `idop` is valid 15 minutes: while the family is on PayFiP's page the
  query answers "P5" (in progress), which eopayment reports as WAITING for up
  to 2 hours (`P5_WAITING_IN_MINUTES`), then EXPIRED; "P1" (unknown, purged
  overnight) is EXPIRED too; a cancellation looks WAITING for 2 minutes;
- the notification may never arrive (network, PayFiP outage): a
  RECONCILIATION JOB must query every attempt still WAITING, e.g. every
  15 minutes until it is PAID, DENIED, CANCELLED or EXPIRED (at least 2 h
  after it began). `needs_another_look()` tells it when to keep trying.

The job's loop (Celery beat, per town, over stored attempts) belongs to the
invoicing issue; this module is its boundary: one call per attempt, returning
a Notification for `verify_notification()` like any other provider's.
"""

from __future__ import annotations

from datetime import datetime

from eopayment.payfip_ws import PayFiPError

from .contracts import Notification, PaymentError, PaymentStatus
from .gateway import to_notification

# An attempt with one of these statuses is not settled yet.
UNSETTLED = frozenset({PaymentStatus.RECEIVED, PaymentStatus.WAITING})


def reconcile_payfip_payment(gateway, *, idop: str, started_at: datetime | None) -> Notification:
    """Ask PayFiP what became of operation `idop` (network call).

    started_at: when the attempt was created (stored with it); eopayment uses
    it to tell "still in progress" from "abandoned". Raise PaymentError
    (French) when PayFiP cannot be reached: the job tries again later.
    """

    if gateway.provider != "payfip_ws":
        raise PaymentError("Le rapprochement par interrogation ne concerne que PayFiP.")
    try:
        response = gateway.payment_status(idop, started_at=started_at)
    except PayFiPError as exc:
        raise PaymentError(
            f"PayFiP n'a pas pu confirmer le paiement (code {exc.code}) : nouvel essai plus tard."
        ) from exc
    return to_notification("payfip_ws", response)


def needs_another_look(notification: Notification) -> bool:
    """True while the reconciliation job must query this attempt again."""
    return notification.result in UNSETTLED
