"""Staff pages of the booking core that span the booking modules: the
families' absence declarations over a period (mounted at
/<slug>/gestion/absences-declarees/, namespace `gestion-absences`)."""

from django.urls import path

from booking.views import declarations

app_name = "gestion-absences"
urlpatterns = [
    path("", declarations.declarations, name="declarations"),
    path("<int:declaration_id>/", declarations.declaration, name="declaration"),
]
