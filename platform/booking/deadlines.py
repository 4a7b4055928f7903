"""Reservation deadline rules: parse a service's `deadlines` (tenant YAML), evaluate a cell.

PURE code: no ORM, no request, no clock. Rules are DATA in each town's YAML
(`services[].deadlines`, schema `$defs.deadlines` / `$defs.rule` in
tenant_configs/schema.json); docs/booking-deadlines.md shows them to operators.

Conventions, used everywhere in this module:
- All times are Europe/Paris wall-clock times. `now` must be aware (any zone).
- A LIMIT is the last minute during which a change is still allowed, INCLUDED:
  with a cut-off "23:59" on 3 March, a change at 23:59:59.999 on 3 March is
  accepted and one at 00:00:00 on 4 March is refused. `is_before(now, limit)`
  is the one comparison: `now < limit + 1 minute`, computed in UTC.
- Rules counted in days pick a DATE by calendar arithmetic, then put the cut-off
  time on it in Paris time: they never shift by an hour across a DST change.
  `hours_before` counts REAL elapsed hours from 00:00 of the booked day (72 h
  before Tuesday 30 March 2027 00:00 CEST is Friday 26 March 23:00 CET, not
  Saturday 00:00), because that is what "pas de changement moins de 72 heures
  avant" means (Chalonnes-sur-Loire).
- Rule `none` means "never online": no booking (booking rule) or no
  cancellation (cancellation rule); the family contacts the service.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import ClassVar

from booking.french import PARIS, WEEKDAYS, format_date, format_datetime
from booking.holidays_fr import FRANCE

END_OF_DAY = time(23, 59)  # default cut-off of every rule counted in days
ONE_MINUTE = timedelta(minutes=1)
WEEKDAY_CODES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class DeadlineConfigError(ValueError):
    """A `deadlines` section that cannot be turned into rules (French message)."""

    def __init__(self, key: str, message: str):
        self.key = key
        self.message = message
        super().__init__(f"{key} : {message}" if key else message)


# --- rule kinds ----------------------------------------------------------------


# What a town admin reads: the settings' French names, never the YAML's keys.
SETTING_LABELS = {
    "days": "Le nombre de jours",
    "hours": "Le nombre d'heures",
    "weeks": "Le nombre de semaines",
    "day": "Le jour du mois",
    "weekday": "Le jour de la semaine",
    "max_advance_days": "Le nombre de jours d'avance",
}


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        label = SETTING_LABELS.get(name, f"« {name} »")
        raise ValueError(f"{label} doit être un nombre entier entre {low} et {high}.")


def _check_time(value: object) -> None:
    if not isinstance(value, time) or value.second or value.microsecond or value.tzinfo:
        raise ValueError("L'heure limite doit être une heure au format HH:MM (par exemple 18:00).")


@dataclass(frozen=True)
class DaysBefore:
    """`days_before`: at the latest N calendar days before the day, at `time`.
    Castres: `days: 7` ("une journée est grisée lorsque le délai de 7 jours est dépassé").
    `days: 0` allows same-day changes until `time`."""

    days: int
    time: time = END_OF_DAY
    kind: ClassVar[str] = "days_before"

    def __post_init__(self) -> None:
        _check_int("days", self.days, 0, 365)
        _check_time(self.time)


@dataclass(frozen=True)
class HoursBefore:
    """`hours_before`: no change less than N real hours before 00:00 of the day
    (Chalonnes-sur-Loire: 72 h)."""

    hours: int
    kind: ClassVar[str] = "hours_before"

    def __post_init__(self) -> None:
        _check_int("hours", self.hours, 1, 8760)


@dataclass(frozen=True)
class WorkingDaysBefore:
    """`working_days_before`: at the latest N working days before the day, at `time`.
    Working days skip Saturdays, Sundays, public holidays and `skip_weekdays`
    (0 = Monday). A town requiring 16 working days' notice to cancel uses it."""

    days: int
    time: time = END_OF_DAY
    skip_weekdays: frozenset[int] = frozenset()
    kind: ClassVar[str] = "working_days_before"

    def __post_init__(self) -> None:
        _check_int("days", self.days, 1, 120)
        _check_time(self.time)
        object.__setattr__(self, "skip_weekdays", frozenset(self.skip_weekdays))
        if any(not isinstance(w, int) or not 0 <= w <= 6 for w in self.skip_weekdays):
            raise ValueError("« skip_weekdays » : jours de la semaine inconnus.")
        if set(range(5)) <= self.skip_weekdays:
            raise ValueError(
                "« skip_weekdays » exclut tous les jours ouvrés : aucun jour ne compterait."
            )


