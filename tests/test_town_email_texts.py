"""A town's own e-mail texts (`email_templates`, core.mail_templates): the
sandbox refuses unsafe or unknown things in French at configuration time,
queue_mail sends the town's text, falls back to the default on any failure at
send time (the e-mail always leaves), and one town's text never reaches another."""

from __future__ import annotations

import copy
import logging

import pytest
from django_tenants.utils import tenant_context

from core import mail_templates
from notifications.outbox import queue_mail
from tenants.config import ConfigError
from tenants.models import ConfigVersion
from tenants.services import Actor, apply_town_config, export_yaml, reimport

pytestmark = pytest.mark.django_db
OFFER = "booking/email/offer.txt"
OWN_BODY = (
    "Bonjour,\n\n{% if child.first_name %}{{ child.first_name|upper }}{% endif %} a une place "
    "jusqu'au {{ until }}.\n{% firstof slot.activity.name 'Accueil' %} — {{ commune.name }}\n"
)


def _with_texts(commune, texts: dict) -> dict:
    data = copy.deepcopy(commune.config)
    data["email_templates"] = texts
    return data


def _send(commune, **context):
    from notifications.models import OutboxMessage

    with tenant_context(commune):
        queue_mail(
            to=["famille@example.org"],
            subject="Une place vous est proposée",
            template=OFFER,
            context={
                "commune": commune,
                "child": {"first_name": "Léa"},
                "until": "demain",
                "slot": {},
                "portal_url": "https://x/",
                **context,
            },
        )
        return OutboxMessage.objects.order_by("-id").first()


def test_every_default_text_passes_the_sandbox_with_its_documented_variables():
    """The documentation of each template is complete: its own default text,
    as the editor offers it, uses only documented variables."""
    assert len(mail_templates.registry()) >= 19
    for name, entry in mail_templates.registry().items():
        text = mail_templates.editable_default(entry.default_source())
        assert (
            mail_templates.check(text, variables=entry.all_variables, required=entry.required) == []
        ), name
        mail_templates.render(text, {"commune": {"name": "Castres"}, **entry.sample})


def test_every_template_sent_with_queue_mail_is_documented():
    import re
    from pathlib import Path

    from django.conf import settings

    sent = set()
    for root in ("platform", "modules"):
        for path in (Path(settings.BASE_DIR) / root).rglob("*.py"):
            if "tests" in path.parts:
                continue
            sent |= set(re.findall(r"[a-z_]+/emails?/[a-z_]+\.txt", path.read_text()))
    sent |= {f"accounts/emails/{n}" for n in ("activation_key.txt", "confirm_email.txt")}
    assert sent - set(mail_templates.registry()) == set()


@pytest.mark.parametrize(
    "body, words",
    [
        ("{% load i18n %}Bonjour", "{% load %} n'est pas permise"),
        ("{% include 'base.html' %}", "{% include %} n'est pas permise"),
        ("{% extends 'base.html' %}", "{% extends %} n'est pas permise"),
        ("{% debug %}", "{% debug %} n'est pas permise"),
        ("{% ssi '/etc/passwd' %}", "{% ssi %} n'est pas permise"),
        ("{% with a=child %}{% endwith %}", "{% with %} n'est pas permise"),
        ("{{ child.first_name|safe }}", "filtre « safe » n'est pas permis"),
        ("{{ child.first_name|nope }}", "filtre « nope » n'existe pas"),
        ("{{ user.password }}", "{{ user.password }} n'existe pas"),
        ("{{ slot.activity.delete }}", "n'existe pas"),
        ("{% if child.first_name %}oui", "n'est pas fermée"),
    ],
)
def test_an_unsafe_or_broken_text_is_refused_in_french_and_nothing_is_saved(castres, body, words):
    versions = ConfigVersion.objects.count()
    with pytest.raises(ConfigError) as exc:
        apply_town_config(
            commune=castres, data=_with_texts(castres, {OFFER: {"body": body}}), actor=Actor("x")
        )
    assert any(
        p.key == f"email_templates.{OFFER}.body" and words in p.message for p in exc.value.problems
    ), exc.value.problems
    assert ConfigVersion.objects.count() == versions
    assert "email_templates" not in castres.config


