"""Activation keys in bulk after an import (issue 22): one PDF, one page per
household, keys stored hashed, a reprint revokes the old key, and a key read
off a letter works at sign-up."""

import io
import os
from pathlib import Path

import pytest
from django.core import mail
from pypdf import PdfReader

from accounts.models import ActivationKey, User
from accounts.rules import normalize_key
from accounts.services import find_key_problem, key_digest
from documents.editions import EditionUnavailable
from documents.key_letters import issue_key_letters
from families.models import Adult
from tests.factories import AdultFactory, HouseholdFactory, UserFactory


def households(n):
    out = []
    for i in range(n):
        household = HouseholdFactory(name=f"Famille Import {i:03d}", city="Castres")
        AdultFactory(household=household, first_name="Parent", last_name=f"Un {i}", email="")
        if i % 2:
            AdultFactory(household=household, first_name="Parent", last_name=f"Deux {i}", email="")
        out.append(household.pk)
    return out


def pdf_or_skip(batch):
    return PdfReader(io.BytesIO(batch.pdf))


def test_100_households_one_page_each_keys_hashed(castres, in_town):
    with in_town(castres):
        ids = households(100)
        try:
            batch = issue_key_letters(household_ids=ids, issued_by=None)
        except EditionUnavailable:
            pytest.skip("WeasyPrint's system libraries are missing")
        assert batch.households == 100 and batch.keys == 150
        reader = PdfReader(io.BytesIO(batch.pdf))
        assert len(reader.pages) == 100
        if os.environ.get("SHOTS_DIR"):  # to look at the letters (pdftoppm)
            (Path(os.environ["SHOTS_DIR"]) / "letters.pdf").write_bytes(batch.pdf)
        first = reader.pages[0].extract_text()
        assert "Castres" in first and "/castres/compte/creer/" in first
        # one key per representative, stored hashed only
        plain = next(iter(batch.plain_keys.values()))
        assert not ActivationKey.objects.filter(digest=normalize_key(plain)).exists()
        assert ActivationKey.objects.filter(digest=key_digest(normalize_key(plain))).count() == 1
        assert plain in "".join(p.extract_text() for p in reader.pages)


def test_reprint_makes_a_new_key_and_revokes_the_old(castres, in_town):
    with in_town(castres):
        ids = households(1)
        try:
            first = issue_key_letters(household_ids=ids, issued_by=None)
            second = issue_key_letters(household_ids=ids, issued_by=None)
        except EditionUnavailable:
            pytest.skip("WeasyPrint's system libraries are missing")
        [(adult_id, old)] = first.plain_keys.items()
        new = second.plain_keys[adult_id]
        assert old != new
        assert find_key_problem(normalize_key(old))[1]  # revoked: refused with a reason
        assert find_key_problem(normalize_key(new))[1] is None


def test_email_where_an_address_is_known_letters_for_the_others(
    castres, in_town, django_capture_on_commit_callbacks
):
    with in_town(castres):
        household = HouseholdFactory(name="Famille Courriel")
        AdultFactory(household=household, email="parent@example.org")
        AdultFactory(household=household, email="")
        with django_capture_on_commit_callbacks(execute=True):
            try:
                batch = issue_key_letters(
                    household_ids=[household.pk], issued_by=None, by_email=True
                )
            except EditionUnavailable:
                pytest.skip("WeasyPrint's system libraries are missing")
        assert batch.emailed == 1 and batch.households == 1
    assert [m.to for m in mail.outbox] == [["parent@example.org"]]


def test_representatives_with_an_account_get_no_key(castres, in_town):
    with in_town(castres):
        household = HouseholdFactory()
        AdultFactory(household=household, user=UserFactory())
        batch = issue_key_letters(household_ids=[household.pk], issued_by=None)
        assert batch.keys == 0 and batch.pdf is None


def test_a_key_from_the_letters_works_at_signup(
    castres, in_town, client, django_capture_on_commit_callbacks
):
    with in_town(castres):
        ids = households(3)
        try:
            batch = issue_key_letters(household_ids=ids, issued_by=None)
        except EditionUnavailable:
            pytest.skip("WeasyPrint's system libraries are missing")
        adult_id, plain = next(iter(batch.plain_keys.items()))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/castres/compte/creer/",
            {
                "first_name": "Parent",
                "last_name": "Un",
                "email": "parent.un@example.org",
                "phone": "06 12 34 56 78",
                "address_line": "1 rue des Écoles",
                "postcode": "81100",
                "city": "Castres",
                "username": "parent.un",
                "password": "une maison bleue adossée à la colline",
                "activation_key": plain,
            },
        )
    assert response.status_code == 302, response.content[:2000]
    with in_town(castres):
        assert Adult.objects.get(pk=adult_id).user == User.objects.get(username="parent.un")
