from django.urls import path

from core.views import module_home

app_name = "periscolaire"
urlpatterns = [
    path("", module_home, {"module_code": "periscolaire"}, name="home"),
]
