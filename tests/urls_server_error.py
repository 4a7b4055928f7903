"""The town URLconf plus two views that fail (tests/test_server_errors.py only):
the product has no view that raises on purpose."""

from django.urls import path

from core.access import PUBLIC, access
from portal.urls_tenant import (  # noqa: F401
    handler400,
    handler403,
    handler404,
    handler500,
    urlpatterns,
)


@access(PUBLIC)
def explode(request):
    raise RuntimeError("panne voulue par le test")


urlpatterns = [
    path("panne/", explode),
    path("api/panne/", explode),
    *urlpatterns,
]
