"""« S'identifier avec FranceConnect » (under /<slug>/compte/franceconnect/).

Thin: accounts.franceconnect speaks the protocol, accounts.fc_accounts picks
or creates the account. Every refusal is a French page (400, 403 or 503),
and changes no account.
"""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts import fc_accounts, franceconnect
from accounts.forms import LoginForm
from core.access import GET_POST, POST, PUBLIC, access

ATTEMPT = "fc_attempt"  # state and nonce of the sign-in under way
PENDING = "fc_pending"  # a verified identity not yet linked to an account
ID_TOKEN = "fc_id_token"  # the sign-out's id_token_hint
IDENTITY = "fc_identity"  # the identité pivot, for API Particulier (session only)
LOGOUT_STATE = "fc_logout_state"
BACKEND = "accounts.backends.UsernameOrEmailBackend"


def _client(request):
    client = franceconnect.town_client(request.tenant)
    if client is None:
        raise Http404("FranceConnect n'est pas proposé par cette commune.")
    return client


def _redirect_uri(request) -> str:
    return request.build_absolute_uri(reverse("accounts:fc_callback"))


def _refusal(request, error: franceconnect.FranceConnectError | str, status: int = 400):
    message = error.message if isinstance(error, franceconnect.FranceConnectError) else error
    if isinstance(error, franceconnect.FranceConnectError):
        status = error.status
    return render(request, "accounts/franceconnect_error.html", {"message": message}, status=status)


def _sign_in(request, user, identity: dict):
    auth_login(request, user, backend=BACKEND)  # a new session id
    request.session[ID_TOKEN] = identity["id_token"]
    request.session[IDENTITY] = identity["claims"]
    if getattr(user, "adult", None) is None:
        messages.info(
            request,
            "Votre espace n'est pas encore rattaché à votre dossier famille : "
            "saisissez la clé que la mairie vous a remise.",
        )
        return redirect("accounts:key-later")
    return redirect("families:dashboard")


@access(PUBLIC, methods=POST)  # a town without FranceConnect: 404
@require_POST
@csrf_protect
@never_cache
def fc_login_view(request):
    client = _client(request)
    try:
        url, attempt = franceconnect.start(client, _redirect_uri(request))
    except franceconnect.FranceConnectError as error:
        return _refusal(request, error)
    request.session[ATTEMPT] = attempt
    return redirect(url)


@access(PUBLIC, everyone="bad_request")  # without the provider's code and state: 400
@never_cache
def fc_callback_view(request):
    client = _client(request)
    attempt = request.session.pop(ATTEMPT, None)  # one use, whatever happens
    if request.GET.get("error"):
        if attempt and secrets.compare_digest(
            str(attempt.get("state", "")), request.GET.get("state", "")
        ):
            messages.info(request, "Connexion avec FranceConnect annulée.")
            return redirect("accounts:login")
        return _refusal(request, franceconnect.REFUSED)
    try:
        attempt = franceconnect.check_state(attempt, request.GET.get("state"))
        code = request.GET.get("code") or ""
        if not code:
            raise franceconnect.FranceConnectError(franceconnect.REFUSED)
        identity = franceconnect.finish(
            client, redirect_uri=_redirect_uri(request), code=code, attempt=attempt
        )
        user = fc_accounts.account_for(identity.sub)
    except franceconnect.FranceConnectError as error:
        return _refusal(request, error)
    except ValidationError as error:
        return _refusal(request, error.messages[0], status=403)
    found = {"sub": identity.sub, "claims": identity.claims, "id_token": identity.id_token}
    if user is not None:
        return _sign_in(request, user, found)
    request.session[PENDING] = found
    return redirect("accounts:fc_first")


@access(PUBLIC, methods=GET_POST, everyone="login")  # without a verified identity: sign-in page
@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def fc_first_view(request):
    """First use: link to an existing account (its password proves it) or
    create one from the identity."""
    _client(request)
    pending = request.session.get(PENDING)
    if not pending:
        messages.info(request, "Commencez par « S'identifier avec FranceConnect ».")
        return redirect("accounts:login")
    action = request.POST.get("action") if request.method == "POST" else None
    form = LoginForm(request.POST if action == "link" else None, request=request)
    status = 200
    if action == "link":
        if form.is_valid():
            try:
                fc_accounts.link(user=form.user, sub=pending["sub"])
            except ValidationError as error:
                form.add_error(None, error.messages)
            else:
                del request.session[PENDING]
                messages.success(request, "FranceConnect est relié à votre espace.")
                return _sign_in(request, form.user, pending)
        status = 429 if form.throttled else 400
    elif action == "create":
        try:
            user = fc_accounts.create_account(sub=pending["sub"], claims=pending["claims"])
        except ValidationError as error:
            form.add_error(None, error.messages)
            status = 400
        else:
            del request.session[PENDING]
            messages.success(request, "Votre espace est créé avec votre identité FranceConnect.")
            return _sign_in(request, user, pending)
    return render(
        request,
        "accounts/franceconnect_first.html",
        {"form": form, "claims": pending["claims"]},
        status=status,
    )


def logout_target(request, id_token: str | None):
    """Where sign-out goes: FranceConnect's end-session when the session
    came from it (its own session ends too), else None."""
    client = franceconnect.town_client(request.tenant) if id_token else None
    if client is None:
        return None
    state = secrets.token_urlsafe(24)
    try:
        url = franceconnect.logout_url(
            client,
            id_token=id_token,
            redirect_uri=request.build_absolute_uri(reverse("accounts:fc_logged_out")),
            state=state,
        )
    except franceconnect.FranceConnectError:
        return None
    request.session[LOGOUT_STATE] = state
    return url


@access(PUBLIC)
def fc_logged_out_view(request):
    expected = request.session.pop(LOGOUT_STATE, "")
    if expected and secrets.compare_digest(expected, request.GET.get("state", "")):
        messages.info(request, "Vous êtes déconnecté, de ce portail et de FranceConnect.")
    else:
        messages.info(request, "Vous êtes déconnecté.")
    return redirect("town-home")
