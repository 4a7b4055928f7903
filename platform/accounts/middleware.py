"""Middleware of accounts (see settings.MIDDLEWARE for their places)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse

from core.api import problem_response


def cookie_path(request) -> str:
    """`/castres/` inside a town; `/admin/` for the platform's admin; `/` only
    for the platform's home page. Two towns open in one browser then keep two
    sessions, and a root-path cookie never shadows a town's (browsers send the
    longer path first and Django keeps the last value of a repeated name)."""
    if getattr(request, "tenant", None) is not None and request.META.get("SCRIPT_NAME"):
        return request.META["SCRIPT_NAME"].rstrip("/") + "/"
    segment = request.path_info.lstrip("/").split("/", 1)[0]
    return f"/{segment}/" if segment else "/"


class TownCookiePathMiddleware:
    """Scopes the session and CSRF cookies to the town's path. Placed before
    SessionMiddleware: on the way out it runs after sessions and CSRF set them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        path = cookie_path(request)
        for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME):
            if name in response.cookies:
                response.cookies[name]["path"] = path
        return response


# What a signed-in staff account may reach before giving its code.
OTP_OPEN_VIEWS = frozenset(
    {
        "accounts:otp_setup",
        "accounts:otp_verify",
        "accounts:logout",
        # The town's public logo and favicon, shown on the second-factor page too.
        "town-logo",
        "town-favicon",
    }
)


def account_free(view):
    """Mark a view that reads no account (a public page built from cookies and
    Redis only, such as an opening's queue status): the second-factor check
    does not load the session's user for it, so it costs no database query."""
    view.account_free = True
    return view


class SecondFactorMiddleware:
    """Town staff and operators signed in with a password only reach the
    second-factor pages: every other page and API answer waits for the code
    (ANSSI and ASVS 6.2: multi-factor for privileged accounts)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if getattr(request, "commune", None) is None:
            return None  # the platform's pages: the public admin is an OTPAdminSite
        if getattr(view_func, "account_free", False):
            return None  # shows nothing of any account
        user = request.user
        if not user.is_authenticated or not user.needs_second_factor or user.is_verified():
            return None
        match = request.resolver_match
        if match is not None and match.view_name in OTP_OPEN_VIEWS:
            return None
        if match is not None and match.app_names and match.app_names[0] == "api":
            return problem_response(403, "Double authentification requise : saisissez votre code.")
        query = urlencode({"next": request.get_full_path()})
        return redirect(f"{reverse('accounts:otp_verify')}?{query}")
