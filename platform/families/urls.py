from django.urls import path

from families import views

app_name = "families"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
