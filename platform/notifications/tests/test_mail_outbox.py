"""The e-mail outbox: written with the use case, sent after commit, never lost
when the broker is down, sent at most once per row."""

import datetime
import time

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from families.services import request_change
from families.testing import make_family
from notifications import services
from notifications.models import OutboxMessage
from notifications.outbox import queue_mail
from notifications.tasks import flush_outboxes

pytestmark = pytest.mark.django_db

DEAD_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture
def dead_broker():
    """The real Celery app, NOT eager, pointed at a broker that refuses connections."""
    from portal.celery import app

    saved = {k: app.conf[k] for k in ("task_always_eager", "broker_url")}
    app.conf.task_always_eager = False
    app.conf.broker_url = DEAD_BROKER
    app._pool = None
    app.amqp._producer_pool = None
    yield app
    app.conf.update(saved)
    app._pool = None
    app.amqp._producer_pool = None


def _qf(family):
    return request_change(
        adult=family.adult,
        change="quotient_familial",
        payload={
            "quotient_familial": 700,
            "qf_source": "caf",
            "qf_date": "2026-09-01",
            "allocataire_regime": "caf",
            "allocataire_number": "7654321",
        },
    )


def test_a_rolled_back_use_case_leaves_no_mail(
    castres, mailoutbox, django_capture_on_commit_callbacks
):
    with tenant_context(castres), django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            queue_mail(
                to=["a@example.org"],
                subject="Essai",
                template="demandes/email/notification.txt",
                context={"what": "message"},
            )
            raise RuntimeError
        assert not OutboxMessage.objects.exists()
    assert callbacks == [] and mailoutbox == []


def test_broker_down_at_commit_then_the_retry_task_delivers_exactly_once(
    castres,
    mailoutbox,
    dead_broker,
    django_capture_on_commit_callbacks,
):
    family = make_family(castres, key="leroy", last_name="Leroy")
    with tenant_context(castres):
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            _qf(family)
        publish_seconds = time.monotonic() - started
        assert len(callbacks) == 1  # the send was attempted after commit...
        row = OutboxMessage.objects.get()  # ...failed, and the row is still there
        assert row.sent_at is None and row.to == ["leroy@example.org"]
    assert mailoutbox == []
    # Kombu's default retries hang ~6.4 s; the no-retry send fails in ~5 ms (loose bound:
    # the machine may be loaded).
    assert publish_seconds < 4  # the family's request does not hang on Redis

    # A minute later, beat's task finds the pending row and sends it.
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=2), tick=False):
        assert flush_outboxes() == 1
        assert flush_outboxes() == 0  # sent rows are never sent again
    assert len(mailoutbox) == 1
    assert mailoutbox[0].subject == "Votre demande « Changement de quotient familial » : envoyée"
    with tenant_context(castres):
        assert OutboxMessage.objects.get().sent_at is not None


def test_young_rows_are_left_to_the_immediate_task(castres, mailoutbox):
    with tenant_context(castres):
        OutboxMessage.objects.create(to=["a@example.org"], subject="s", body="b")
        assert services.flush_pending() == 0
    assert mailoutbox == []


def test_deliver_is_at_most_once_per_row(castres, mailoutbox):
    with tenant_context(castres):
        row = OutboxMessage.objects.create(to=["a@example.org"], subject="s", body="b")
        assert services.deliver(row.pk) is True
        assert services.deliver(row.pk) is False
    assert len(mailoutbox) == 1


def test_a_failed_send_is_counted_and_retried(castres, mailoutbox, settings, monkeypatch):
    from django.core.mail import EmailMessage

    with tenant_context(castres):
        row = OutboxMessage.objects.create(to=["a@example.org"], subject="s", body="b")
        original = EmailMessage.send
        monkeypatch.setattr(
            EmailMessage, "send", lambda self, *a, **k: (_ for _ in ()).throw(OSError("SMTP down"))
        )
        assert services.deliver(row.pk) is False
        row.refresh_from_db()
        assert (row.sent_at, row.attempts, row.last_error) == (None, 1, "OSError: SMTP down")
        monkeypatch.setattr(EmailMessage, "send", original)
        assert services.deliver(row.pk) is True
    assert len(mailoutbox) == 1


def test_given_up_after_max_attempts(castres, mailoutbox):
    with tenant_context(castres):
        row = OutboxMessage.objects.create(
            to=["a@example.org"], subject="s", body="b", attempts=services.MAX_ATTEMPTS
        )
        assert services.deliver(row.pk) is False
    assert mailoutbox == []
