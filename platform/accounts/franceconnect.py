"""FranceConnect (OpenID Connect) client, one per town (docs/decisions/1600).

Authlib's OAuth2 session builds the authorization URL and exchanges the code
(client_secret_post); joserfc (Authlib's JOSE library) verifies every JWT.
FranceConnect's rules, each enforced here:
- authorization code flow; a fresh `state` and `nonce` per attempt, kept in the
  session and compared in constant time;
- the ID token: RS256/ES256 signature against the provider's JWKS, `iss` (the
  configured issuer, also checked in the discovery document), `aud` (the town's
  client id), `exp`/`iat`, `nonce`, and `acr` at least the eIDAS level asked
  (`acr_values`);
- userinfo is a signed JWT in FranceConnect v2: verified the same way, its
  `sub` must be the ID token's;
- sign-out through the provider's `end_session_endpoint` with `id_token_hint`.

A town's settings (`franceconnect` in its YAML): `client_id`, `environment`
(integration or production: endpoints from settings.FRANCECONNECT_ISSUERS),
`eidas_level`, and `secrets.client_secret`, the NAME of the environment
variable holding the secret (never the secret). Nothing here logs a claim.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlencode

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from django.conf import settings
from django.core.cache import cache
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from core import town_config

log = logging.getLogger("guichet.franceconnect")

# FranceConnect's documented scopes: the identité pivot and the e-mail.
SCOPES = (
    "openid",
    "given_name",
    "family_name",
    "birthdate",
    "gender",
    "birthplace",
    "birthcountry",
    "email",
)
EIDAS_LEVELS = ("eidas1", "eidas2", "eidas3")
ALGORITHMS = ["RS256", "ES256"]
TIMEOUT = 10  # seconds, each call to the provider
LEEWAY = 30  # seconds of clock difference accepted on exp/iat
ATTEMPT_SECONDS = 600  # a sign-in attempt (state, nonce) lives ten minutes
IDENTITY_CLAIMS = (
    "given_name",
    "family_name",
    "birthdate",
    "gender",
    "birthplace",
    "birthcountry",
    "email",
)


class FranceConnectError(Exception):
    """A refused or failed sign-in; `message` is French, for the person."""

    def __init__(self, message: str, *, status: int = 400, reason: str = "refused"):
        super().__init__(message)
        self.message, self.status, self.reason = message, status, reason


UNAVAILABLE = (
    "FranceConnect ne répond pas pour le moment. Réessayez dans quelques minutes, "
    "ou connectez-vous avec votre identifiant et votre mot de passe."
)
REFUSED = (
    "La connexion avec FranceConnect n'a pas pu être vérifiée : pour votre sécurité, "
    "elle est refusée. Recommencez depuis la page de connexion."
)


@dataclass(frozen=True)
class TownClient:
    client_id: str
    client_secret: str
    issuer: str
    eidas_level: str = "eidas1"


@dataclass(frozen=True)
class Identity:
    sub: str
    claims: dict  # the identité pivot (given_name, family_name, birthdate...)
    id_token: str  # kept in the session for the sign-out's id_token_hint
    acr: str


def town_client(commune) -> TownClient | None:
    """The town's client, or None when the town has not switched FranceConnect
    on (or its secret variable is unset: checked at start-up in production)."""
    section = town_config.section(commune, "franceconnect") or {}
    if not section.get("client_id"):
        return None
    variable = (section.get("secrets") or {}).get("client_secret", "")
    secret = os.environ.get(variable, "") if variable else ""
    issuer = settings.FRANCECONNECT_ISSUERS.get(section.get("environment", "integration"))
    if not secret or not issuer:
        return None
    return TownClient(
        client_id=section["client_id"],
        client_secret=secret,
        issuer=issuer.rstrip("/"),
        eidas_level=section.get("eidas_level", "eidas1"),
    )


def configuration_problem(section: dict | None, environ) -> str | None:
    """Why a town whose YAML switches FranceConnect on could not use it on this
    server (French, for the operator), or None. Read by `check --deploy`
    (accounts.checks): never the secret's value, only its variable's name."""
    section = section or {}
    if not section.get("client_id"):
        return None  # FranceConnect is off for the town
    variable = (section.get("secrets") or {}).get("client_secret", "")
    if not variable:
        return (
            "FranceConnect indisponible : la configuration ne nomme pas la variable "
            "d'environnement du secret client (franceconnect.secrets.client_secret)."
        )
    if not environ.get(variable, ""):
        return (
            f"FranceConnect indisponible : la variable d'environnement « {variable} » "
            "(secret client) n'est pas définie sur le serveur."
        )
    environment = section.get("environment", "integration")
    if not settings.FRANCECONNECT_ISSUERS.get(environment):
        return f"FranceConnect indisponible : environnement « {environment} » inconnu."
    return None


def _get_json(url: str) -> dict:
    try:
        response = requests.get(url, timeout=TIMEOUT)
        response.raise_for_status()
        return response.json()
    except (requests.RequestException, ValueError) as exc:
        log.warning(
            "franceconnect unavailable", extra={"step": "metadata", "error": type(exc).__name__}
        )
        raise FranceConnectError(UNAVAILABLE, status=503, reason="unavailable") from exc


def metadata(client: TownClient) -> dict:
    key = f"franceconnect:metadata:{client.issuer}"
    found = cache.get(key)
    if found is None:
        found = _get_json(client.issuer + "/.well-known/openid-configuration")
        if found.get("issuer", "").rstrip("/") != client.issuer:
            log.warning("franceconnect issuer mismatch", extra={"step": "metadata"})
            raise FranceConnectError(UNAVAILABLE, status=503, reason="issuer")
        cache.set(key, found, 3600)
    return found


def _keys(client: TownClient, *, refresh: bool = False) -> KeySet:
    key = f"franceconnect:jwks:{client.issuer}"
    found = None if refresh else cache.get(key)
    if found is None:
        found = _get_json(metadata(client)["jwks_uri"])
        cache.set(key, found, 3600)
    return KeySet.import_key_set(found)


def start(client: TownClient, redirect_uri: str) -> tuple[str, dict]:
    """The provider's authorization URL and the attempt to keep in the session."""
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session = OAuth2Session(client.client_id, scope=" ".join(SCOPES), redirect_uri=redirect_uri)
    url, _ = session.create_authorization_url(
        metadata(client)["authorization_endpoint"],
        state=state,
        nonce=nonce,
        acr_values=client.eidas_level,
        prompt="login consent",
    )
    return url, {"state": state, "nonce": nonce, "at": time.time()}


