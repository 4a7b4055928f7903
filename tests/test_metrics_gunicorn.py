"""/metrics counts what really happened, through gunicorn with 2 workers
(prometheus_client's multi-process directory, as deployed).

Real HTTP requests: families of a committed town book (the opening-rush smoke's
own code: some get a place, the others a "full" refusal) and the payment
provider posts one correctly signed PayZen notification. Then /metrics, summed
over both workers, shows `guichet_bookings_total` equal to what the database
holds and `guichet_payments_total` / the paid amount moved by that payment.
"""

from __future__ import annotations

import http.client
import re
import urllib.parse
from decimal import Decimal

import pytest
from django.db import connection

from modules.billing.tests.test_billing_payments import PAYZEN_KEY, payzen_ipn
from tests import test_load_smoke
from tests.support import in_own_connection
from tests.test_load_smoke import SLUG, _bench

pytestmark = [pytest.mark.slow, pytest.mark.django_db]
rush_town = test_load_smoke.rush_town  # the same committed town (a fixture)

FAMILIES, PLACES, DAYS = 8, 3, 2


def _unpaid_invoice(commune):
    from modules.billing.models import PaymentAttempt
    from modules.billing.testing import make_invoiced_family

    family = make_invoiced_family(commune, last_name="Metrique")
    invoice = family.invoice
    attempt = PaymentAttempt.objects.create(
        invoice=invoice,
        reference=f"{invoice.payment_reference}P001",
        provider="payzen",
        amount=invoice.balance,
    )
    return attempt.reference, invoice.balance


def _metrics(port) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/metrics", headers={"Host": "127.0.0.1"})
    return conn.getresponse().read().decode()


def _sum(text: str, name: str, **labels) -> float:
    total = 0.0
    for line in text.splitlines():
        m = re.match(rf"^{name}\{{(.*)\}} (\S+)$", line)
        if m and all(f'{k}="{v}"' in m.group(1) for k, v in labels.items()):
            total += float(m.group(2))
    return total


def test_metrics_count_real_bookings_and_a_signed_payment_across_workers(
    rush_town, tmp_path, monkeypatch
):
    bench = _bench()
    info = in_own_connection(
        None, lambda: bench.populate(rush_town, FAMILIES, PLACES, DAYS, ceiling=False)
    )
    info["database_url"] = bench.database_url(connection.settings_dict["NAME"])
    reference, amount = in_own_connection(rush_town, lambda: _unpaid_invoice(rush_town))

    prom = tmp_path / "prometheus"
    prom.mkdir()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(prom))
    monkeypatch.setenv("CASTRES_PAYZEN_SECRET_TEST", PAYZEN_KEY)
    port = bench.free_port()
    server = bench.serve(2, port, db_url=info["database_url"], town=SLUG)
    try:
        run = bench.rush(info, port, concurrency=4)
        ipn = payzen_ipn(
            amount_cents=str(int(amount * 100)), order_id=reference, vads_site_id="00000000"
        )
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request(
            "POST",
            f"/{SLUG}/billing/paiement/notification/",
            urllib.parse.urlencode(ipn),
            {"Content-Type": "application/x-www-form-urlencoded", "Host": "127.0.0.1"},
        )
        answer = conn.getresponse()
        assert answer.status == 200, answer.read()
        text = _metrics(port)
    finally:
        bench.stop(server)

    assert run["statuses"].get(200) and not any(s >= 500 for s in run["statuses"])
    pids = {p.name.split("_")[-1] for p in prom.glob("counter_*.db")}
    assert len(pids) >= 2, "les deux workers n'ont pas écrit de compteurs"
    _overbooked, _drift, booked = bench.count_overbooked(info)
    town = {"town": SLUG, "module": "alsh", "action": "created"}
    assert _sum(text, "guichet_bookings_total", outcome="ok", **town) == booked
    assert _sum(text, "guichet_bookings_total", outcome="refused", **town) > 0  # the full days
    paid = {"town": SLUG, "provider": "payzen"}
    assert _sum(text, "guichet_payments_total", outcome="paid", **paid) == 1
    assert Decimal(str(_sum(text, "guichet_payments_amount_euros_total", **paid))) == amount
    # The receipt e-mail went through the outbox and was counted as sent.
    assert _sum(text, "guichet_emails_total", town=SLUG, outcome="sent") >= 1
