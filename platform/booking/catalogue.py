"""The catalogue of a town: what each service's `options` (tenant YAML) says, and
the Site/Activity rows onboarding creates from it.

`services[].options` keys read here (all optional, schema in
tenant_configs/schema.json `$defs.service_options`):

    sites: [{code, name, address, capacity}]   # one activity per site
    capacity: 40                               # places per day without sites
    registration: auto | validation            # Chalonnes: validation
    documents: [{code, label}]                 # required with a registration
    eligibility: {min_age_months, max_age_months, school_levels}
    day_kinds: [school_day, wednesday, holidays, weekday]
    waiting_list: {mode: promote | offer, offer_hours: 24}
    absences: {justification: none | optional | required, report_days_after: 7}
    hours: {opens: "08:00", closes: "18:00", slot_minutes: 60}   # hourly care

The parsing is pure (`service_options`); `sync_activities` writes the rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from booking.calendar import DEFAULT_DAY_KINDS, DayKind
from booking.models import Activity, Site
from booking.rules import Eligibility
from core import town_config
from core.modules import registry, service_kinds

DEFAULT_CAPACITY = 50  # places per day when a YAML gives none (a default, not from a guide)
DEFAULT_OFFER_HOURS = 24
DEFAULT_REPORT_DAYS_AFTER = 7


@dataclass(frozen=True)
class SiteOption:
    code: str
    name: str
    address: str = ""
    capacity: int = DEFAULT_CAPACITY


@dataclass(frozen=True)
class Document:
    code: str
    label: str
    # The family's stored document type (documents.models.DocumentKind) that
    # fulfils it: a valid stored document of this type is offered instead of
    # a new upload. "" : no stored document fits (a new upload every time).
    kind: str = ""


# Registration papers the towns' guides name, and the stored type each one is.
DOCUMENT_KINDS = {
    "responsabilite-civile": "attestation_rc",
    "attestation-rc": "attestation_rc",
    "assurance": "attestation_rc",
    "vaccinations": "carnet_vaccination",
    "carnet-vaccination": "carnet_vaccination",
    "justificatif-domicile": "justificatif_domicile",
    "livret-famille": "livret_famille",
    "avis-imposition": "avis_imposition",
    "attestation-caf": "attestation_caf",
    "certificat-medical": "certificat_medical",
    "autorite-parentale": "autorite_parentale",
}


@dataclass(frozen=True)
class ServiceOptions:
    sites: tuple[SiteOption, ...] = ()
    capacity: int = DEFAULT_CAPACITY
    registration: str = "auto"  # "auto": accepted at once; "validation": by the service
    documents: tuple[Document, ...] = ()
    eligibility: Eligibility = field(default_factory=Eligibility)
    day_kinds: frozenset[DayKind] = frozenset()
    waiting_mode: str = "promote"  # "promote": the first child gets the place; "offer"
    offer_hours: int = DEFAULT_OFFER_HOURS
    justification: str = "optional"  # absences: "none", "optional", "required"
    report_days_after: int = DEFAULT_REPORT_DAYS_AFTER
    opens: time = time(8, 0)
    closes: time = time(18, 0)
    slot_minutes: int = 60

    @property
    def needs_validation(self) -> bool:
        return self.registration == "validation"

    def hourly_slots(self) -> list[tuple[time, time]]:
        """The hourly (or `slot_minutes`) slots of a crèche's day."""
        out, start = [], datetime.combine(datetime.min, self.opens)
        end = datetime.combine(datetime.min, self.closes)
        step = timedelta(minutes=self.slot_minutes)
        while start + step <= end:
            out.append((start.time(), (start + step).time()))
            start += step
        return out


def _time(value: str | None, default: time) -> time:
    if not value:
        return default
    hh, mm = str(value).split(":")
    return time(int(hh), int(mm))


