from django.urls import path

from core.api_views import ModuleInfoView

app_name = "billing"
urlpatterns = [
    path("", ModuleInfoView.as_view(module_code="billing"), name="info"),
]