@dataclass(frozen=True)
class WeekdayPreviousWeek:
    """`weekday_previous_week`: at the latest on that weekday of the week
    (Monday to Sunday) before the day's week. Bondoufle: Wednesdays are booked at
    the latest the Wednesday of the previous week."""

    weekday: int  # 0 = Monday
    time: time = END_OF_DAY
    kind: ClassVar[str] = "weekday_previous_week"

    def __post_init__(self) -> None:
        _check_int("weekday", self.weekday, 0, 6)
        _check_time(self.time)


@dataclass(frozen=True)
class DayOfPreviousMonth:
    """`day_of_previous_month`: at the latest on the Nth (1-28, so it always
    exists) of the month before the day's month."""

    day: int
    time: time = END_OF_DAY
    kind: ClassVar[str] = "day_of_previous_month"

    def __post_init__(self) -> None:
        _check_int("day", self.day, 1, 28)
        _check_time(self.time)


@dataclass(frozen=True)
class WeeksBeforeSession:
    """`weeks_before_session`: at the latest N weeks before the FIRST day of the
    holiday session the day belongs to (Bondoufle: 4 weeks). Every day of the
    session shares that one limit. Without a session, the day itself counts as
    the first day."""

    weeks: int
    time: time = END_OF_DAY
    kind: ClassVar[str] = "weeks_before_session"

    def __post_init__(self) -> None:
        _check_int("weeks", self.weeks, 1, 26)
        _check_time(self.time)


@dataclass(frozen=True)
class NotOnline:
    """`none`: the change is never possible online (for a cancellation rule: no
    cancellation, e.g. places allocated by a commission)."""

    kind: ClassVar[str] = "none"


Rule = (
    DaysBefore
    | HoursBefore
    | WorkingDaysBefore
    | WeekdayPreviousWeek
    | DayOfPreviousMonth
    | WeeksBeforeSession
    | NotOnline
)
RULE_KINDS: dict[str, type] = {
    cls.kind: cls
    for cls in (
        DaysBefore,
        HoursBefore,
        WorkingDaysBefore,
        WeekdayPreviousWeek,
        DayOfPreviousMonth,
        WeeksBeforeSession,
        NotOnline,
    )
}


@dataclass(frozen=True)
class ServiceDeadlines:
    """Everything a service's `deadlines` section says."""

    booking: Rule
    cancellation: Rule  # the booking rule when the YAML gives none
    windows_only: bool = False  # Bassens: only during published reservation periods
    max_advance_days: int | None = None  # how far ahead one may book at all
    separate_cancellation: bool = False  # the YAML gives its own cancellation rule

    def __post_init__(self) -> None:
        if self.max_advance_days is not None:
            _check_int("max_advance_days", self.max_advance_days, 1, 730)


# --- parsing (YAML dict -> rules) ---------------------------------------------

_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # kind: (required keys, optional keys)
    "days_before": (("days",), ("time",)),
    "hours_before": (("hours",), ()),
    "working_days_before": (("days",), ("time", "skip_weekdays")),
    "weekday_previous_week": (("weekday",), ("time",)),
    "day_of_previous_month": (("day",), ("time",)),
    "weeks_before_session": (("weeks",), ("time",)),
    "none": ((), ()),
}


def _parse_time(value: object, key: str) -> time:
    if isinstance(value, str) and len(value) == 5 and value[2] == ":":
        hh, mm = value[:2], value[3:]
        if hh.isdigit() and mm.isdigit() and int(hh) < 24 and int(mm) < 60:
            return time(int(hh), int(mm))
    raise DeadlineConfigError(key, f"« {value} » n'est pas une heure HH:MM (ex. 23:59).")


