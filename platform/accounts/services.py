"""Write paths of accounts. One keyword-only function per use case, each in one
transaction; e-mails go through notifications.outbox.queue_mail (sent after commit)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.events import unlinked_account_confirmed
from accounts.models import ActivationKey, User, UserSession
from accounts.rules import (
    KEY_ALPHABET,
    KEY_GROUP_LENGTH,
    KEY_GROUPS,
    KEY_PREFIX_LENGTH,
    format_key,
    key_problem,
)
from accounts.security import login_account_throttle
from accounts.tokens import EmailClaim, make_email_token, password_reset_tokens
from core.urls import tenant_reverse
from notifications.outbox import queue_mail


def _town():
    return connection.tenant


def _link(viewname: str, **kwargs) -> str:
    return tenant_reverse(_town(), viewname, kwargs=kwargs or None, absolute=True)


def _mail(to: str, subject: str, template: str, **context) -> None:
    context.setdefault("commune", _town())
    queue_mail(to=[to], subject=subject, template=f"accounts/emails/{template}", context=context)


# --- Activation keys --------------------------------------------------------


def key_digest(normalized_key: str) -> str:
    """Keyed hash (HMAC with SECRET_KEY): a stolen table yields no usable key."""
    return salted_hmac("accounts.activation-key", normalized_key, algorithm="sha256").hexdigest()


def find_key_problem(
    normalized_key: str, *, for_update: bool = False
) -> tuple[ActivationKey | None, str | None]:
    qs = ActivationKey.objects.select_related("adult", "adult__user")
    if for_update:
        qs = qs.select_for_update(of=("self",))
    key = qs.filter(digest=key_digest(normalized_key)).first()
    problem = key_problem(
        exists=key is not None,
        revoked=bool(key and key.revoked_at),
        used=bool(key and key.used_at),
        expires_at=timezone.localtime(key.expires_at) if key else None,
        now=timezone.now(),
        adult_has_account=bool(key and key.adult.user_id),
    )
    return key, problem


@transaction.atomic
def issue_activation_key(
    *, adult, issued_by, send_email: bool = False
) -> tuple[ActivationKey, str]:
    """A new key for one legal representative; the previous unused ones stop
    working. Returns the row and the key in clear (shown once, never stored)."""
    now = timezone.now()
    ActivationKey.objects.filter(adult=adult, used_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=now
    )
    plain = "".join(secrets.choice(KEY_ALPHABET) for _ in range(KEY_GROUPS * KEY_GROUP_LENGTH))
    key = ActivationKey.objects.create(
        adult=adult,
        prefix=plain[:KEY_PREFIX_LENGTH],
        digest=key_digest(plain),
        created_by=issued_by,
        expires_at=now + timedelta(days=settings.ACCOUNTS_ACTIVATION_KEY_DAYS),
    )
    if send_email:
        if not adult.email:
            raise ValidationError(
                "Ce responsable légal n'a pas d'adresse e-mail : imprimez la lettre."
            )
        _mail(
            adult.email,
            f"{_town().name} — votre clé pour créer votre espace famille",
            "activation_key.txt",
            adult=adult,
            key=format_key(plain),
            expires_at=key.expires_at,
            signup_url=_link("accounts:signup"),
        )
    return key, format_key(plain)


# --- Sign-up ----------------------------------------------------------------


@dataclass(frozen=True)
class SignupData:
    first_name: str
    last_name: str
    email: str
    phone: str
    address_line: str
    postcode: str
    city: str
    username: str
    password: str
    activation_key: str = ""  # normalized, "" when the family has none


def purge_expired_signups() -> int:
    """Accounts whose address was never confirmed before the link expired are
    removed, and their activation key works again (so a family whose link
    expired signs up anew, and nobody holds an address they do not own)."""
    limit = timezone.now() - timedelta(hours=settings.ACCOUNTS_EMAIL_LINK_HOURS)
    stale = User.objects.filter(
        email_verified_at__isnull=True,
        is_active=False,
        last_login__isnull=True,
        role=User.Role.FAMILY,
        date_joined__lt=limit,
    )
    ActivationKey.objects.filter(used_by__in=stale, revoked_at__isnull=True).update(
        used_at=None, used_by=None
    )
    count, _ = stale.delete()
    return count


def sign_up(*, data: SignupData) -> None:
    """Create an inactive account and send the confirmation link.

    Whether the address or the username already has an account is never shown
    to the person signing up: the answer is the same (« consultez votre
    messagerie »), and the e-mail tells the address's owner what happened — an
    existing account's owner that someone tried, a new address that the username
    is taken (ASVS 6.3: no account enumeration)."""
    try:
        with transaction.atomic():
            _sign_up(data)
    except IntegrityError:
        # Two sign-ups racing on the same address or username: the loser is told
        # nothing more than the winner was.
        with transaction.atomic():
            existing = User.objects.filter(email__iexact=data.email).first()
            if existing is None:
                _mail_username_taken(data)
            else:
                _mail_signup_attempt(existing, data.email)


def _sign_up(data: SignupData) -> None:
    purge_expired_signups()
    # The key first: its answer must not depend on whether the address or the
    # username is taken (that difference would tell who has an account).
    key = None
    if data.activation_key:
        key, problem = find_key_problem(data.activation_key, for_update=True)
        if problem:
            raise ValidationError({"activation_key": problem})
    existing = User.objects.filter(email__iexact=data.email).first()
    if existing is not None:
        # Hash anyway: the answer takes as long as a real sign-up's (a timing
        # difference would tell that the address has an account).
        make_password(data.password)
        _mail_signup_attempt(existing, data.email)
        return
    if User.objects.filter(username__iexact=data.username).exists():
        make_password(data.password)  # same time as a real sign-up, as above
        _mail_username_taken(data)
        return
    user = User(
        username=data.username,
        email=data.email,
        first_name=data.first_name,
        last_name=data.last_name,
        phone=data.phone,
        address_line=data.address_line,
        postcode=data.postcode,
        city=data.city,
        role=User.Role.FAMILY,
        is_active=False,
    )
    user.set_password(data.password)
    user.save()
    if key is not None:
        _use_key(key, user, email=data.email, phone=data.phone)
    send_confirmation_link(user=user)


def _use_key(key: ActivationKey, user, *, email: str, phone: str):
    key.used_at, key.used_by = timezone.now(), user
    key.save(update_fields=["used_at", "used_by"])
    adult = key.adult
    adult.user = user
    # The town's file stays authoritative: only empty contact fields are filled.
    fields = ["user"]
    if not adult.email:
        adult.email, fields = email, [*fields, "email"]
    if not adult.phone:
        adult.phone, fields = phone, [*fields, "phone"]
    adult.save(update_fields=fields)
    return adult


@transaction.atomic
def redeem_activation_key(*, user, normalized_key: str):
    """« J'ai reçu une clé »: an account without a family file enters its key
    later; the same checks as at sign-up (the form ran them), re-checked under
    lock. Returns the legal representative now linked to the account."""
    if User.objects.filter(pk=user.pk, adult__isnull=False).exists():
        raise ValidationError("Ce compte est déjà rattaché à un dossier famille.")
    key, problem = find_key_problem(normalized_key, for_update=True)
    if problem:
        raise ValidationError(problem)
    return _use_key(key, user, email=user.email, phone=user.phone)


def send_confirmation_link(*, user) -> None:
    _mail(
        user.email,
        f"{_town().name} — confirmez votre adresse e-mail",
        "confirm_email.txt",
        user=user,
        link=_link("accounts:confirm_email", token=make_email_token(user, user.email)),
        hours=settings.ACCOUNTS_EMAIL_LINK_HOURS,
    )


def _mail_signup_attempt(existing, address: str) -> None:
    _mail(
        address,
        f"{_town().name} — tentative de création d'un espace avec votre adresse",
        "signup_attempt.txt",
        user=existing,
        login_url=_link("accounts:login"),
        reset_url=_link("accounts:password_reset"),
    )


def _mail_username_taken(data: SignupData) -> None:
    _mail(
        data.email,
        f"{_town().name} — votre espace n'a pas été créé",
        "signup_username_taken.txt",
        username=data.username,
        first_name=data.first_name,
        signup_url=_link("accounts:signup"),
    )


@transaction.atomic
def confirm_email(*, claim: EmailClaim) -> User:
    """Apply a confirmation link: activate a new account, or switch an account
    to its new address. A new account without a key asks staff to link it."""
    user = User.objects.select_for_update().filter(pk=claim.user_id).first()
    if user is None or user.email != claim.current:
        raise ValidationError(
            "Ce lien n'est plus valable. Connectez-vous pour en recevoir un nouveau."
        )
    now = timezone.now()
    if claim.email == claim.current:
        if user.email_verified_at is None:
            user.email_verified_at, user.is_active = now, True
            user.save(update_fields=["email_verified_at", "is_active"])
            if getattr(user, "adult", None) is None:
                # families.linking asks staff to link it (accounts knows no family file).
                unlinked_account_confirmed.send(sender=User, user=user)
        return user
    if User.objects.filter(email__iexact=claim.email).exclude(pk=user.pk).exists():
        raise ValidationError("Cette adresse est déjà celle d'un autre compte de cette commune.")
    old = user.email
    user.email, user.email_verified_at = claim.email, now
    user.save(update_fields=["email", "email_verified_at"])
    _mail(
        old,
        f"{_town().name} — votre adresse e-mail a changé",
        "email_changed.txt",
        user=user,
        new=claim.email,
    )
    return user


def account_linked(*, user, adult) -> None:
    """The account is now the legal representative `adult`'s (families.linking
    accepted its request): the adult's unused keys are revoked and the family
    is told by e-mail."""
    ActivationKey.objects.filter(adult=adult, used_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    _mail(
        user.email,
        f"{_town().name} — votre espace est rattaché à votre dossier",
        "account_linked.txt",
        user=user,
        adult=adult,
        login_url=_link("accounts:login"),
    )


# --- Identifiers and passwords ---------------------------------------------


@transaction.atomic
def change_username(*, user, username: str) -> None:
    if User.objects.filter(username__iexact=username).exclude(pk=user.pk).exists():
        raise ValidationError(
            {"username": "Ce nom d'utilisateur est déjà pris : choisissez-en un autre."}
        )
    user.username = username
    user.save(update_fields=["username"])


def request_email_change(*, user, new_email: str) -> None:
    """The address changes only once the link sent to it is followed. A taken
    address gets a warning instead, and the page says the same thing."""
    with transaction.atomic():
        taken = User.objects.filter(email__iexact=new_email).exclude(pk=user.pk).first()
        if taken is not None:
            _mail_signup_attempt(taken, new_email)
            return
        _mail(
            new_email,
            f"{_town().name} — confirmez votre nouvelle adresse e-mail",
            "confirm_email.txt",
            user=user,
            link=_link("accounts:confirm_email", token=make_email_token(user, new_email)),
            hours=settings.ACCOUNTS_EMAIL_LINK_HOURS,
        )


def _session_store():
    return import_module(settings.SESSION_ENGINE).SessionStore


def track_session(
    *, user, session_key: str, user_agent: str = "", replaces: str | None = None
) -> None:
    if not session_key:
        return
    if replaces:
        UserSession.objects.filter(session_key=replaces).delete()
    UserSession.objects.update_or_create(
        session_key=session_key, defaults={"user": user, "user_agent": user_agent[:200]}
    )


def forget_session(*, session_key: str | None) -> None:
    if session_key:
        UserSession.objects.filter(session_key=session_key).delete()


@transaction.atomic
def end_other_sessions(*, user, keep: str | None) -> int:
    """Server-side logout of every session of `user` except `keep`."""
    store = _session_store()()
    rows = list(UserSession.objects.filter(user=user).exclude(session_key=keep or ""))
    for row in rows:
        store.delete(row.session_key)
    UserSession.objects.filter(pk__in=[r.pk for r in rows]).delete()
    return len(rows)


def active_sessions(*, user) -> list[UserSession]:
    """The account's sessions still alive (expired ones are forgotten)."""
    store = _session_store()()
    rows = list(UserSession.objects.filter(user=user))
    dead = [r.pk for r in rows if not store.exists(r.session_key)]
    if dead:
        UserSession.objects.filter(pk__in=dead).delete()
    return [r for r in rows if r.pk not in dead]


def after_password_reset(*, user) -> None:
    """A reset proves the mailbox: every open session ends (the old password
    may be what leaked) and the sign-in delays of the account are lifted."""

    end_other_sessions(user=user, keep=None)
    login_account_throttle.reset(f"user:{user.pk}")


# --- Sign-in bookkeeping (signals) ------------------------------------------


def record_login(*, user) -> None:
    """Replaces django.contrib.auth's update_last_login: keeps the sign-in
    before this one for the header ("Dernière connexion le ...")."""
    user.previous_login, user.last_login = user.last_login, timezone.now()
    user.save(update_fields=["previous_login", "last_login"])


def send_password_reset(*, user) -> None:
    """Django's single-use reset link (never a password in an e-mail)."""

    _mail(
        user.email,
        f"{_town().name} — réinitialiser votre mot de passe",
        "password_reset.txt",
        user=user,
        link=_link(
            "accounts:password_reset_confirm",
            uidb64=urlsafe_base64_encode(force_bytes(user.pk)),
            token=password_reset_tokens.make_token(user),
        ),
        minutes=settings.PASSWORD_RESET_TIMEOUT // 60,
    )
