from django.urls import path

from booking.api import ReservationsView
from core.api_views import ModuleInfoView

app_name = "periscolaire"
urlpatterns = [
    path("", ModuleInfoView.as_view(module_code="periscolaire"), name="info"),
    path(
        "reservations/", ReservationsView.as_view(module_code="periscolaire"), name="reservations"
    ),
]
