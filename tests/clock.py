"""Move the whole test session's clock (docs/decisions/0005-time-machine-test-clock.md).

    pytest --clock=2028-02-29T23:30 Europe/Paris
    GUICHET_TEST_CLOCK="+1y1m" make test

The session starts at the chosen instant and the clock then ticks normally
(time-machine, `tick=True`): sessions, tokens, throttling windows, school years,
billing months and reservation periods all see the moved date. A test that
freezes time itself (`time_machine.travel(...)`) still wins inside its block.

Accepted values:
- an ISO date-time, naive (read in Europe/Paris), with an offset, or followed by
  an IANA zone name: `2027-10-31T02:45`, `2027-10-31T02:45+02:00`,
  `2028-02-29 23:30 Europe/Paris`;
- a date only: `2027-07-14` (noon in Paris);
- a shift from today: `+1y1m`, `+13m`, `+45d`, `-2d` (years, months, days, hours).

Child processes (gunicorn, a Celery worker, `manage.py`) receive the same moved
clock through GUICHET_TEST_CLOCK_SHIFT (seconds ahead of the real clock), read
by portal/settings/test.py.
"""

from __future__ import annotations

import calendar
import datetime as dt
import os
import re
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
ENV = "GUICHET_TEST_CLOCK"
SHIFT_ENV = "GUICHET_TEST_CLOCK_SHIFT"
_SHIFT = re.compile(r"^([+-])((?:\d+[ymdh])+)$")


def _add_months(moment: dt.datetime, months: int) -> dt.datetime:
    month0 = moment.month - 1 + months
    year, month = moment.year + month0 // 12, month0 % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def parse_clock(value: str, now: dt.datetime | None = None) -> dt.datetime:
    """The aware instant `value` names (see the module's docstring)."""
    value = value.strip()
    shift = _SHIFT.match(value.replace(" ", ""))
    if shift:
        sign = 1 if shift.group(1) == "+" else -1
        moment = (now or dt.datetime.now(dt.UTC)).astimezone(PARIS)
        for amount, unit in re.findall(r"(\d+)([ymdh])", shift.group(2)):
            n = sign * int(amount)
            if unit == "y":
                moment = _add_months(moment, 12 * n)
            elif unit == "m":
                moment = _add_months(moment, n)
            elif unit == "d":
                moment += dt.timedelta(days=n)
            else:
                moment += dt.timedelta(hours=n)
        return moment
    zone = PARIS
    parts = value.rsplit(" ", 1)
    if len(parts) == 2 and "/" in parts[1]:
        value, zone = parts[0], ZoneInfo(parts[1])
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(
            f"{ENV}/--clock : « {value} » n'est pas une date ISO (ex. 2028-02-29T23:30 "
            "Europe/Paris) ni un décalage (ex. +1y1m)."
        ) from exc
    if len(value) == 10:  # a date only
        moment = moment.replace(hour=12)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment


def pytest_addoption(parser):
    parser.addoption(
        "--clock",
        default=os.environ.get(ENV, ""),
        help=(
            "start the whole session's clock at this instant (ISO date-time, optionally "
            "followed by a zone name, or a shift such as +1y1m); env " + ENV
        ),
    )


_traveller = None


def start(value: str):
    """Move this process's clock (and its future children's) to `value`."""
    global _traveller
    import time_machine

    destination = parse_clock(value)
    os.environ[SHIFT_ENV] = str(destination.timestamp() - dt.datetime.now(dt.UTC).timestamp())
    _traveller = time_machine.travel(destination, tick=True)
    _traveller.start()
    return destination


def pytest_configure(config):
    value = config.getoption("--clock")
    if value:
        config._guichet_clock = start(value)


def pytest_report_header(config):
    moment = getattr(config, "_guichet_clock", None)
    if moment is not None:
        paris = moment.astimezone(PARIS)
        return f"horloge déplacée : {paris.isoformat()} (Europe/Paris), elle avance ensuite"
    return None


def pytest_unconfigure(config):
    global _traveller
    if _traveller is not None:
        _traveller.stop()
        _traveller = None
        os.environ.pop(SHIFT_ENV, None)
