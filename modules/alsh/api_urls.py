from django.urls import path

from core.api_views import ModuleInfoView

app_name = "alsh"
urlpatterns = [
    path("", ModuleInfoView.as_view(module_code="alsh"), name="info"),
]
