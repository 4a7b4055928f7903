"""The platform's own site (public schema): list of towns, operator console, health."""
from django.contrib import admin
from django.urls import path

from core import views

urlpatterns = [
    path("", views.platform_home, name="platform-home"),
    path("health/", views.health, name="health"),
    path("health/live/", views.health_live, name="health-live"),
    path("health/ready/", views.health_ready, name="health-ready"),
    path("metrics", views.metrics, name="metrics"),
    path("admin/", admin.site.urls),
]

handler404 = "core.views.not_found"
