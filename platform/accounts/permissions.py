"""Who may do what. Views use these; never test roles inline in a view.

Staff pass only with a verified second factor (TOTP): accounts.middleware
already keeps unverified staff sessions on the code page, and these checks
say it again where staff power is used."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from rest_framework.permissions import BasePermission

from accounts.otp import is_verified


def staff_required(area: str | None = None):
    """Town staff only (agents of `area`, managers, town admins), second factor verified."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user.is_town_staff or (area and not user.works_in(area)):
                raise PermissionDenied
            if not is_verified(user):
                query = urlencode({"next": request.get_full_path()})
                return redirect(f"{reverse('accounts:otp_verify')}?{query}")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


class IsFamily(BasePermission):
    def has_permission(self, request, view):
        return bool(request.user.is_authenticated and request.user.role == "family")


class IsTownStaff(BasePermission):
    message = "Réservé aux agents de la commune, après la double authentification."

    def has_permission(self, request, view):
        user = request.user
        return bool(user.is_authenticated and user.is_town_staff and is_verified(user))
