"""What the family and staff pages of the booking core share."""

from __future__ import annotations

from django.http import Http404
from django.utils import timezone

from booking import selectors
from booking.french import PARIS


def service_of(module_code, code):
    """(the chosen service, the module's services): the first when none is asked."""
    services = selectors.module_services(module_code)
    if not services:
        raise Http404("Aucun service de ce module dans la commune.")
    if not code:
        return services[0], services
    for s in services:
        if s.code == code:
            return s, services
    raise Http404("Service inconnu.")


def today():
    return timezone.now().astimezone(PARIS).date()


def is_staff_of(user, module_code) -> bool:
    return user.is_authenticated and user.is_town_staff and user.works_in(module_code)