def service_options(options: Mapping | None, kind: str = "") -> ServiceOptions:
    """A service's `options` dict (validated by the schema at onboarding)."""
    o = dict(options or {})
    elig = o.get("eligibility") or {}
    waiting = o.get("waiting_list") or {}
    absences = o.get("absences") or {}
    hours = o.get("hours") or {}
    kinds = o.get("day_kinds") or sorted(DEFAULT_DAY_KINDS.get(kind, {DayKind.WEEKDAY}))
    return ServiceOptions(
        sites=tuple(
            SiteOption(
                s["code"],
                s["name"],
                s.get("address", ""),
                int(s.get("capacity", o.get("capacity", DEFAULT_CAPACITY))),
            )
            for s in o.get("sites") or ()
        ),
        capacity=int(o.get("capacity", DEFAULT_CAPACITY)),
        registration=o.get("registration", "auto"),
        documents=tuple(
            Document(d["code"], d["label"], d.get("kind") or DOCUMENT_KINDS.get(d["code"], ""))
            for d in o.get("documents") or ()
        ),
        eligibility=Eligibility(
            elig.get("min_age_months"),
            elig.get("max_age_months"),
            frozenset(elig.get("school_levels") or ()),
            bool(elig.get("residents_only", False)),
        ),
        day_kinds=frozenset(DayKind(k) for k in kinds),
        waiting_mode=waiting.get("mode", "promote"),
        offer_hours=int(waiting.get("offer_hours", DEFAULT_OFFER_HOURS)),
        justification=absences.get("justification", "optional"),
        report_days_after=int(absences.get("report_days_after", DEFAULT_REPORT_DAYS_AFTER)),
        opens=_time(hours.get("opens"), time(8, 0)),
        closes=_time(hours.get("closes"), time(18, 0)),
        slot_minutes=int(hours.get("slot_minutes", 60)),
    )


def options_of(service) -> ServiceOptions:
    return (
        service_options(service.options, service.kind)
        if service.kind in service_kinds()
        else service_options(service.options)
    )


def is_hourly(service) -> bool:
    entry = service_kinds().get(service.kind)
    return entry is not None and entry[1].booking_unit == "slot"


def sync_activities() -> None:
    """Create or update the Site and Activity rows of every service of the
    current town from its options (tenants.onboarding calls it after writing
    the Service rows). Never deletes: an activity no longer in the file is
    switched off (bookings point at it). Activities made by hand (no code) are
    left alone."""

    wanted: set[str] = set()
    for service in town_config.services():
        if service.module not in _booking_modules():
            continue
        opts = options_of(service)
        sites: list[tuple[Site | None, int]] = []
        for s in opts.sites:
            site, _ = Site.objects.update_or_create(
                code=s.code, defaults={"name": s.name, "address": s.address}
            )
            sites.append((site, s.capacity))
        if not sites:
            sites = [(None, opts.capacity)]
        for site, capacity in sites:
            base = f"{service.code}--{site.code if site else 'principal'}"
            label = f"{service.name} — {site.name}" if site else service.name
            slots = opts.hourly_slots() if is_hourly(service) else [(None, None)]
            for start, end in slots:
                code = base if start is None else f"{base}--{start:%H%M}"
                name = label if start is None else f"{label} — {start:%H:%M}-{end:%H:%M}"
                wanted.add(code)
                Activity.objects.update_or_create(
                    code=code,
                    defaults={
                        "service": service,
                        "site": site,
                        "name": name,
                        "default_capacity": capacity,
                        "is_active": True,
                        "min_age_months": opts.eligibility.min_age_months,
                        "max_age_months": opts.eligibility.max_age_months,
                        "school_levels": sorted(opts.eligibility.school_levels),
                        "day_kinds": sorted(opts.day_kinds),
                        "starts_at": start,
                        "ends_at": end,
                    },
                )
    Activity.objects.exclude(code="").exclude(code__in=wanted).update(is_active=False)


def _booking_modules() -> frozenset[str]:
    return frozenset(code for code, m in registry().items() if m.service_kinds)


def activity_eligibility(activity) -> Eligibility:
    """The activity's age and level limits; residence comes from its service's
    options (read the service with the activity: select_related)."""
    service_options_ = getattr(activity.service, "options", None) or {}
    return Eligibility(
        activity.min_age_months,
        activity.max_age_months,
        frozenset(activity.school_levels or ()),
        bool((service_options_.get("eligibility") or {}).get("residents_only", False)),
    )


def activity_day_kinds(activity) -> frozenset[DayKind]:
    if activity.day_kinds:
        return frozenset(DayKind(k) for k in activity.day_kinds)
    return DEFAULT_DAY_KINDS.get(activity.service.kind, frozenset({DayKind.WEEKDAY}))
