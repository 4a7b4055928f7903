"""The waiting room of a town's openings: /<town>/file-attente/<period>/."""

from django.urls import path

from booking import waiting_views as views

app_name = "file-attente"
urlpatterns = [
    path("<int:period_id>/", views.queue, name="queue"),
    path("<int:period_id>/etat/", views.status, name="status"),
]
