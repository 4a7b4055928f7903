from django.urls import path

from booking.urls import module_patterns
from modules.petite_enfance import views

app_name = "petite_enfance"
urlpatterns = module_patterns("petite_enfance") + [
    path("conges/", views.leave_view, name="leave"),
    path("pre-inscription/", views.application_view, name="application"),
    path("gestion/commission/", views.staff_applications, name="staff-applications"),
    path(
        "gestion/commission/<int:application_id>/",
        views.staff_application,
        name="staff-application",
    ),
]
