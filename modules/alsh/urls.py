from django.urls import path

from core.views import module_home

app_name = "alsh"
urlpatterns = [
    path("", module_home, {"module_code": "alsh"}, name="home"),
]