def _parse_weekday(value: object, key: str) -> int:
    if value in WEEKDAY_CODES:
        return WEEKDAY_CODES.index(value)
    raise DeadlineConfigError(key, f"« {value} » n'est pas un jour ({', '.join(WEEKDAY_CODES)}).")


def parse_rule(data: object, *, key: str = "booking") -> Rule:
    """One rule dict from the YAML (`{rule: days_before, days: 7, time: "23:59"}`)."""
    if not isinstance(data, Mapping):
        raise DeadlineConfigError(key, "doit être un objet (rule: ...).")
    kind = data.get("rule")
    if kind not in _FIELDS:
        raise DeadlineConfigError(
            f"{key}.rule", f"« {kind} » n'est pas une règle connue (choix : {', '.join(_FIELDS)})."
        )
    required, optional = _FIELDS[kind]
    for name in required:
        if name not in data:
            raise DeadlineConfigError(f"{key}.{name}", "clé obligatoire manquante.")
    unknown = sorted(set(data) - {"rule", *required, *optional})
    if unknown:
        raise DeadlineConfigError(f"{key}.{unknown[0]}", f"clé inconnue pour la règle « {kind} ».")
    kwargs: dict[str, object] = {}
    for name in (*required, *optional):
        if name not in data:
            continue
        value = data[name]
        if name == "time":
            value = _parse_time(value, f"{key}.time")
        elif name == "weekday":
            value = _parse_weekday(value, f"{key}.weekday")
        elif name == "skip_weekdays":
            if not isinstance(value, list | tuple):
                raise DeadlineConfigError(f"{key}.skip_weekdays", "doit être une liste de jours.")
            value = frozenset(_parse_weekday(v, f"{key}.skip_weekdays") for v in value)
        kwargs[name] = value
    try:
        return RULE_KINDS[kind](**kwargs)
    except ValueError as exc:
        raise DeadlineConfigError(key, str(exc)) from None


def parse_deadlines(data: object, *, key: str = "deadlines") -> ServiceDeadlines:
    """A service's whole `deadlines` dict, as in tenant_configs/<slug>.yaml."""
    if not isinstance(data, Mapping):
        raise DeadlineConfigError(key, "doit être un objet (booking: ...).")
    unknown = sorted(set(data) - {"booking", "cancellation", "windows_only", "max_advance_days"})
    if unknown:
        raise DeadlineConfigError(f"{key}.{unknown[0]}", "clé inconnue.")
    if "booking" not in data:
        raise DeadlineConfigError(f"{key}.booking", "clé obligatoire manquante.")
    booking = parse_rule(data["booking"], key=f"{key}.booking")
    separate = "cancellation" in data
    cancellation = (
        parse_rule(data["cancellation"], key=f"{key}.cancellation") if separate else booking
    )
    windows_only = data.get("windows_only", False)
    if not isinstance(windows_only, bool):
        raise DeadlineConfigError(f"{key}.windows_only", "doit valoir true ou false.")
    try:
        return ServiceDeadlines(
            booking=booking,
            cancellation=cancellation,
            windows_only=windows_only,
            max_advance_days=data.get("max_advance_days"),
            separate_cancellation=separate,
        )
    except ValueError as exc:
        raise DeadlineConfigError(f"{key}.max_advance_days", str(exc)) from None


# --- limits ---------------------------------------------------------------------


