from django.urls import path

from core.views import module_home

app_name = "petite_enfance"
urlpatterns = [
    path("", module_home, {"module_code": "petite_enfance"}, name="home"),
]
