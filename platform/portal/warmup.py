"""What every web worker's first requests would otherwise pay, paid once when
the application loads (portal.wsgi): importing the URLconfs (and with them
every view module: ~1 s, PDF and spreadsheet libraries included) and
compiling the templates of the pages an opening's crowd asks for first,
reading the school holidays.

gunicorn loads the application in its master (`preload_app`, deploy/
gunicorn.conf.py), so a worker forked at start-up, after a crash or when
`max_requests` recycles it in the middle of an opening starts warm instead of
stalling its first requests for a second (measured: the first request of a
cold worker 1.0 s, the next ones 5 ms; docs/benchmarks.md). Nothing here
touches the database: no connection is opened in the master."""

from __future__ import annotations

from django.conf import settings
from django.template import loader
from django.urls import get_resolver

from booking.holidays_fr import ZONES, SchoolHolidays

# The pages of an opening: the queue, its status, sign-in, the booking calendar.
HOT_TEMPLATES = (
    "base.html",
    "booking/waiting_room.html",
    "booking/_waiting_status.html",
    "booking/waiting_required.html",
    "booking/waiting_unavailable.html",
    "accounts/login.html",
)


def warm_up() -> None:
    for urlconf in (settings.TENANT_URLCONF, settings.PUBLIC_SCHEMA_URLCONF):
        resolver = get_resolver(urlconf)
        resolver.url_patterns  # noqa: B018 - imports every view module
        resolver.reverse_dict  # noqa: B018 - the names `reverse` looks up (0.1 s)
    for zone in ZONES:  # the school holidays every town's calendar reads (0.4 s)
        SchoolHolidays.for_zone(zone)
    for name in HOT_TEMPLATES:  # a renamed template fails the start, not a request
        loader.get_template(name)