def _utc(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        raise ValueError("datetime sans fuseau horaire : passez une date-heure « aware ».")
    return dt.astimezone(UTC)


def at_paris(day: date, cut_off: time) -> datetime:
    """Wall-clock `cut_off` on `day` in Paris. A time DST skips (02:30 on the last
    Sunday of March) moves forward to the real instant (03:30); an ambiguous one
    (02:30 on the last Sunday of October) is its first occurrence, the stricter."""
    return datetime.combine(day, cut_off, tzinfo=PARIS).astimezone(UTC).astimezone(PARIS)


def start_of_day(day: date) -> datetime:
    return at_paris(day, time(0, 0))


def is_before(now: datetime, limit: datetime) -> bool:
    """True while a change is allowed: `limit` is the last allowed minute, included."""
    return _utc(now) < _utc(limit) + ONE_MINUTE


def _working_days_back(day: date, rule: WorkingDaysBefore, holidays: Container[date]) -> date:
    current, counted = day, 0
    # Bounded: a Container of holidays covering every day would loop forever.
    for _ in range(rule.days * 7 + 3660):
        current -= timedelta(days=1)
        wd = current.weekday()
        if wd >= 5 or wd in rule.skip_weekdays or current in holidays:
            continue
        counted += 1
        if counted == rule.days:
            return current
    raise ValueError("Trop de jours fériés : aucun jour ouvré trouvé avant cette date.")


def limit_for(
    rule: Rule,
    day: date,
    *,
    session_start: date | None = None,
    holidays: Container[date] = FRANCE,
) -> datetime | None:
    """The aware Europe/Paris datetime of the last minute during which a change
    of `day` is allowed (included), or None when the rule is `none`.

    `session_start`: first day of the holiday session holding `day`
    (booking.calendar), needed by `weeks_before_session` only. `holidays`: the
    public holidays `working_days_before` skips (PublicHolidays.for_department).
    """
    match rule:
        case DaysBefore(days=days, time=cut_off):
            return at_paris(day - timedelta(days=days), cut_off)
        case HoursBefore(hours=hours):
            # Real elapsed hours, computed in UTC: across a DST change the wall
            # clock moves by 71 or 73 hours for 72 real ones.
            end = _utc(start_of_day(day)) - timedelta(hours=hours)
            return (end - ONE_MINUTE).astimezone(PARIS)
        case WorkingDaysBefore(time=cut_off):
            return at_paris(_working_days_back(day, rule, holidays), cut_off)
        case WeekdayPreviousWeek(weekday=weekday, time=cut_off):
            monday = day - timedelta(days=day.weekday())
            return at_paris(monday - timedelta(days=7 - weekday), cut_off)
        case DayOfPreviousMonth(day=nth, time=cut_off):
            last_of_previous = day.replace(day=1) - timedelta(days=1)
            return at_paris(last_of_previous.replace(day=nth), cut_off)
        case WeeksBeforeSession(weeks=weeks, time=cut_off):
            first = day if session_start is None else session_start
            if first > day:
                raise ValueError("session_start est après le jour réservé.")
            return at_paris(first - timedelta(weeks=weeks), cut_off)
        case NotOnline():
            return None
    raise TypeError(f"règle inconnue : {rule!r}")


def describe_rule(rule: Rule) -> str:
    """The rule in one French phrase, for staff screens and the docs."""
    match rule:
        case DaysBefore(days=0, time=t):
            return f"au plus tard le jour même à {t:%H:%M}"
        case DaysBefore(days=1, time=t):
            return f"au plus tard la veille à {t:%H:%M}"
        case DaysBefore(days=days, time=t):
            return f"au plus tard {days} jours avant, à {t:%H:%M}"
        case HoursBefore(hours=hours):
            return f"au plus tard {hours} heures avant le début de la journée"
        case WorkingDaysBefore(days=days, time=t, skip_weekdays=skip):
            skipped = ["week-ends", "jours fériés"]
            skipped += [f"{WEEKDAYS[w]}s" for w in sorted(skip) if w < 5]
            unit = "jour ouvré" if days == 1 else "jours ouvrés"
            return f"au plus tard {days} {unit} avant, à {t:%H:%M} (hors {', '.join(skipped)})"
        case WeekdayPreviousWeek(weekday=w, time=t):
            return f"au plus tard le {WEEKDAYS[w]} de la semaine précédente à {t:%H:%M}"
        case DayOfPreviousMonth(day=nth, time=t):
            return f"au plus tard le {'1er' if nth == 1 else nth} du mois précédent à {t:%H:%M}"
        case WeeksBeforeSession(weeks=weeks, time=t):
            unit = "semaine" if weeks == 1 else "semaines"
            return (
                f"au plus tard {weeks} {unit} avant le premier jour de la session "
                f"de vacances, à {t:%H:%M}"
            )
        case NotOnline():
            return "jamais en ligne : contactez le service"
    raise TypeError(f"règle inconnue : {rule!r}")


# --- reservation windows ("périodes de réservation") ---------------------------


@dataclass(frozen=True)
class ReservationWindow:
    """A published reservation period, e.g. summer bookings open on 1 May at 08:30.

    `opens_at` is the first instant; `closes_at`, like a limit, is the last
    minute included. `services` empty = every service of the town. `first_day`/
    `last_day` (optional) restrict it to the days it is about (July-August for
    the summer period).

    A window without day range matters only to a service with `windows_only`
    (Bassens). A window WITH a day range gates those days for every service it
    concerns, `windows_only` or not: "summer bookings open on 1 May at 08:30"
    holds even where the usual days_before rule applies the rest of the year.
    """

    opens_at: datetime
    closes_at: datetime
    services: frozenset[str] = field(default_factory=frozenset)
    first_day: date | None = None
    last_day: date | None = None
    label: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "services", frozenset(self.services))
        if _utc(self.opens_at) > _utc(self.closes_at):
            raise ValueError("La période de réservation se ferme avant de s'ouvrir.")
        if self.first_day and self.last_day and self.first_day > self.last_day:
            raise ValueError("Le premier jour de la période est après le dernier.")

    @property
    def has_day_range(self) -> bool:
        return self.first_day is not None or self.last_day is not None

    def concerns(self, day: date, service: str | None) -> bool:
        if self.services and service not in self.services:
            return False
        if self.first_day is not None and day < self.first_day:
            return False
        return self.last_day is None or day <= self.last_day

    def is_open_at(self, now: datetime) -> bool:
        return _utc(self.opens_at) <= _utc(now) and is_before(now, self.closes_at)


