"""The README's run command on a machine without PostgreSQL nor Redis: the real
entry point (`manage.py rundemo`, what `make run` calls) with DATABASE_URL and
REDIS_URL unset, so it uses the embedded PostgreSQL and eager Celery.

The demo must work on ANY day (issue #13): the command runs twice with its
clock moved (`--date`, time-machine), on 31 December at 23:30 and then on
14 July of next year on the same database (a demo made in winter, opened
again in summer). Each time, over HTTP through the running server: every town
answers; README's famille.martin signs in to Castres and sees two children,
their bookings and an amount due; there are bookable days and validated
registrations; and paying the invoice through the payment simulator (PayZen's
protocol, our real adapter) marks it paid.
"""

import html as htmllib
import http.cookiejar
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOWNS = {
    "bassens": ("Bassens", "05 57 80 81 87"),
    "bondoufle": ("Bondoufle", "01 69 91 46 56"),
    "castres": ("Castres", "05 63 62 43 44"),
    "donges": ("Donges", "02 40 45 79 79"),
    "chalonnes": ("Chalonnes-sur-Loire", "aps@chalonnes-sur-loire.fr"),
}
FAMILY = ("famille.martin", "une belle journée à la piscine")  # README.md


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """A cookie-keeping HTTP client (follows redirects, like a browser)."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def open(self, path: str, data: dict | None = None) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        url = path if path.startswith("http") else self.base + path
        try:
            with self.opener.open(url, data=body, timeout=30) as r:
                return r.status, r.read().decode(), r.geturl()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(), url

    def json(self, path: str):
        status, text, _ = self.open(path)
        assert status == 200, (path, status, text[:500])
        return json.loads(text)

    def csrf(self) -> str:
        return next(c.value for c in self.jar if c.name == "csrftoken")


def _signed_in(base: str, slug: str) -> Browser:
    """README's famille.martin signed in to one town (a session is per town)."""
    family = Browser(base)
    family.open(f"/{slug}/compte/connexion/")
    status, page, url = family.open(
        f"/{slug}/compte/connexion/",
        {"csrfmiddlewaretoken": family.csrf(), "identifier": FAMILY[0], "password": FAMILY[1]},
    )
    assert status == 200 and "/connexion/" not in url, (slug, page[-2000:])
    return family


def _invoices(family: Browser, slug: str) -> tuple[list, list]:
    """(payable online now, paid) invoices of the signed-in household."""
    invoices = family.json(f"/{slug}/api/billing/factures/")
    invoices = invoices.get("results", invoices) if isinstance(invoices, dict) else invoices
    due = [i for i in invoices if i["status"] == "to_pay" and i["online_payment"]["possible"]]
    return due, [i for i in invoices if i["status"] == "paid"]


def _pay(family: Browser, slug: str, invoice: int) -> str:
    """Pay an invoice online as the family would; returns the provider page's path."""
    family.open(f"/{slug}/billing/factures/{invoice}/")
    status, page, url = family.open(
        f"/{slug}/billing/factures/{invoice}/payer/", {"csrfmiddlewaretoken": family.csrf()}
    )
    if "vers-prestataire" in page:  # a form to post to the provider: the simulator
        action, fields = _form(page, "vers-prestataire")
        status, page, url = family.open(action, fields)
        assert status == 200 and "Démonstration, aucun paiement réel" in page, (slug, page)
    else:  # the dummy backend's demo page (billing's fake_provider)
        action, fields = url, _form(page, 'name="decision"')[1]
    status, back, url = family.open(action, {**fields, "decision": "pay"})
    assert status == 200 and f"/{slug}/billing/paiement/retour/" in url, (slug, back[-2000:])
    assert "reçu. Merci" in back, slug
    assert family.json(f"/{slug}/api/billing/factures/{invoice}/")["status"] == "paid", slug
    return urllib.parse.urlsplit(action).path


def _form(page: str, marker: str) -> tuple[str, dict]:
    form = next(f for f in re.findall(r"<form.*?</form>", page, re.S) if marker in f)
    found = re.search(r'<form[^>]*action="([^"]*)"', form)
    action = htmllib.unescape(found.group(1)) if found else ""
    fields = {
        htmllib.unescape(n): htmllib.unescape(v)
        for n, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form)
    }
    return action, fields


