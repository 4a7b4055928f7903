"""One town's URLs, served under /<slug>/ (portal.routing sets the prefix).

Each service module's pages and API are included under a namespace equal to
its module code, so portal.routing.ModuleGateMiddleware can switch them off
per town.
"""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts import urls as accounts_urls
from core import api_views, views
from core.access import PUBLIC, declare
from core.modules import registry
from families import link_urls

# drf-spectacular's views: the town's API description is public.
declare("api:schema", PUBLIC)
declare("api:docs", PUBLIC)

api_patterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("commune/", api_views.TownInfoView.as_view(), name="town"),
    path("compte/", include("accounts.api_urls")),
    path("famille/", include("families.api_urls", namespace="famille")),
    path("", include("documents.api_urls")),
] + [
    path(f"{code}/", include(f"{module.name}.api_urls", namespace=code))
    for code, module in sorted(registry().items())
]

urlpatterns = [
    path("", views.town_home, name="town-home"),
    path("identite/logo/", views.town_logo, name="town-logo"),
    path("identite/favicon.svg", views.town_favicon, name="town-favicon"),
    path("api/", include((api_patterns, "api"))),
    path("mon-espace/", include("families.urls")),
    path("mon-espace/", include("booking.family_urls")),
    path("file-attente/", include("booking.waiting_urls")),
    # « Mon compte »: accounts' pages and account linking's (families: they
    # create family files, which accounts knows nothing of), one namespace.
    path("compte/", include((accounts_urls.urlpatterns + link_urls.urlpatterns, "accounts"))),
    path("gestion/demandes/", include("demandes.urls")),
    path("gestion/absences-declarees/", include("booking.staff_urls")),
    path("", include("content.urls")),
    path("", include("documents.urls")),
    path("gestion/journal-des-acces/", include("audit.urls")),
    path("gestion/", include("backoffice.urls")),
] + [
    path(f"{code.replace('_', '-')}/", include(f"{module.name}.urls", namespace=code))
    for code, module in sorted(registry().items())
]

# French pages in the town's style; problem documents under /api/ (core.error_pages).
handler400 = "core.error_pages.bad_request"
handler403 = "core.error_pages.permission_denied"
handler404 = "core.error_pages.not_found"
handler500 = "core.error_pages.server_error"