@dataclass(frozen=True)
class _Gate:
    applies: bool = False
    open_until: datetime | None = None  # closing of the window open now
    next_opening: datetime | None = None

    @property
    def blocks(self) -> bool:
        return self.applies and self.open_until is None


def _window_gate(
    day: date,
    now: datetime,
    windows: Iterable[ReservationWindow],
    windows_only: bool,
    service: str | None,
) -> _Gate:
    concerned = [
        w for w in windows if w.concerns(day, service) and (windows_only or w.has_day_range)
    ]
    if not concerned and not windows_only:
        return _Gate()
    open_now = [w.closes_at for w in concerned if w.is_open_at(now)]
    if open_now:
        return _Gate(applies=True, open_until=max(open_now, key=_utc))
    upcoming = [w.opens_at for w in concerned if _utc(w.opens_at) > _utc(now)]
    return _Gate(applies=True, next_opening=min(upcoming, key=_utc) if upcoming else None)


# --- evaluating one calendar cell ------------------------------------------------


class Reason(StrEnum):
    OK = "ok"
    PAST_DEADLINE = "past_deadline"
    OUTSIDE_WINDOW = "outside_window"
    CLOSED = "closed"
    FULL_WAITING_LIST = "full_waiting_list"
    NOT_REGISTERED = "not_registered"
    TOO_FAR_AHEAD = "too_far_ahead"
    CANCELLATION_NOT_ALLOWED = "cancellation_not_allowed"
    BOOKING_NOT_ALLOWED = "booking_not_allowed"  # booking rule `none`
    PAST_DAY = "past_day"


@dataclass(frozen=True)
class CellState:
    """What a family may do with one day of one child's calendar, and why.

    `reason`/`explanation` are about the action that matters for the cell:
    cancelling when it is booked, booking when it is not.
    `book_until`/`cancel_until`: the last allowed minute (included) of each
    action, narrowed to the closing of the reservation window open now; None for
    a `none` rule.
    """

    can_book: bool
    can_cancel: bool
    book_until: datetime | None
    cancel_until: datetime | None
    reason: Reason
    explanation: str
    waiting_list: bool = False  # full, but a waiting-list request is possible now


def _earliest(limit: datetime | None, gate: _Gate) -> datetime | None:
    if limit is None or gate.open_until is None:
        return limit
    return min(limit, gate.open_until, key=_utc)


