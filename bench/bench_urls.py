"""The real town URLconf plus 120 extra routes, so routing is measured at the
size the product will reach (100+ routes)."""

from django.http import HttpResponse
from django.urls import path

from portal.urls_tenant import handler404  # noqa: F401
from portal.urls_tenant import urlpatterns as real


def _view(request, **kwargs):
    return HttpResponse("ok")


urlpatterns = list(real) + [
    path(f"module-{i // 10}/page-{i}/<int:pk>/", _view, name=f"bench-{i}") for i in range(120)
]
