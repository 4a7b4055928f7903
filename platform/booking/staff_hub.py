"""What each booking module (periscolaire, alsh, petite_enfance) adds to the
staff home and the staff navigation (core.contributions, contract A): its
counters of work waiting and its staff tools. Mixed into the modules'
AppConfig (`class AlshConfig(StaffHubMixin, ServiceModuleConfig)`)."""

from __future__ import annotations

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone


class StaffHubMixin:
    module_code: str
    module_label: str

    def staff_nav(self, request):
        """One entry per module in the staff navigation; its pages are tabs."""
        # Django's app loading: an apps.py imports this module before the models exist.
        from core.contributions import NavEntry

        code = self.module_code
        return [
            NavEntry(
                self.module_label,
                f"{code}:staff-day",
                order=20,
                area=code,
                match=" ".join(name for _, name in self.staff_tabs())
                + f" {code}:staff-day-csv {code}:staff-day-pdf",
            )
        ]

    def staff_tabs(self) -> list[tuple[str, str]]:
        """(label, url name) of the module's staff pages (booking/_staff_tabs.html)."""
        code = self.module_code
        return [
            ("Listes du jour et pointage", f"{code}:staff-day"),
            ("Absences à examiner", f"{code}:staff-absences"),
            ("Inscriptions à valider", f"{code}:staff-registrations"),
            ("Occupation", f"{code}:staff-occupancy"),
            ("Catalogue", f"{code}:staff-catalogue"),
        ]

    def staff_counters(self, request):
        # Django's app loading: an apps.py imports this module before the models exist.
        from booking.models import Absence, Attendance, Booking, Registration, WaitingListEntry
        from core.contributions import Counter

        code, label = self.module_code, self.module_label
        if not request.user.works_in(code):
            return []
        today = timezone.localdate()
        absences = Absence.objects.filter(
            booking__slot__activity__service__module=code, decision=Absence.Decision.PENDING
        ).count()
        registrations = Registration.objects.filter(
            service__module=code, status=Registration.Status.PENDING
        ).count()
        offers = WaitingListEntry.objects.filter(
            slot__activity__service__module=code, status=WaitingListEntry.Status.OFFERED
        ).count()
        day = Booking.objects.filter(
            slot__activity__service__module=code, slot__day=today, status=Booking.Status.BOOKED
        ).aggregate(
            total=Count("id"), checked=Count("id", filter=~Q(attendance=Attendance.PENDING))
        )
        lists = reverse(f"{code}:staff-day")
        return [
            Counter(
                f"{label} : enfants à pointer aujourd'hui ({day['checked']} sur "
                f"{day['total']} déjà pointés)",
                day["total"] - day["checked"],
                f"{lists}?jour={today.isoformat()}",
                area=code,
                tone="info",
                order=10,
            ),
            Counter(
                f"{label} : absences à examiner",
                absences,
                reverse(f"{code}:staff-absences"),
                area=code,
                tone="warn" if absences else "ok",
                order=20,
            ),
            Counter(
                f"{label} : inscriptions à valider",
                registrations,
                reverse(f"{code}:staff-registrations"),
                area=code,
                tone="warn" if registrations else "ok",
                order=30,
            ),
            Counter(
                f"{label} : places proposées en attente de réponse",
                offers,
                reverse(f"{code}:staff-occupancy"),
                area=code,
                tone="info",
                order=40,
            ),
        ]
