"""`Cache-Control: no-store` on every page a signed-in user sees.

Why: the pages of a family hold children's names, health notes and invoices;
a shared computer's browser cache or a misconfigured proxy must never keep
them (shared/security.md, ASVS 8.2.1). Anonymous pages keep their headers.
"""

from django.conf import settings
from django.utils.cache import add_never_cache_headers


class PrivatePagesNoStoreMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # Without a session cookie nobody is signed in: skip the session lookup
        # (and the `Vary: Cookie` it would add to public pages).
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return response
        if "no-store" in response.get("Cache-Control", ""):
            return response  # the view already said it (families' API: "no-store")
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)  # no-cache, no-store, must-revalidate, private
        return response
