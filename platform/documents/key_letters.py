"""Activation keys in bulk (issue 22): after an import, one key per legal
representative without an account, printed as ONE PDF of letters (one page per
household, in the town's colours, with the sign-up address and a QR code), or
e-mailed through the outbox where an address is known.

Keys go through accounts.services.issue_activation_key: stored hashed, and a
new key revokes the representative's previous unused one (reprinting a letter
makes a new key). The keys in clear exist only in the PDF returned.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

import segno
from django.db import connection

from accounts.rules import format_key  # noqa: F401 (re-exported for tests reading letters)
from accounts.services import issue_activation_key
from accounts.views import key_label
from core.identity import town_colours
from core.urls import tenant_reverse
from documents.editions import render_pdf
from families.models import Adult, Household


@dataclass
class LetterBatch:
    pdf: bytes | None
    households: int = 0
    keys: int = 0
    emailed: int = 0
    plain_keys: dict[int, str] = field(
        default_factory=dict
    )  # adult id -> key (tests, never stored)


def _qr_data_uri(url: str) -> str:
    svg = segno.make(url, error="m").svg_inline(scale=3, dark="#1b1b1b")
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def issue_key_letters(*, household_ids, issued_by, by_email: bool = False) -> LetterBatch:
    """Keys for every representative without an account in these households.
    by_email: representatives with an address get an e-mail (outbox, sent after
    commit and throttled by the sender); the others are in the PDF."""
    commune = connection.tenant
    signup_url = tenant_reverse(commune, "accounts:signup", absolute=True)
    adults = (
        Adult.objects.filter(household_id__in=list(household_ids), user__isnull=True)
        .select_related("household")
        .order_by("household__name", "household_id", "id")
    )
    batch = LetterBatch(pdf=None)
    letters: dict[int, dict] = {}
    for adult in adults:
        if by_email and adult.email:
            _key, plain = issue_activation_key(adult=adult, issued_by=issued_by, send_email=True)
            batch.emailed += 1
        else:
            key, plain = issue_activation_key(adult=adult, issued_by=issued_by)
            letter = letters.setdefault(
                adult.household_id, {"household": adult.household, "keys": []}
            )
            letter["keys"].append({"adult": adult, "plain": plain, "expires_at": key.expires_at})
        batch.keys += 1
        batch.plain_keys[adult.pk] = plain
    batch.households = len(letters)
    if letters:
        batch.pdf = render_pdf(
            "documents/editions/key_letters.html",
            {
                "commune": commune,
                "letters": list(letters.values()),
                "signup_url": signup_url,
                "qr": _qr_data_uri(signup_url),
                "key_label": key_label(commune),
                "colours": town_colours(commune),
            },
        )
    return batch


def households_without_accounts(household_ids=None):
    qs = Household.objects.filter(adults__user__isnull=True)
    if household_ids is not None:
        qs = qs.filter(pk__in=list(household_ids))
    return qs.distinct()