def evaluate_cell(
    *,
    day: date,
    now: datetime,
    rules: ServiceDeadlines,
    booked: bool,
    session_start: date | None = None,
    windows: Iterable[ReservationWindow] = (),
    is_open: bool = True,
    full: bool = False,
    registered: bool = True,
    service: str | None = None,
    holidays: Container[date] = FRANCE,
) -> CellState:
    """Evaluate one cell (one child, one service, one day) at instant `now`.

    `is_open`: the activity runs that day (booking.calendar). `full`: no place
    left. `registered`: the child's registration to the service is validated
    (Chalonnes: reservations open only after the service's confirmation).
    `service`: the service code, to pick the windows that concern it.
    """
    today = _utc(now).astimezone(PARIS).date()
    raw_book = limit_for(rules.booking, day, session_start=session_start, holidays=holidays)
    if rules.separate_cancellation:
        raw_cancel = limit_for(
            rules.cancellation, day, session_start=session_start, holidays=holidays
        )
    else:
        raw_cancel = raw_book
    gate = _window_gate(day, now, tuple(windows), rules.windows_only, service)
    too_far = rules.max_advance_days is not None and (day - today).days > rules.max_advance_days

    common = Reason.PAST_DAY if day < today else (None if is_open else Reason.CLOSED)

    if common:
        book_reason = common
    elif not registered:
        book_reason = Reason.NOT_REGISTERED
    elif raw_book is None:
        book_reason = Reason.BOOKING_NOT_ALLOWED
    elif not is_before(now, raw_book):
        book_reason = Reason.PAST_DEADLINE
    elif gate.blocks:
        book_reason = Reason.OUTSIDE_WINDOW
    elif too_far:
        book_reason = Reason.TOO_FAR_AHEAD
    elif full:
        book_reason = Reason.FULL_WAITING_LIST
    else:
        book_reason = Reason.OK

    if common:
        cancel_reason = common
    elif raw_cancel is None:
        cancel_reason = Reason.CANCELLATION_NOT_ALLOWED
    elif not is_before(now, raw_cancel):
        cancel_reason = Reason.PAST_DEADLINE
    elif gate.blocks:
        cancel_reason = Reason.OUTSIDE_WINDOW
    else:
        cancel_reason = Reason.OK

    book_until, cancel_until = _earliest(raw_book, gate), _earliest(raw_cancel, gate)
    reason = cancel_reason if booked else book_reason
    limit = raw_cancel if booked else raw_book
    if reason is Reason.OK:
        until = cancel_until if booked else book_until
        same = book_until == cancel_until and rules.booking == rules.cancellation
        verb = "modifiable" if same else ("annulable" if booked else "réservable")
        explanation = f"{verb} jusqu'au {format_datetime(until)}"
        if not booked and cancel_until is None:
            explanation += " (annulation impossible ensuite en ligne)"
    else:
        explanation = _explain(reason, limit=limit, gate=gate, day=day, rules=rules)
    return CellState(
        can_book=not booked and book_reason is Reason.OK,
        can_cancel=booked and cancel_reason is Reason.OK,
        book_until=book_until,
        cancel_until=cancel_until,
        reason=reason,
        explanation=explanation,
        waiting_list=not booked and book_reason is Reason.FULL_WAITING_LIST,
    )


def _explain(
    reason: Reason, *, limit: datetime | None, gate: _Gate, day: date, rules: ServiceDeadlines
) -> str:
    match reason:
        case Reason.PAST_DEADLINE:
            return f"délai dépassé depuis le {format_datetime(limit)}"
        case Reason.OUTSIDE_WINDOW:
            if gate.next_opening is not None:
                return (
                    "hors période de réservation (prochaine ouverture le "
                    f"{format_datetime(gate.next_opening, weekday=False)})"
                )
            return "hors période de réservation"
        case Reason.CLOSED:
            return "pas d'accueil ce jour-là"
        case Reason.FULL_WAITING_LIST:
            return "complet — liste d'attente possible"
        case Reason.NOT_REGISTERED:
            return "inscription au service pas encore validée"
        case Reason.TOO_FAR_AHEAD:
            opens = day - timedelta(days=rules.max_advance_days or 0)
            return f"réservation possible à partir du {format_date(opens)}"
        case Reason.CANCELLATION_NOT_ALLOWED:
            return "annulation impossible en ligne : contactez le service"
        case Reason.BOOKING_NOT_ALLOWED:
            return "réservation impossible en ligne : contactez le service"
        case Reason.PAST_DAY:
            return "journée passée"
    return ""