def _serve(tmp_path, pgdata, port, moment: str, name: str):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE")
        and not k.endswith(("_PAYZEN_SECRET_TEST", "_PAYBOX_HMAC_KEY"))
    }
    env.update(PORT=str(port), EMBEDDED_PGDATA=str(pgdata), MEDIA_ROOT=str(tmp_path / "media"))
    log_path = tmp_path / f"{name}.log"
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "rundemo", "--date", moment],
        cwd=ROOT,
        env=env,
        stdout=open(log_path, "w"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 1800  # a loaded CI machine: onboarding takes minutes
    while time.monotonic() < deadline:
        assert proc.poll() is None, log_path.read_text()[-3000:]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/", timeout=5) as r:
                if r.status == 200:
                    return proc, log_path
        except OSError:
            pass
        time.sleep(1)
    proc.terminate()
    raise AssertionError(log_path.read_text()[-3000:])


def _check_demo(base: str, today: date) -> None:
    anonymous = Browser(base)
    status, home, _ = anonymous.open("/")
    assert status == 200
    for slug, (name, contact) in TOWNS.items():
        assert f'href="/{slug}/"' in home
        status, page, _ = anonymous.open(f"/{slug}/")
        assert status == 200 and f"portail famille de {name}" in page and contact in page, slug

    # DEBUG is off in the demo: a mistyped address gets the product's own 404 page.
    status, missing, _ = anonymous.open("/castres/page-qui-n-existe-pas/")
    assert status == 404 and "URLconf" not in missing and 'lang="fr"' in missing

    family = _signed_in(base, "castres")
    status, dashboard, _ = family.open("/castres/mon-espace/")
    assert status == 200 and "Léa" in dashboard and "Hugo" in dashboard
    due, paid = _invoices(family, "castres")
    assert due and paid, (due, paid)
    amount = due[0]["balance"].replace(".", ",")
    # The dashboard is where a parent acts: the children, their coming booked
    # days (all services together) and the amount due with one « Payer ».
    text = htmllib.unescape(dashboard).replace("\u202f", "").replace("\u00a0", " ")
    coming = text.split('id="card-resa"', 1)[1].split("Réserver ou annuler", 1)[0]
    assert ">Léa</h3>" in coming and ">Hugo</h3>" in coming, coming
    days = re.findall(r"<li><strong>([^<]+)</strong> : ([^<]+)</li>", coming)
    assert days and all(services.strip() for _, services in days), coming
    invoices = family.json("/castres/api/billing/factures/")
    invoices = invoices.get("results", invoices) if isinstance(invoices, dict) else invoices
    owed = sum(Decimal(i["balance"]) for i in invoices if i["status"] == "to_pay")
    owed_label = f"{owed:,.2f}".replace(",", "").replace(".", ",") + " €"
    assert f"Reste à payer : <strong>{owed_label}</strong>" in text, (owed_label, text[-3000:])
    assert f"Payer {owed_label}</button>" in text
    status, listing, _ = family.open("/castres/billing/factures/")
    assert amount in listing.replace("\u202f", "").replace("\u00a0", " "), amount

    # Bookings past and coming, and days still bookable, for both children.
    for module in ("periscolaire", "alsh"):
        grid = family.json(
            f"/castres/api/{module}/reservations/?du={today - timedelta(days=30)}"
            f"&au={today + timedelta(days=60)}"
        )
        cells = [(d["day"], c) for d in grid["days"] for c in d["cells"]]
        booked = {day for day, c in cells if c["booked"]}
        assert any(day < today.isoformat() for day in booked), module
        assert any(c["can_book"] for day, c in cells if day > today.isoformat()), module
        assert len({t["child_name"] for t in grid["tracks"]}) == 2, grid["tracks"]
    status, registrations, _ = family.open("/castres/periscolaire/inscriptions/")
    year = today.year if today.month >= 9 else today.year - 1
    assert status == 200 and f"{year}-{year + 1}" in registrations and "validée" in registrations

    # Every town takes a payment: Castres through the simulator's PayZen (form,
    # signed IPN, return), Donges its Paybox (signed form, RSA-signed answer),
    # Bassens the demo page of eopayment's dummy backend.
    assert _pay(family, "castres", due[0]["id"]) == "/simulateur-paiement/payzen/"
    for slug, provider_page in (
        ("donges", "/simulateur-paiement/paybox/"),
        ("bassens", "/bassens/billing/paiement/demo/"),
    ):
        other = _signed_in(base, slug)
        due, paid = _invoices(other, slug)
        assert due and paid, (slug, due, paid)
        assert _pay(other, slug, due[0]["id"]) == provider_page


def test_links_written_outside_a_request_use_the_port_the_demo_serves_on():
    """E-mail and PDF links (SITE_URL) follow PORT when SITE_URL is unset."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(PORT="8191", DATABASE_URL="postgres://nobody@127.0.0.1:1/none")
    env.pop("SITE_URL", None)
    code = (
        "import os, manage; os.environ['DJANGO_SETTINGS_MODULE'] = 'portal.settings.dev'; "
        "from django.conf import settings; print(settings.SITE_URL)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert out.stdout.strip() == "http://127.0.0.1:8191", out.stderr


@pytest.mark.slow
def test_run_command_gives_a_working_demo_on_any_date(tmp_path):
    from booking.holidays_fr import SchoolHolidays

    # 31 December at 23:30, then 14 July: this year's, or, with the session's
    # clock moved near or past the end of the published school calendar (vacances-scolaires-france
    # knows the holidays up to the last published summer; beyond it no day is
    # bookable, by design: booking/holidays_fr.py), the latest year it covers.
    # The demo books and shows days up to about three months ahead: both moments
    # keep that horizon inside the known calendar (at 14 July 2028, the last
    # published summer, it showed no coming day).
    known_until = SchoolHolidays.for_zone("C").known_until
    year = date.today().year
    while date(year + 1, 7, 14) + timedelta(days=90) > known_until:
        year -= 1
    moments = (
        (date(year, 12, 31), f"{year}-12-31T23:30"),
        (date(year + 1, 7, 14), f"{year + 1}-07-14T10:00"),
    )
    pgdata = tmp_path / "pgdata"
    try:
        for n, (day, moment) in enumerate(moments):
            port = _free_port()
            proc, log_path = _serve(tmp_path, pgdata, port, moment, f"run{n}")
            try:
                _check_demo(f"http://127.0.0.1:{port}", day)
            except AssertionError as exc:
                raise AssertionError(f"{moment}: {exc}\n{log_path.read_text()[-3000:]}") from exc
            finally:
                proc.terminate()
                proc.wait(timeout=30)
    finally:
        from portal.embedded_db import is_running, stop_embedded

        stop_embedded(pgdata)  # the server outlives `rundemo`: stopped here
        assert not is_running(pgdata)
