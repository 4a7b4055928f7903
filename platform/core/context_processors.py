from django.core.cache import cache
from django.db import connection
from django.urls import reverse

from core.identity import town_colours
from core.models import TownLogo
from core.town_config import section


def town(request):
    """`commune` in every template: the current town, or None on the platform
    site; `town_identity`: its colours (only those it chose) and logo URL."""
    commune = getattr(request, "commune", None)
    return {"commune": commune, "town_identity": _identity(commune) if commune else None}


def _identity(commune) -> dict:
    chosen = section(commune, "identity") or {}
    colours = town_colours(commune)
    # One query a day per town at most: the upload clears this key.
    stamp = cache.get(LOGO_CACHE_KEY)
    if stamp is None and connection.schema_name != commune.schema_name:
        # A town page drawn outside its schema (the maintenance page of a
        # suspended town is drawn in the public schema): no logo to look up.
        stamp = ""
    elif stamp is None:
        logo = TownLogo.objects.only("uploaded_at").first()
        stamp = f"{logo.uploaded_at:%Y%m%d%H%M%S}" if logo else ""
        cache.set(LOGO_CACHE_KEY, stamp, 86400)
    return {
        "primary": colours["primary_color"] if "primary_color" in chosen else "",
        "accent": colours["accent_color"] if "accent_color" in chosen else "",
        "logo_url": f"{reverse('town-logo')}?v={stamp}" if stamp else "",
        "favicon_url": reverse("town-favicon"),
    }


LOGO_CACHE_KEY = "town-logo-stamp"  # per town: cache keys carry the schema
