"""The stand-ins' WSGI application (see the package docstring). DEMO AND TESTS ONLY.

Written from FranceConnect's partner documentation (OpenID Connect, v2
endpoints and claims, eIDAS levels in `acr`) and API Particulier's v3 OpenAPI
(quotient familial CAF & MSA), not from our client: it checks what the real
services check (client secret, redirect URI, codes used once, bearer token).
Tests steer it through `tamper` (a bad signature, a wrong audience...) and
`api_status` (force an API answer) to play the bad paths.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from functools import cache
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlencode, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

DEMO_CLIENT_SECRET = "demo-franceconnect-secret-guichet-famille"  # published: protects nothing
DEMO_API_TOKEN = "demo-api-particulier-token-guichet-famille"  # published: protects nothing
COOKIE = "idsim_session"
ACR_LEVELS = ("eidas1", "eidas2", "eidas3")


@dataclass(frozen=True)
class Person:
    key: str
    given_name: str
    family_name: str
    birthdate: str
    gender: str  # FranceConnect: "female" / "male"
    birthplace: str  # COG INSEE of the commune of birth ("" when born abroad)
    birthcountry: str  # COG INSEE of the country (99100: France)
    email: str
    # What API Particulier knows of this person: (provider, QF) or an HTTP status.
    qf: tuple[str, int] | int = 404


PEOPLE = {
    p.key: p
    for p in (
        Person(
            "claire",
            "Claire",
            "Martin",
            "1986-04-12",
            "female",
            "81065",
            "99100",
            "claire.martin@fc.demo.invalid",
            ("CNAF", 480),
        ),
        Person(
            "camille",
            "Camille",
            "Bernard",
            "1990-09-03",
            "female",
            "91086",
            "99100",
            "camille.bernard@fc.demo.invalid",
            ("MSA", 620),
        ),
        Person(
            "sami",
            "Sami",
            "Haddad",
            "1982-01-20",
            "male",
            "",
            "99351",
            "sami.haddad@fc.demo.invalid",
            404,
        ),
    )
}


@cache
def _key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})


def signing_key() -> RSAKey:
    return _key("idsim-1")


def other_key() -> RSAKey:
    """Another key with the SAME kid: a token an attacker signed."""
    return _key("idsim-attacker")


@dataclass
class IdentitySim:
    """One provider. `clients` maps client ids to secrets; with `any_client`
    (the demo), every client id is known and shares DEMO_CLIENT_SECRET."""

    clients: dict[str, str] = field(default_factory=dict)
    any_client: bool = False
    api_tokens: set[str] = field(default_factory=lambda: {DEMO_API_TOKEN})
    # Tests: changes to the next ID tokens ("claims": {...}, "other_key": True).
    tamper: dict = field(default_factory=dict)
    api_status: int | None = None  # tests: force API Particulier's answer
    codes: dict = field(default_factory=dict)
    tokens: dict = field(default_factory=dict)
    sessions: dict = field(default_factory=dict)
    api_calls: list = field(default_factory=list)  # (path, recipient) of each call
    ended_sessions: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    # --- WSGI --------------------------------------------------------------

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "") or "/"
        if path.startswith("/api-particulier/"):  # the demo serves both on one prefix
            path = path[len("/api-particulier") :]
        method = environ.get("REQUEST_METHOD", "GET")
        routes = {
            "/.well-known/openid-configuration": self.discovery,
            "/jwks": self.jwks,
            "/authorize": self.authorize,
            "/token": self.token,
            "/userinfo": self.userinfo,
            "/session/end": self.end_session,
            "/v3/dss/quotient_familial/identite": self.quotient_familial,
        }
        handler = routes.get(path.rstrip("/") or "/")
        if handler is None:
            status, headers, body = _json(404, {"error": "not_found"})
        else:
            status, headers, body = handler(environ, method)
        start_response(status, headers)
        return [body]

    # --- OpenID Connect ---------------------------------------------------

    def issuer(self, environ) -> str:
        scheme = environ.get("wsgi.url_scheme", "http")
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "127.0.0.1")
        return f"{scheme}://{host}{environ.get('SCRIPT_NAME', '').rstrip('/')}"

    def discovery(self, environ, method):
        iss = self.issuer(environ)
        return _json(
            200,
            {
                "issuer": iss,
                "authorization_endpoint": f"{iss}/authorize",
                "token_endpoint": f"{iss}/token",
                "userinfo_endpoint": f"{iss}/userinfo",
                "end_session_endpoint": f"{iss}/session/end",
                "jwks_uri": f"{iss}/jwks",
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code"],
                "acr_values_supported": list(ACR_LEVELS),
                "id_token_signing_alg_values_supported": ["RS256"],
                "userinfo_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "client_secret_basic",
                ],
                "scopes_supported": [
                    "openid",
                    "given_name",
                    "family_name",
                    "birthdate",
                    "gender",
                    "birthplace",
                    "birthcountry",
                    "email",
                    "preferred_username",
                ],
            },
        )

    def jwks(self, environ, method):
        return _json(200, KeySet([signing_key()]).as_dict(private=False))

    def _known_client(self, client_id: str, secret: str | None = None) -> bool:
        if not client_id:
            return False
        expected = DEMO_CLIENT_SECRET if self.any_client else self.clients.get(client_id)
        if expected is None:
            return False
        return secret is None or secrets.compare_digest(secret, expected)

    def authorize(self, environ, method):
        params = _query(environ)
        if method == "POST":
            params = {**params, **_form(environ)}
        client_id = params.get("client_id", "")
        redirect_uri = params.get("redirect_uri", "")
        if not self._known_client(client_id) or not _local_uri(redirect_uri):
            return _html(
                400, "<h1>Requête invalide</h1><p>Client ou adresse de retour inconnus.</p>"
            )
        missing = [p for p in ("state", "nonce", "scope", "acr_values") if not params.get(p)] + (
            [] if params.get("response_type") == "code" else ["response_type"]
        )
        if missing or "openid" not in params.get("scope", "").split():
            return _redirect(
                redirect_uri,
                {"error": "invalid_request", "state": params.get("state", "")},
            )
        session = self._session(environ)
        if method == "POST":
            if params.get("action") == "cancel":
                return _redirect(redirect_uri, {"error": "access_denied", "state": params["state"]})
            person = PEOPLE.get(params.get("person", ""))
            if person is None:
                return _html(400, "<h1>Identité inconnue</h1>")
            sid = secrets.token_urlsafe(16)
            self.sessions[sid] = person.key
            session = (sid, person.key)
        if session is None:
            return _html(200, _login_page(params))
        sid, person_key = session
        code = secrets.token_urlsafe(24)
        acr = params["acr_values"].split()[0]
        with self.lock:
            self.codes[code] = {
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "nonce": params["nonce"],
                "person": person_key,
                "acr": acr if acr in ACR_LEVELS else "eidas1",
                "sid": sid,
                "scope": params["scope"],
                "at": time.time(),
            }
        status, headers, body = _redirect(redirect_uri, {"code": code, "state": params["state"]})
        headers.append(("Set-Cookie", f"{COOKIE}={sid}; Path=/; HttpOnly; SameSite=Lax"))
        return status, headers, body

    def _session(self, environ):
        cookie = SimpleCookie(environ.get("HTTP_COOKIE", ""))
        sid = cookie[COOKIE].value if COOKIE in cookie else ""
        person = self.sessions.get(sid)
        return (sid, person) if person else None

    def token(self, environ, method):
        if method != "POST":
            return _json(405, {"error": "invalid_request"})
        form = _form(environ)
        client_id, secret = form.get("client_id", ""), form.get("client_secret")
        auth = environ.get("HTTP_AUTHORIZATION", "")
        if auth.startswith("Basic "):
            client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        if not self._known_client(client_id, secret or ""):
            return _json(401, {"error": "invalid_client"})
        if form.get("grant_type") != "authorization_code":
            return _json(400, {"error": "unsupported_grant_type"})
        with self.lock:
            grant = self.codes.pop(form.get("code", ""), None)  # a code works once
        if (
            grant is None
            or grant["client_id"] != client_id
            or grant["redirect_uri"] != form.get("redirect_uri")
            or time.time() - grant["at"] > 60
        ):
            return _json(400, {"error": "invalid_grant"})
        person = PEOPLE[grant["person"]]
        now = int(time.time())
        claims = {
            "iss": self.issuer(environ),
            "sub": _sub(person, client_id),
            "aud": client_id,
            "exp": now + 60,
            "iat": now,
            "nonce": grant["nonce"],
            "acr": grant["acr"],
            "amr": ["pwd"],
            "auth_time": now,
            "sid": grant["sid"],
            **self.tamper.get("claims", {}),
        }
        id_token = self._sign(claims)
        access = secrets.token_urlsafe(24)
        self.tokens[access] = {**grant, "client_id": client_id}
        return _json(
            200,
            {
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": 60,
                "id_token": id_token,
                "scope": grant["scope"],
            },
        )

    def _sign(self, claims: dict) -> str:
        key = other_key() if self.tamper.get("other_key") else signing_key()
        return jwt.encode({"alg": "RS256", "kid": "idsim-1"}, claims, key)

    def userinfo(self, environ, method):
        auth = environ.get("HTTP_AUTHORIZATION", "")
        grant = self.tokens.get(auth[7:]) if auth.startswith("Bearer ") else None
        if grant is None:
            return _json(401, {"error": "invalid_token"})
        person = PEOPLE[grant["person"]]
        scopes = set(grant["scope"].split())
        info = {
            "sub": _sub(person, grant["client_id"]),
            "iss": self.issuer(environ),
            "aud": grant["client_id"],
            "given_name": person.given_name,
            "family_name": person.family_name,
            "birthdate": person.birthdate,
            "gender": person.gender,
            "birthplace": person.birthplace,
            "birthcountry": person.birthcountry,
            "email": person.email,
        }
        info = {k: v for k, v in info.items() if k in ("sub", "iss", "aud") or k in scopes}
        token = self._sign(info)
        return "200 OK", [("Content-Type", "application/jwt")], token.encode()

    def end_session(self, environ, method):
        params = _query(environ)
        target = params.get("post_logout_redirect_uri", "")
        try:
            token = jwt.decode(params.get("id_token_hint", ""), KeySet([signing_key()]))
        except Exception:  # noqa: BLE001 — any bad hint is refused, as FranceConnect does
            return _html(400, "<h1>Déconnexion refusée</h1><p>id_token_hint invalide.</p>")
        if not _local_uri(target):
            return _html(400, "<h1>Déconnexion refusée</h1>")
        sid = token.claims.get("sid")
        if self.sessions.pop(sid, None) is not None:
            self.ended_sessions += 1
        status, headers, body = _redirect(target, {"state": params.get("state", "")})
        headers.append(("Set-Cookie", f"{COOKIE}=; Path=/; Max-Age=0"))
        return status, headers, body

    # --- API Particulier --------------------------------------------------

    def quotient_familial(self, environ, method):
        auth = environ.get("HTTP_AUTHORIZATION", "")
        params = parse_qs(environ.get("QUERY_STRING", ""))
        recipient = (params.get("recipient") or [""])[0]
        self.api_calls.append((environ.get("PATH_INFO"), recipient))
        if not (auth.startswith("Bearer ") and auth[7:] in self.api_tokens):
            return _api_error(401, "50002", "Jeton invalide", "Le jeton d'accès est invalide.")
        if self.api_status:
            return _api_status(self.api_status)
        if not (len(recipient) == 14 and recipient.isdigit()):
            return _api_error(
                422, "00210", "Entité non traitable", "Le paramètre recipient est invalide."
            )
        name = (params.get("nomNaissance") or [""])[0].strip().upper()
        first = ((params.get("prenoms[]") or [""])[0].strip().upper().split() or [""])[0]
        if not name or not first or "anneeDateNaissance" not in params:
            return _api_error(
                400, "00201", "Paramètres manquants", "nomNaissance, prenoms et date requis."
            )
        person = next(
            (
                p
                for p in PEOPLE.values()
                if p.family_name.upper() == name and p.given_name.upper() == first
            ),
            None,
        )
        answer = person.qf if person else 404
        if isinstance(answer, int):
            return _api_status(answer)
        provider, value = answer
        year = int((params.get("annee") or [time.strftime("%Y")])[0])
        month = int((params.get("mois") or [time.strftime("%m")])[0])
        return _json(
            200,
            {
                "data": {
                    "quotient_familial": {
                        "fournisseur": provider,
                        "valeur": value,
                        "annee": year,
                        "mois": month,
                        "annee_calcul": year,
                        "mois_calcul": month,
                    },
                    "allocataires": [
                        {
                            "nom_naissance": person.family_name.upper(),
                            "nom_usage": None,
                            "prenoms": person.given_name.upper(),
                            "date_naissance": person.birthdate,
                            "sexe": "F" if person.gender == "female" else "M",
                        }
                    ],
                    "enfants": [],
                    "adresse": None,
                },
                "links": {},
                "meta": {},
            },
        )


# --- helpers ----------------------------------------------------------------


def _sub(person: Person, client_id: str) -> str:
    """FranceConnect gives each service provider its own `sub` for a person."""
    return hashlib.sha256(f"{person.key}:{client_id}".encode()).hexdigest() + "v1"


def _local_uri(uri: str) -> bool:
    parts = urlsplit(uri)
    return parts.scheme in ("http", "https") and (parts.hostname or "") in (
        "127.0.0.1",
        "localhost",
        "testserver",
    )


def _query(environ) -> dict:
    return {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}


def _form(environ) -> dict:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length).decode() if length else ""
    return {k: v[0] for k, v in parse_qs(body).items()}


def _json(code: int, data) -> tuple[str, list, bytes]:
    reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}
    status = f"{code} {reason.get(code, 'Error')}"
    return status, [("Content-Type", "application/json")], json.dumps(data).encode()


def _api_error(code: int, err: str, title: str, detail: str):
    return _json(
        code,
        {
            "errors": [
                {
                    "code": err,
                    "title": title,
                    "detail": detail,
                    "source": None,
                    "meta": {"provider": "CNAV"},
                }
            ]
        },
    )


def _api_status(code: int):
    if code == 404:
        return _api_error(
            404,
            "37003",
            "Dossier allocataire absent CNAV",
            "Le dossier allocataire n'a pas été trouvé auprès de la CNAV.",
        )
    if code == 429:
        status, headers, body = _api_error(
            429, "00429", "Trop de requêtes", "Vous avez effectué trop de requêtes."
        )
        return status, [*headers, ("Retry-After", "60")], body
    return _api_error(
        code,
        "37999",
        "Erreur de fournisseur de donnée",
        "Le fournisseur de donnée (CNAV) est indisponible. Réessayez plus tard.",
    )


def _redirect(uri: str, params: dict):
    sep = "&" if "?" in uri else "?"
    return "302 Found", [("Location", uri + sep + urlencode(params))], b""


def _html(code: int, content: str):
    page = (
        '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>FranceConnect — simulateur de démonstration</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;"
        "padding:0 1rem;color:#161616}button{min-height:44px;padding:.5rem 1rem;"
        "font:inherit;border-radius:4px;border:2px solid #000091;cursor:pointer}"
        ".primary{background:#000091;color:#fff}.secondary{background:#fff;color:#000091}"
        "label{display:flex;gap:.5rem;align-items:center;min-height:44px}"
        ".demo{background:#fff4d6;padding:.5rem;border-radius:4px}</style></head><body>"
        f"{content}</body></html>"
    )
    reason = "OK" if code == 200 else "Bad Request"
    return f"{code} {reason}", [("Content-Type", "text/html; charset=utf-8")], page.encode()


def _login_page(params: dict) -> str:
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in params.items()
        if k not in ("person", "action")
    )
    choices = "".join(
        f'<label><input type="radio" name="person" value="{p.key}"{" checked" if i == 0 else ""}>'
        f"{html.escape(p.given_name)} {html.escape(p.family_name)} (née ou né le "
        f"{p.birthdate[8:10]}/{p.birthdate[5:7]}/{p.birthdate[:4]})</label>"
        for i, p in enumerate(PEOPLE.values())
    )
    return (
        "<h1>FranceConnect</h1>"
        '<p class="demo">Simulateur de démonstration : aucune identité réelle. '
        "Choisissez une personne fictive.</p>"
        f'<form method="post">{hidden}<fieldset><legend>Identité</legend>{choices}</fieldset>'
        '<p><button class="primary" type="submit" name="action" value="login">'
        "Se connecter</button> "
        '<button class="secondary" type="submit" name="action" value="cancel">'
        "Annuler</button></p></form>"
    )


# --- serving (tests) -------------------------------------------------------


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):  # the test output stays readable
        pass


class _ThreadedServer(WSGIServer):
    daemon_threads = True

    def process_request(self, request, client_address):
        thread = threading.Thread(target=self._handle, args=(request, client_address), daemon=True)
        thread.start()

    def _handle(self, request, client_address):
        try:
            self.finish_request(request, client_address)
        finally:
            self.shutdown_request(request)


def serve_in_thread(app: IdentitySim):
    """Serve `app` on 127.0.0.1 at a free port; returns (server, base URL)."""
    server = make_server("127.0.0.1", 0, app, server_class=_ThreadedServer, handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"
