from django.urls import path

from core.views import module_home

app_name = "billing"
urlpatterns = [
    path("", module_home, {"module_code": "billing"}, name="home"),
]