def test_unknown_template_and_missing_required_link_are_refused(castres):
    with pytest.raises(ConfigError) as exc:
        apply_town_config(
            commune=castres,
            data=_with_texts(
                castres,
                {
                    "booking/email/inconnu.txt": {"body": "x"},
                    "accounts/emails/password_reset.txt": {"body": "Bonjour {{ user.first_name }}"},
                },
            ),
            actor=Actor("x"),
        )
    messages = {p.key: p.message for p in exc.value.problems}
    assert "modèle de message inconnu" in messages["email_templates.booking/email/inconnu.txt"]
    assert "{{ link }}" in messages["email_templates.accounts/emails/password_reset.txt.body"]


def test_queue_mail_sends_the_towns_text_and_only_in_that_town(castres, bondoufle):
    apply_town_config(
        commune=castres,
        data=_with_texts(
            castres, {OFFER: {"subject": "Place pour {{ child.first_name }}", "body": OWN_BODY}}
        ),
        actor=Actor("x"),
    )
    row = _send(castres)
    assert row.subject == "Place pour Léa"
    assert row.body.startswith("Bonjour,\n\nLÉA a une place jusqu'au demain.\nAccueil — Castres")
    # Bondoufle has no text of its own: the default file, the sender's subject.
    other = _send(bondoufle)
    assert other.subject == "Une place vous est proposée"
    assert "Elle vous est réservée jusqu'au demain" in other.body


def test_a_text_failing_at_send_time_falls_back_to_the_default(castres, caplog, monkeypatch):
    # A text written before a rule changed (stored as is, never validated now).
    castres.config = _with_texts(
        castres, {OFFER: {"subject": "{% load x %}", "body": "{% debug %}"}}
    )
    with caplog.at_level(logging.WARNING, logger="notifications.outbox"):
        row = _send(castres)
    assert row.subject == "Une place vous est proposée"
    assert "Elle vous est réservée jusqu'au demain" in row.body
    assert "mail_override_invalid" in caplog.text

    def broken(source, context):
        raise RuntimeError("panne au rendu")

    monkeypatch.setattr(mail_templates, "render", broken)
    castres.config = _with_texts(
        castres,
        {OFFER: {"subject": "Pour {{ child.first_name }}", "body": "{{ child.first_name }}"}},
    )
    with caplog.at_level(logging.WARNING, logger="notifications.outbox"):
        row = _send(castres)
    assert row.subject == "Une place vous est proposée"  # subject AND body fall back together
    assert "Elle vous est réservée" in row.body
    assert "mail_override_failed" in caplog.text


def test_invoice_notices_use_the_towns_text(castres):
    from modules.billing.services import _queue_invoice_notices

    texts = {
        "billing/email/invoice_available.txt": {
            "body": "Facture {{ invoice.number }} : {{ total }}"
        }
    }
    castres.config = _with_texts(castres, texts)

    class Invoice:
        pk, number, total, payer_email = 1, "2026-000001", 12, "p@example.org"
        year, month, regie_name, period_label = 2026, 11, "Régie", "novembre 2026"
        import datetime

        due_date = datetime.date(2026, 12, 1)

    from notifications.models import OutboxMessage

    with tenant_context(castres):
        ids = _queue_invoice_notices([Invoice()], commune=castres)
        assert OutboxMessage.objects.get(pk=ids[0]).body == "Facture 2026-000001 : 12,00 €"


def test_export_round_trip_keeps_the_towns_texts(castres):
    data = _with_texts(
        castres,
        {
            OFFER: {
                "subject": "Place pour {{ child.first_name }}",
                "body": OWN_BODY + "  \n\tligne avec espaces  \n",
            }
        },
    )
    apply_town_config(commune=castres, data=data, actor=Actor("x"))
    again = reimport(export_yaml(castres.config), source="castres exporté")
    assert again.data == castres.config
    assert again.digest == castres.config_digest
