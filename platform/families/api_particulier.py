"""API Particulier client: the quotient familial CAF & MSA (docs/decisions/1600).

Endpoint (API Particulier v3, « [Identité] Quotient familial CAF & MSA »):
`GET {base}/v3/dss/quotient_familial/identite`, header
`Authorization: Bearer <jeton de la commune>`, query `recipient` (the town's
SIRET), `nomNaissance`, `prenoms[]`, `sexeEtatCivil` (F/M),
`anneeDateNaissance`, `moisDateNaissance`, `jourDateNaissance`,
`codeCogInseePaysNaissance` (99100 = France) and, born in France,
`codeCogInseeCommuneNaissance`; optional `annee`/`mois`. The answer's
`data.quotient_familial` holds `fournisseur` (CNAF/MSA), `valeur`, `annee`,
`mois`. Errors are `{"errors": [{"code", "title", "detail", ...}]}`: 404
(e.g. 37003, no allocataire file), 401/403 (token), 422 (parameters), 429
(rate limit: 20 calls/s per token), 5xx (the CNAV unavailable).

Only the QF, its provider and month leave this module; the payload (names,
address, children) is dropped at once. Logs carry the status, the API's error
code and the duration, never a name, a date or a value.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from datetime import date

import requests
from django.conf import settings

from core import town_config

log = logging.getLogger("guichet.api_particulier")

PATH = "/v3/dss/quotient_familial/identite"
TIMEOUT = 10  # seconds
FRANCE = "99100"

MANUAL = (
    "Vous pouvez indiquer votre quotient familial vous-même, avec votre attestation : "
    "la mairie la vérifiera."
)


class APIParticulierError(Exception):
    """A fetch that gave no QF; `message` is French, for the family."""

    def __init__(self, message: str, *, kind: str):
        super().__init__(message)
        self.message, self.kind = message, kind


@dataclass(frozen=True)
class TownAPI:
    base_url: str
    token: str
    recipient: str


@dataclass(frozen=True)
class Identity:
    """What the API expects of the allocataire (from FranceConnect's identité
    pivot, or typed by the parent)."""

    birth_name: str
    first_names: tuple[str, ...]
    sex: str  # "F" or "M"
    birth_date: date
    birth_country: str = FRANCE  # COG INSEE of the country
    birth_commune: str = ""  # COG INSEE of the commune, born in France


@dataclass(frozen=True)
class QFResult:
    value: int
    provider: str  # "CAF" or "MSA"
    reference_month: date  # first day of the month the QF is for


def town_api(commune) -> TownAPI | None:
    section = town_config.section(commune, "api_particulier") or {}
    variable = (section.get("secrets") or {}).get("token", "")
    token = os.environ.get(variable, "") if variable else ""
    base = settings.API_PARTICULIER_URLS.get(section.get("environment", "staging"))
    if not (section.get("recipient") and token and base):
        return None
    return TownAPI(base_url=base.rstrip("/"), token=token, recipient=section["recipient"])


def configuration_problem(section: dict | None, environ) -> str | None:
    """Why a town whose YAML switches API Particulier on could not use it on this
    server (French, for the operator), or None. Read by `check --deploy`
    (families.checks): never the token, only its variable's name."""
    section = section or {}
    if not section:
        return None  # API Particulier is off for the town
    variable = (section.get("secrets") or {}).get("token", "")
    if not variable:
        return (
            "API Particulier indisponible : la configuration ne nomme pas la variable "
            "d'environnement du jeton (api_particulier.secrets.token)."
        )
    if not environ.get(variable, ""):
        return (
            f"API Particulier indisponible : la variable d'environnement « {variable} » "
            "(jeton) n'est pas définie sur le serveur."
        )
    if not section.get("recipient"):
        return "API Particulier indisponible : le SIRET de la commune (recipient) manque."
    environment = section.get("environment", "staging")
    if not settings.API_PARTICULIER_URLS.get(environment):
        return f"API Particulier indisponible : environnement « {environment} » inconnu."
    return None


def _params(api: TownAPI, who: Identity, on: date | None) -> list[tuple[str, str]]:
    params = [
        ("recipient", api.recipient),
        ("nomNaissance", who.birth_name.strip().upper()),
        *[("prenoms[]", name.strip().upper()) for name in who.first_names if name.strip()],
        ("sexeEtatCivil", who.sex),
        ("anneeDateNaissance", str(who.birth_date.year)),
        ("moisDateNaissance", str(who.birth_date.month)),
        ("jourDateNaissance", str(who.birth_date.day)),
        ("codeCogInseePaysNaissance", who.birth_country or FRANCE),
    ]
    if (who.birth_country or FRANCE) == FRANCE:
        params.append(("codeCogInseeCommuneNaissance", who.birth_commune))
    if on is not None:
        params += [("annee", str(on.year)), ("mois", str(on.month))]
    return params


def fetch_quotient_familial(api: TownAPI, who: Identity, *, on: date | None = None) -> QFResult:
    started = time.monotonic()
    status, code = "error", ""
    try:
        response = requests.get(
            api.base_url + PATH,
            params=_params(api, who, on),
            headers={"Authorization": f"Bearer {api.token}", "Accept": "application/json"},
            timeout=TIMEOUT,
        )
        status = response.status_code
        if status == 200:
            try:
                qf = response.json()["data"]["quotient_familial"]
                provider = {"CNAF": "CAF", "CAF": "CAF", "MSA": "MSA"}[qf["fournisseur"]]
                return QFResult(
                    value=int(qf["valeur"]),
                    provider=provider,
                    reference_month=date(int(qf["annee"]), int(qf["mois"]), 1),
                )
            except (ValueError, KeyError, TypeError) as exc:
                code = "bad_payload"
                raise APIParticulierError(
                    "La réponse de la CAF ou de la MSA est illisible. " + MANUAL, kind="unavailable"
                ) from exc
        code = _error_code(response)
        raise _error(status)
    except requests.RequestException as exc:
        status, code = "unreachable", type(exc).__name__
        raise APIParticulierError(
            "Le service de la CAF et de la MSA ne répond pas pour le moment : réessayez plus tard. "
            + MANUAL,
            kind="unavailable",
        ) from exc
    finally:
        log.info(
            "api_particulier quotient_familial",
            extra={
                "status": status,
                "api_error": code,
                "duration_ms": round((time.monotonic() - started) * 1000),
            },
        )


def _error_code(response) -> str:
    try:
        return str(response.json()["errors"][0]["code"])[:20]
    except (ValueError, KeyError, IndexError, TypeError):
        return ""


def _error(status: int) -> APIParticulierError:
    if status == 404:
        return APIParticulierError(
            "La CAF et la MSA ne trouvent pas de dossier allocataire à ce nom. Vérifiez votre "
            "nom de naissance, vos prénoms, votre date et votre lieu de naissance. " + MANUAL,
            kind="not_found",
        )
    if status == 429:
        return APIParticulierError(
            "Trop de demandes sont en cours : réessayez dans quelques minutes. " + MANUAL,
            kind="rate_limited",
        )
    if status in (400, 422):
        return APIParticulierError(
            "Les informations transmises sont incomplètes : vérifiez votre identité. " + MANUAL,
            kind="bad_request",
        )
    if status in (401, 403):
        return APIParticulierError(
            "La mairie ne peut pas interroger la CAF et la MSA pour le moment. " + MANUAL,
            kind="refused",
        )
    return APIParticulierError(
        "Le service de la CAF et de la MSA est indisponible pour le moment : réessayez plus "
        "tard. " + MANUAL,
        kind="unavailable",
    )
