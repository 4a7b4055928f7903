"""Pages of accounts (under /<slug>/compte/). Thin: forms validate, services write."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import get_script_prefix, reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts import franceconnect, otp, services, signin_gate
from accounts.backends import find_account
from accounts.fc_views import ID_TOKEN, logout_target
from accounts.forms import (
    IdentifiersForm,
    KeyLaterForm,
    LoginForm,
    OTPTokenForm,
    PasswordResetRequestForm,
    SignupForm,
    TownPasswordChangeForm,
    TownSetPasswordForm,
)
from accounts.security import mail_address_throttle, mail_ip_throttle
from accounts.services import SignupData
from accounts.throttling import client_ip
from accounts.tokens import password_reset_tokens, read_email_token
from core import town_config
from core.access import GET_POST, POST, PUBLIC, SIGNED_IN, access
from core.french import Noun

DEFAULT_KEY_LABEL = "clé Enfance"


def key_label(commune) -> Noun:
    """What the town calls its activation key: "clé Enfance" (Bondoufle),
    "clé espace citoyens/enfance" (Donges), "code personnel" (Castres).
    Read from `accounts.activation_key_label` in the town's YAML when present.
    A `core.french.Noun`: templates write `{{ key_label.un }}` (« une clé
    Enfance », « un code personnel »), `.le`, `.ce`, `.du`, `.Le`."""
    word = (town_config.section(commune, "accounts") or {}).get(
        "activation_key_label"
    ) or DEFAULT_KEY_LABEL
    return Noun.of(word)


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if (
        target
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        and target.startswith(request.META.get("SCRIPT_NAME", "") + "/")
    ):
        return target
    return fallback


def _home(user) -> str:
    """Where a signed-in person starts: town staff on their work queue
    (/<town>/gestion/), everyone else on their account."""
    if getattr(user, "is_town_staff", False):
        return reverse("backoffice:home")
    return reverse("accounts:account")


def _private(response):
    """Pages with personal data: never stored by a browser or proxy cache."""
    response["Cache-Control"] = "no-store"
    return response


# --- Sign-in / sign-out -----------------------------------------------------


@access(PUBLIC, methods=GET_POST)
@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request):
    form = LoginForm(request.POST or None, request=request)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            user = form.user
            auth_login(request, user)  # new session id (Django cycles the key)
            if user.needs_second_factor:
                target = (
                    "accounts:otp_verify" if otp.confirmed_device(user) else "accounts:otp_setup"
                )
                nxt = _safe_next(request, "")
                response = redirect(reverse(target) + (f"?next={nxt}" if nxt else ""))
            else:
                response = HttpResponseRedirect(
                    _safe_next(request, reverse(settings.LOGIN_REDIRECT_URL))
                )
            _gate_cookie(response, form)  # a turn used: forgotten
            return response
        if getattr(form, "unverified_user", None) is not None:
            _resend_confirmation(request, form.unverified_user)
        if form.throttled:
            status = 429
    response = render(
        request,
        "accounts/login.html",
        {
            "form": form,
            "next": _safe_next(request, ""),
            "franceconnect": franceconnect.town_client(request.tenant) is not None,
        },
        status=status,
    )
    _gate_cookie(response, form)
    return response


def _gate_cookie(response, form) -> None:
    """The sign-in gate's answer (accounts.signin_gate): over the rate no hash
    was made, Retry-After says when to come back and the turn reserved for
    this browser is kept in a cookie until it is used."""
    turn = form.gate_turn
    if turn is None:
        return
    if turn.wait:
        # The wait is an estimate at today's rate: a turn holder looks again
        # within 30 s (no hash: cheap), so a faster machine serves it sooner.
        response["Retry-After"] = str(min(turn.wait, signin_gate.LOOK_AGAIN_SECONDS))
    if turn.token:
        response.set_cookie(
            signin_gate.TURN_COOKIE,
            turn.token,
            max_age=turn.wait + signin_gate.STALE_TURN_SECONDS,
            path=get_script_prefix(),
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )
    elif not turn.wait and signin_gate.TURN_COOKIE in form.request.COOKIES:
        response.delete_cookie(signin_gate.TURN_COOKIE, path=get_script_prefix())


def _resend_confirmation(request, user) -> None:
    address, ip = user.email.lower(), client_ip(request)
    if mail_address_throttle.wait(address) or mail_ip_throttle.wait(ip):
        return
    mail_address_throttle.failure(address)
    mail_ip_throttle.failure(ip)
    services.send_confirmation_link(user=user)


@access(PUBLIC, methods=POST)
@require_POST
def logout_view(request):
    """POST only (a link or an image could not sign anyone out); the session
    row is deleted server-side by auth_logout's flush. A session opened with
    FranceConnect ends at FranceConnect too (end-session with id_token_hint)."""
    id_token = request.session.get(ID_TOKEN)
    auth_logout(request)
    target = logout_target(request, id_token)
    if target:
        return redirect(target)
    messages.info(request, "Vous êtes déconnecté.")
    return redirect(settings.LOGOUT_REDIRECT_URL)


# --- Sign-up and e-mail confirmation ----------------------------------------


@access(PUBLIC, methods=GET_POST)
@sensitive_post_parameters("password", "activation_key")
@csrf_protect
@never_cache
def signup_view(request):
    label = key_label(request.tenant)
    if request.method == "POST":
        # Expired unconfirmed sign-ups free their username, address and key first.
        services.purge_expired_signups()
    form = SignupForm(request.POST or None, request=request, key_label=label)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            ip = client_ip(request)
            if mail_ip_throttle.wait(ip):
                status = 429
                form.add_error(
                    None, "Trop de créations d'espace depuis cette connexion : réessayez plus tard."
                )
            else:
                mail_ip_throttle.failure(ip)
                data = SignupData(
                    **{
                        k: form.cleaned_data[k]
                        for k in (
                            "first_name",
                            "last_name",
                            "email",
                            "phone",
                            "address_line",
                            "postcode",
                            "city",
                            "username",
                            "password",
                            "activation_key",
                        )
                    }
                )
                try:
                    services.sign_up(data=data)
                except ValidationError as error:
                    form.add_error(None, error) if not hasattr(error, "error_dict") else [
                        form.add_error(field, msgs) for field, msgs in error.error_dict.items()
                    ]
                else:
                    return redirect("accounts:signup_done")
        elif form.throttled:
            status = 429
    return render(
        request, "accounts/signup.html", {"form": form, "key_label": label}, status=status
    )


@access(PUBLIC)
def signup_done(request):
    return render(
        request, "accounts/signup_done.html", {"hours": settings.ACCOUNTS_EMAIL_LINK_HOURS}
    )


@access(PUBLIC, methods=GET_POST, everyone="bad_request")  # the matrix's token is made up
@csrf_protect
@never_cache
def confirm_email_view(request, token):
    claim = read_email_token(token)
    if claim is None:
        return render(request, "accounts/confirm_email.html", {"invalid": True}, status=400)
    # GET shows a button, POST confirms: mail scanners that open links confirm nothing.
    if request.method == "POST":
        try:
            user = services.confirm_email(claim=claim)
        except ValidationError as error:
            return render(
                request,
                "accounts/confirm_email.html",
                {"invalid": True, "message": error.messages[0]},
                status=400,
            )
        if claim.email == claim.current:
            messages.success(
                request, "Votre adresse e-mail est confirmée : vous pouvez vous connecter."
            )
            if not hasattr(user, "adult"):
                messages.info(
                    request,
                    "Votre demande de rattachement à votre dossier famille a été "
                    "transmise à la mairie.",
                )
        else:
            messages.success(request, "Votre nouvelle adresse e-mail est enregistrée.")
        if request.user.is_authenticated:
            return redirect("accounts:account")
        return redirect("accounts:login")
    return render(
        request,
        "accounts/confirm_email.html",
        {"email": claim.email, "change": claim.email != claim.current},
    )


# --- Password reset (Django's views, French templates, mail after commit) ---


@access(PUBLIC, methods=GET_POST)
def password_reset_view(request):
    """« Mot de passe oublié » by username or e-mail (Donges' guide). The
    answer is the same whether an account exists; a link, never a password,
    is e-mailed."""
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        identifier = form.cleaned_data["identifier"].strip()
        ip = client_ip(request)
        user = find_account(identifier)
        target = f"user:{user.pk}" if user else f"id:{identifier.lower()}"
        if not (mail_ip_throttle.wait(ip) or mail_address_throttle.wait(target)):
            mail_ip_throttle.failure(ip)
            mail_address_throttle.failure(target)
            if user is not None and user.is_active and user.email and user.has_usable_password():
                services.send_password_reset(user=user)
        return redirect("accounts:password_reset_done")
    return render(request, "accounts/password_reset_form.html", {"form": form})


@access(PUBLIC)
def password_reset_done(request):
    return render(request, "accounts/password_reset_done.html")


@access(PUBLIC)
class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    token_generator = password_reset_tokens
    form_class = TownSetPasswordForm
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        services.after_password_reset(user=form.user)
        return response


@access(PUBLIC)
def password_reset_complete(request):
    return render(request, "accounts/password_reset_complete.html")


# --- Mon compte ---------------------------------------------------------------


@access(SIGNED_IN)
@login_required
@never_cache
def account_view(request):
    user = request.user
    return _private(
        render(
            request,
            "accounts/account.html",
            {
                "sessions": services.active_sessions(user=user),
                "current_key": request.session.session_key,
                "device": otp.confirmed_device(user) if user.needs_second_factor else None,
            },
        )
    )


@access(SIGNED_IN, methods=GET_POST)
@login_required
@sensitive_post_parameters()
@csrf_protect
@never_cache
def password_change_view(request):
    form = TownPasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        old_key = request.session.session_key
        update_session_auth_hash(request, user)  # keeps this session, with a new id
        services.track_session(
            user=user,
            session_key=request.session.session_key,
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            replaces=old_key,
        )
        ended = services.end_other_sessions(user=user, keep=request.session.session_key)
        messages.success(
            request,
            "Votre mot de passe est modifié."
            + (
                f" Vos {ended} autres sessions ont été déconnectées."
                if ended > 1
                else " Votre autre session a été déconnectée."
                if ended == 1
                else ""
            ),
        )
        return redirect("accounts:account")
    return _private(render(request, "accounts/password_change.html", {"form": form}))


@access(SIGNED_IN, methods=GET_POST)
@login_required
@sensitive_post_parameters("current_password")
@csrf_protect
@never_cache
def identifiers_view(request):
    user = request.user
    form = IdentifiersForm(
        request.POST or None, user=user, initial={"username": user.username, "email": user.email}
    )
    if request.method == "POST" and form.is_valid():
        try:
            if form.cleaned_data["username"] != user.username:
                services.change_username(user=user, username=form.cleaned_data["username"])
                messages.success(request, "Votre nom d'utilisateur est modifié.")
        except ValidationError as error:
            for field, msgs in error.error_dict.items():
                form.add_error(field, msgs)
        else:
            if form.cleaned_data["email"].lower() != user.email.lower():
                services.request_email_change(user=user, new_email=form.cleaned_data["email"])
                messages.info(
                    request,
                    "Un lien de confirmation a été envoyé à la nouvelle adresse : "
                    "elle remplacera l'ancienne une fois le lien suivi.",
                )
            return redirect("accounts:account")
    return _private(render(request, "accounts/identifiers.html", {"form": form}))


@access(SIGNED_IN, methods=POST)
@login_required
@require_POST
def end_other_sessions_view(request):
    ended = services.end_other_sessions(user=request.user, keep=request.session.session_key)
    messages.success(
        request,
        "Vos autres sessions sont déconnectées."
        if ended
        else "Aucune autre session n'était ouverte.",
    )
    return redirect("accounts:account")


# --- Second factor -------------------------------------------------------------


@access(SIGNED_IN, methods=GET_POST)
@login_required
@csrf_protect
@never_cache
def otp_setup_view(request):
    """Enrolment, allowed only while the account has no confirmed device: a
    password alone never replaces an existing second factor."""
    user = request.user
    if otp.confirmed_device(user) is not None:
        return redirect(reverse("accounts:otp_verify") + _next_query(request))
    device = otp.pending_device(user)
    form = OTPTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if otp.verify(request, device, form.cleaned_data["token"]):
            messages.success(request, "La double authentification est activée pour votre compte.")
            return HttpResponseRedirect(_safe_next(request, _home(request.user)))
        form.add_error(
            "token",
            "Ce code n'est pas valable. Vérifiez l'heure de votre téléphone "
            "et saisissez le code affiché maintenant.",
        )
    return _private(
        render(
            request,
            "accounts/otp_setup.html",
            {
                "form": form,
                "qr_svg": otp.qr_svg(device),
                "secret": otp.secret_base32(device),
                "next": _safe_next(request, ""),
            },
        )
    )


@access(SIGNED_IN, methods=GET_POST)
@login_required
@csrf_protect
@never_cache
def otp_verify_view(request):
    user = request.user
    device = otp.confirmed_device(user)
    if device is None:
        return redirect(reverse("accounts:otp_setup") + _next_query(request))
    if otp.is_verified(user):
        return HttpResponseRedirect(_safe_next(request, _home(request.user)))
    form = OTPTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # django-otp doubles a wait after each wrong code (1 s, 2 s, 4 s...).
        allowed, _ = device.verify_is_allowed()
        if not allowed:
            form.add_error(
                "token", "Trop d'essais : patientez quelques secondes avant de réessayer."
            )
        elif otp.verify(request, device, form.cleaned_data["token"]):
            return HttpResponseRedirect(_safe_next(request, _home(request.user)))
        else:
            form.add_error("token", "Ce code n'est pas valable.")
    return _private(
        render(request, "accounts/otp_verify.html", {"form": form, "next": _safe_next(request, "")})
    )


def _next_query(request) -> str:
    nxt = _safe_next(request, "")
    return f"?next={nxt}" if nxt else ""


# --- an account without a family file is not stuck ------------------------------------------


def unlinked_only(request):
    """None for an account with no family file yet; else where to send it."""
    if request.user.is_town_staff or getattr(request.user, "adult", None) is not None:
        return redirect("families:dashboard")
    return None


@access(SIGNED_IN, methods=GET_POST)  # linked accounts and staff are sent to their space
@login_required
@sensitive_post_parameters("activation_key")
@csrf_protect
@never_cache
def key_later_view(request):
    """« J'ai reçu une clé »: the key typed after sign-up, same checks."""

    elsewhere = unlinked_only(request)
    if elsewhere:
        return elsewhere
    form = KeyLaterForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        try:
            services.redeem_activation_key(
                user=request.user, normalized_key=form.cleaned_data["activation_key"]
            )
        except ValidationError as exc:
            form.add_error("activation_key", exc.messages)
        else:
            messages.success(request, "Votre espace est rattaché à votre dossier famille.")
            return redirect("families:dashboard")
    status = 429 if form.throttled else (422 if request.method == "POST" else 200)
    return render(request, "accounts/key_later.html", {"form": form}, status=status)
