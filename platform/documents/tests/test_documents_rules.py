"""Pure rules of documents: tables and properties."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import filetypes
from documents import rules
from documents.editions import describe_deadline

D = dt.date


@pytest.mark.parametrize(
    "kind, issued, expected",
    [
        ("justificatif_domicile", D(2026, 1, 10), D(2026, 4, 10)),
        ("justificatif_domicile", D(2025, 11, 30), D(2026, 2, 28)),  # end of month clamps
        ("justificatif_domicile", D(2024, 11, 30), D(2025, 2, 28)),
        ("attestation_rc", D(2025, 9, 1), D(2026, 8, 31)),
        ("attestation_rc", D(2026, 3, 15), D(2026, 8, 31)),
        ("attestation_rc", D(2026, 8, 31), D(2026, 8, 31)),
        ("avis_imposition", D(2025, 8, 20), D(2026, 12, 31)),
        ("attestation_caf", D(2026, 1, 5), D(2026, 12, 31)),
        ("certificat_medical", D(2026, 2, 1), D(2027, 1, 31)),
        ("certificat_medical", D(2024, 2, 29), D(2025, 2, 27)),
        ("carnet_vaccination", D(2026, 2, 1), None),
        ("livret_famille", D(2010, 2, 1), None),
        ("autre", D(2026, 2, 1), None),
        ("justificatif_domicile", None, None),
    ],
)
def test_default_validity(kind, issued, expected):
    assert rules.default_valid_until(kind, issued) == expected


@given(
    st.sampled_from(
        [
            "justificatif_domicile",
            "attestation_rc",
            "avis_imposition",
            "attestation_caf",
            "certificat_medical",
            "carnet_vaccination",
        ]
    ),
    st.dates(min_value=D(2000, 1, 1), max_value=D(2090, 12, 31)),
)
def test_a_document_is_valid_on_the_day_it_was_issued(kind, issued):
    until = rules.default_valid_until(kind, issued)
    assert until is None or until >= issued


@given(st.dates(min_value=D(2000, 1, 1), max_value=D(2090, 12, 31)), st.integers(-240, 240))
def test_add_months_lands_in_the_right_month(day, months):
    out = rules.add_months(day, months)
    assert (out.year * 12 + out.month) - (day.year * 12 + day.month) == months
    assert out.day == day.day or out.day < day.day  # clamped at the end of a short month


@pytest.mark.parametrize(
    "valid_until, today, state",
    [
        (None, D(2026, 1, 1), "none"),
        (D(2026, 1, 1), D(2026, 1, 2), "expired"),
        (D(2026, 1, 1), D(2026, 1, 1), "expiring"),
        (D(2026, 1, 31), D(2026, 1, 1), "expiring"),
        (D(2026, 2, 1), D(2026, 1, 1), "valid"),
    ],
)
def test_expiry_state(valid_until, today, state):
    assert rules.expiry_state(valid_until, today) == state


TODAY = D(2026, 3, 10)


@pytest.mark.parametrize(
    "valid_until, status, reminded_for, superseded, due",
    [
        (TODAY + dt.timedelta(days=30), "valid", None, False, True),
        (TODAY + dt.timedelta(days=31), "valid", None, False, False),
        (TODAY, "to_check", None, False, True),
        (TODAY - dt.timedelta(days=30), "valid", None, False, True),
        (
            TODAY - dt.timedelta(days=31),
            "valid",
            None,
            False,
            False,
        ),  # long expired: replaced, no nagging
        (TODAY + dt.timedelta(days=5), "rejected", None, False, False),
        (
            TODAY + dt.timedelta(days=5),
            "valid",
            TODAY + dt.timedelta(days=5),
            False,
            False,
        ),  # already sent
        (
            TODAY + dt.timedelta(days=5),
            "valid",
            TODAY - dt.timedelta(days=300),
            False,
            True,
        ),  # older reminder
        (TODAY + dt.timedelta(days=5), "valid", None, True, False),  # a newer document exists
        (None, "valid", None, False, False),
    ],
)
def test_reminder_due(valid_until, status, reminded_for, superseded, due):
    assert (
        rules.reminder_due(
            valid_until=valid_until,
            today=TODAY,
            status=status,
            reminded_for=reminded_for,
            superseded=superseded,
        )
        is due
    )


@given(st.dates(), st.dates(), st.sampled_from(["to_check", "valid", "rejected"]))
def test_a_reminder_is_never_sent_twice_for_the_same_date(valid_until, today, status):
    assert not rules.reminder_due(
        valid_until=valid_until, today=today, status=status, reminded_for=valid_until
    )


@pytest.mark.parametrize(
    "head, kind",
    [
        (b"%PDF-1.7\n", "pdf"),
        (b"\x89PNG\r\n\x1a\n....", "png"),
        (b"\xff\xd8\xff\xe0", "jpeg"),
        (b"<html><body>", None),
        (b"MZ\x90\x00", None),
        (b"\x7fELF", None),
        (b" %PDF-1.4", None),
        (b"", None),
        (b"GIF89a", None),
        (b"PK\x03\x04", None),
    ],
)
def test_sniff_reads_the_bytes_not_the_name(head, kind):
    assert filetypes.sniff(head) == kind


@pytest.mark.parametrize(
    "size, text",
    [
        (30 * 1024 * 1024, "30 Mo"),
        (10 * 1024 * 1024, "10 Mo"),
        (int(2.5 * 1024 * 1024), "2,5 Mo"),
        (800 * 1024, "800 ko"),
        (1, "1 octet"),
        (12, "12 octets"),
    ],
)
def test_human_size_in_french(size, text):
    assert filetypes.human_size(size) == text


@pytest.mark.parametrize(
    "title, name",
    [
        ("Attestation d'assurance", "attestation-d-assurance.pdf"),
        ("../../etc/passwd", "etc-passwd.pdf"),
        ("Léa — carnet", "lea-carnet.pdf"),
        ("", "document.pdf"),
    ],
)
def test_download_name_is_safe(title, name):
    assert filetypes.download_name(title, "pdf") == name


def test_quota():
    assert rules.quota_allows(used=5, incoming=5, quota=10)
    assert not rules.quota_allows(used=6, incoming=5, quota=10)


@pytest.mark.parametrize(
    "rule, text",
    [
        ({"rule": "days_before", "days": 7, "time": "23:59"}, "au plus tard 7 jours avant à 23:59"),
        ({"rule": "days_before", "days": 1}, "au plus tard 1 jour avant"),
        ({"rule": "days_before", "days": 0, "time": "09:00"}, "jusqu'au jour même à 09:00"),
        ({"rule": "hours_before", "hours": 72}, "au plus tard 72 heures avant"),
        ({"rule": "working_days_before", "days": 16}, "au plus tard 16 jours ouvrés avant"),
        (
            {"rule": "weekday_previous_week", "weekday": "wednesday", "time": "12:00"},
            "au plus tard le mercredi de la semaine précédente à 12:00",
        ),
        ({"rule": "day_of_previous_month", "day": 20}, "au plus tard le 20 du mois précédent"),
        (
            {"rule": "weeks_before_session", "weeks": 4},
            "au plus tard 4 semaines avant le début de la session",
        ),
        ({"rule": "none"}, "sans délai"),
    ],
)
def test_deadline_rules_in_french(rule, text):
    assert describe_deadline(rule) == text
