"""The booking core's pages, mounted by each service module under its own
namespace (`path(..., include("modules.alsh.urls", namespace="alsh"))`), so a
module switched off for a town has none of them (ModuleGateMiddleware)."""

from django.urls import path

from booking.views import checkin, family, staff


def module_patterns(module_code: str) -> list:
    kw = {"module_code": module_code}
    return [
        path("", family.module_home, kw, name="home"),
        path("reservations/", family.grid_view, kw, name="grid"),
        path("reservations/apercu/", family.grid_preview, kw, name="grid-preview"),
        path(
            "reservations/liste-attente/<int:entry_id>/", family.waiting_action, kw, name="waiting"
        ),
        path("inscriptions/", family.registrations_view, kw, name="registrations"),
        path("absences/", family.absences_view, kw, name="absences"),
        path(
            "absences/signaler/<int:booking_id>/", family.absence_report, kw, name="absence-report"
        ),
        path(
            "absences/<int:absence_id>/justificatif/", family.absence_file, kw, name="absence-file"
        ),
        path("gestion/", staff.staff_occupancy, kw, name="staff-occupancy"),
        path("gestion/jour/", checkin.staff_day, kw, name="staff-day"),
        path("gestion/jour/liste.csv", staff.staff_day_csv, kw, name="staff-day-csv"),
        path("gestion/jour/liste.pdf", checkin.staff_day_pdf, kw, name="staff-day-pdf"),
        path(
            "gestion/pointage/<int:booking_id>/",
            checkin.staff_attendance,
            kw,
            name="staff-attendance",
        ),
        path("gestion/absences/", staff.staff_absences, kw, name="staff-absences"),
        path("gestion/catalogue/", staff.staff_catalogue, kw, name="staff-catalogue"),
        path("gestion/ouverture/<int:period_id>/", staff.staff_opening, kw, name="staff-opening"),
        path("gestion/inscriptions/", staff.staff_registrations, kw, name="staff-registrations"),
        path(
            "gestion/inscriptions/piece/<int:document_id>/",
            staff.staff_registration_document,
            kw,
            name="staff-registration-document",
        ),
    ]
