"""The booking core's pages, mounted by each service module under its own
namespace (`path(..., include("modules.alsh.urls", namespace="alsh"))`), so a
module switched off for a town has none of them (ModuleGateMiddleware)."""

from django.urls import path

from booking import checkin_views, views


def module_patterns(module_code: str) -> list:
    kw = {"module_code": module_code}
    return [
        path("", views.module_home, kw, name="home"),
        path("reservations/", views.grid_view, kw, name="grid"),
        path("reservations/apercu/", views.grid_preview, kw, name="grid-preview"),
        path(
            "reservations/liste-attente/<int:entry_id>/", views.waiting_action, kw, name="waiting"
        ),
        path("inscriptions/", views.registrations_view, kw, name="registrations"),
        path("absences/", views.absences_view, kw, name="absences"),
        path(
            "absences/signaler/<int:booking_id>/", views.absence_report, kw, name="absence-report"
        ),
        path(
            "absences/<int:absence_id>/justificatif/", views.absence_file, kw, name="absence-file"
        ),
        path("gestion/", views.staff_occupancy, kw, name="staff-occupancy"),
        path("gestion/jour/", checkin_views.staff_day, kw, name="staff-day"),
        path("gestion/jour/liste.csv", views.staff_day_csv, kw, name="staff-day-csv"),
        path("gestion/jour/liste.pdf", checkin_views.staff_day_pdf, kw, name="staff-day-pdf"),
        path(
            "gestion/pointage/<int:booking_id>/",
            checkin_views.staff_attendance,
            kw,
            name="staff-attendance",
        ),
        path("gestion/absences/", views.staff_absences, kw, name="staff-absences"),
        path("gestion/catalogue/", views.staff_catalogue, kw, name="staff-catalogue"),
        path("gestion/inscriptions/", views.staff_registrations, kw, name="staff-registrations"),
        path(
            "gestion/inscriptions/piece/<int:document_id>/",
            views.staff_registration_document,
            kw,
            name="staff-registration-document",
        ),
    ]
