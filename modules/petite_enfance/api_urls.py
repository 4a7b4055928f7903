from django.urls import path

from booking.api import ReservationsView
from core.api_views import ModuleInfoView

app_name = "petite_enfance"
urlpatterns = [
    path("", ModuleInfoView.as_view(module_code="petite_enfance"), name="info"),
    path(
        "reservations/", ReservationsView.as_view(module_code="petite_enfance"), name="reservations"
    ),
]