def check_state(attempt: dict | None, state: str | None) -> dict:
    """The attempt kept in the session, if the provider's `state` is its own."""
    if (
        not attempt
        or not state
        or not secrets.compare_digest(str(attempt.get("state", "")), state)
        or time.time() - attempt.get("at", 0) > ATTEMPT_SECONDS
    ):
        log.info("franceconnect refused", extra={"step": "state"})
        raise FranceConnectError(REFUSED, reason="state")
    return attempt


def _decode(client: TownClient, token: str, registry: jwt.JWTClaimsRegistry, step: str):
    try:
        try:
            decoded = jwt.decode(token, _keys(client), algorithms=ALGORITHMS)
        except JoseError:
            # The provider may have rolled its keys: read them once more.
            decoded = jwt.decode(token, _keys(client, refresh=True), algorithms=ALGORITHMS)
        registry.validate(decoded.claims)
    except (JoseError, ValueError) as exc:
        log.info("franceconnect refused", extra={"step": step, "error": type(exc).__name__})
        raise FranceConnectError(REFUSED, reason=step) from exc
    return decoded.claims


def accepted_levels(asked: str) -> list[str]:
    """eIDAS levels at least as high as the one asked."""
    return list(EIDAS_LEVELS[EIDAS_LEVELS.index(asked) :]) if asked in EIDAS_LEVELS else []


def finish(client: TownClient, *, redirect_uri: str, code: str, attempt: dict) -> Identity:
    """Exchange the code, verify the ID token and read the identity."""
    meta = metadata(client)
    session = OAuth2Session(
        client.client_id,
        client.client_secret,
        redirect_uri=redirect_uri,
        token_endpoint_auth_method="client_secret_post",
    )
    try:
        token = session.fetch_token(meta["token_endpoint"], code=code, timeout=TIMEOUT)
    except OAuthError as exc:  # invalid_grant (a replayed code), invalid_client...
        log.info("franceconnect refused", extra={"step": "token", "error": exc.error})
        raise FranceConnectError(REFUSED, reason="token") from exc
    except (requests.RequestException, ValueError) as exc:
        log.warning(
            "franceconnect unavailable", extra={"step": "token", "error": type(exc).__name__}
        )
        raise FranceConnectError(UNAVAILABLE, status=503, reason="unavailable") from exc
    id_token = token.get("id_token")
    if not id_token:
        raise FranceConnectError(REFUSED, reason="id_token")
    claims = _decode(
        client,
        id_token,
        jwt.JWTClaimsRegistry(
            leeway=LEEWAY,
            iss={"essential": True, "value": client.issuer},
            aud={"essential": True, "value": client.client_id},
            exp={"essential": True},
            iat={"essential": True},
            sub={"essential": True},
            nonce={"essential": True, "value": attempt["nonce"]},
            acr={"essential": True, "values": accepted_levels(client.eidas_level)},
        ),
        "id_token",
    )
    info = _userinfo(client, meta, token["access_token"], claims["sub"])
    log.info("franceconnect signed in", extra={"step": "done", "acr": claims["acr"]})
    return Identity(
        sub=claims["sub"],
        claims={k: info[k] for k in IDENTITY_CLAIMS if info.get(k) not in (None, "")},
        id_token=id_token,
        acr=claims["acr"],
    )


def _userinfo(client: TownClient, meta: dict, access_token: str, sub: str) -> dict:
    try:
        response = requests.get(
            meta["userinfo_endpoint"],
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=TIMEOUT,
        )
        response.raise_for_status()
    except requests.RequestException as exc:
        log.warning(
            "franceconnect unavailable", extra={"step": "userinfo", "error": type(exc).__name__}
        )
        raise FranceConnectError(UNAVAILABLE, status=503, reason="unavailable") from exc
    if response.headers.get("Content-Type", "").startswith("application/jwt"):
        return _decode(
            client,
            response.text.strip(),
            jwt.JWTClaimsRegistry(
                leeway=LEEWAY,
                iss={"essential": True, "value": client.issuer},
                aud={"essential": True, "value": client.client_id},
                sub={"essential": True, "value": sub},
            ),
            "userinfo",
        )
    try:
        info = response.json()
    except ValueError as exc:
        raise FranceConnectError(REFUSED, reason="userinfo") from exc
    if info.get("sub") != sub:
        raise FranceConnectError(REFUSED, reason="userinfo")
    return info


def logout_url(client: TownClient, *, id_token: str, redirect_uri: str, state: str) -> str:
    """FranceConnect's end-session URL: the provider's session ends too."""
    return (
        metadata(client)["end_session_endpoint"]
        + "?"
        + urlencode(
            {"id_token_hint": id_token, "state": state, "post_logout_redirect_uri": redirect_uri}
        )
    )
