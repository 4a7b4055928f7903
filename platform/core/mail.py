"""Sending e-mail from a use case: ALWAYS after the transaction commits.

`queue_mail` is the one entry point. (To be upgraded to a transactional outbox
delivered by Celery, so that no e-mail is lost when Redis is briefly down; the
signature stays.)
"""
from __future__ import annotations

from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string


def queue_mail(*, to: list[str], subject: str, template: str, context: dict) -> None:
    body = render_to_string(template, context)
    transaction.on_commit(lambda: send_mail(subject, body, None, to))
