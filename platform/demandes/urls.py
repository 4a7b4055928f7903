from django.urls import path

from demandes import views

app_name = "demandes"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/decision/", views.decide, name="decide"),
    path("<int:pk>/attribuer/", views.assign, name="assign"),
    path("<int:pk>/message/", views.message, name="message"),
    path("<int:demande_pk>/pieces/<int:pk>/", views.attachment, name="attachment"),
]
