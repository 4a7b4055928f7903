from django.urls import path

from accounts.api import MeView

app_name = "compte"
urlpatterns = [
    path("moi/", MeView.as_view(), name="me"),
]
