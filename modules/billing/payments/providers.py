"""What a town configures for each online-payment provider (`payment` in its YAML),
for the back-office form and the configuration checks. Pure: no eopayment import.

Options are the provider's NON-secret settings (shop id, mode...). Secrets
(signing keys) are never written in the configuration: `secrets` maps each
secret option to the NAME of the environment variable that holds it
(payments/gateway.py reads the variable when it builds the gateway).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Option:
    name: str
    label: str  # French
    required: bool = False
    choices: tuple[tuple[str, str], ...] = ()
    help: str = ""


@dataclass(frozen=True)
class Provider:
    code: str
    label: str
    options: tuple[Option, ...] = ()
    secrets: tuple[Option, ...] = ()


_VADS = (
    Option("vads_site_id", "Identifiant de la boutique (8 chiffres)", required=True),
    Option(
        "vads_ctx_mode",
        "Mode",
        choices=(("TEST", "Test"), ("PRODUCTION", "Production")),
        help="Test tant que la banque n'a pas validé la boutique.",
    ),
)
_VADS_SECRETS = (
    Option("secret_test", "Clé de test", required=True),
    Option("secret_production", "Clé de production"),
)
PROVIDERS = {
    p.code: p
    for p in (
        Provider("none", "Pas de paiement en ligne"),
        Provider(
            "dummy",
            "Démonstration (aucun paiement réel)",
            options=(Option("origin", "Nom affiché sur la page de démonstration"),),
        ),
        Provider("payzen", "PayZen (Lyra)", options=_VADS, secrets=_VADS_SECRETS),
        Provider(
            "systempay",
            "Systempay (Caisse d'Épargne, Banque Populaire)",
            options=_VADS,
            secrets=_VADS_SECRETS,
        ),
        Provider(
            "paybox",
            "Paybox (Verifone)",
            options=(
                Option("site", "Numéro de site", required=True),
                Option("rang", "Numéro de rang", required=True),
                Option("identifiant", "Identifiant", required=True),
                Option(
                    "platform",
                    "Plateforme",
                    choices=(("test", "Test"), ("backup", "Secours"), ("prod", "Production")),
                ),
            ),
            secrets=(
                Option("shared_secret", "Clé HMAC", required=True),
                Option("cle", "Clé (ancienne interface)"),
            ),
        ),
        Provider(
            "payfip_ws",
            "PayFiP (DGFiP, paiement des titres publics)",
            options=(
                Option("numcli", "Numéro de client PayFiP", required=True),
                Option(
                    "saisie",
                    "Mode",
                    choices=(("T", "Test"), ("X", "Activation"), ("W", "Production")),
                ),
            ),
        ),
    )
}
# Options that are secrets: only ever given through `secrets` (payments/gateway.py).
SECRET_OPTIONS = {code: {s.name for s in p.secrets} for code, p in PROVIDERS.items()}
# Set by the portal for each payment, or unsafe: never from a town.
FORBIDDEN_OPTIONS = {
    "normal_return_url": "fixée par le portail pour chaque paiement",
    "automatic_return_url": "fixée par le portail pour chaque paiement",
    "consider_all_response_signed": "accepterait des réponses non signées",
}
_SECRET_WORDS = re.compile(
    r"secret|password|passwd|mot_?de_?passe|hmac|private|token|^cle$|_key$", re.IGNORECASE
)
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")


def looks_like_a_secret_value(name: str) -> bool:
    """An environment variable NAME reads like words (CASTRES_PAYZEN_SECRET);
    a key pasted in its place is a long run of letters and digits."""
    digits = sum(c.isdigit() for c in name)
    return ("_" not in name and len(name) >= 16) or (len(name) >= 12 and digits >= len(name) / 4)


def payment_problems(payment: dict) -> list[str]:
    """French problems of a town's `payment` section ("payment.<key> : message").
    Never repeats a value that might be a secret."""
    if not payment:
        return []
    provider = payment.get("provider", "none")
    secret_options = SECRET_OPTIONS.get(provider, set())
    problems = []
    for name in payment.get("options") or {}:
        if name in FORBIDDEN_OPTIONS:
            problems.append(
                f"payment.options.{name} : option interdite ({FORBIDDEN_OPTIONS[name]})."
            )
        elif name in secret_options or _SECRET_WORDS.search(name):
            problems.append(
                f"payment.options.{name} : « {name} » est un secret : ne l'écrivez jamais dans "
                "la configuration ; indiquez dans les secrets le NOM de la variable "
                "d'environnement qui le contient."
            )
    for name, variable in (payment.get("secrets") or {}).items():
        if provider != "none" and name not in secret_options:
            expected = ", ".join(sorted(secret_options)) or "aucun"
            problems.append(
                f"payment.secrets.{name} : « {name} » n'est pas un secret de ce "
                f"prestataire (secrets attendus : {expected})."
            )
        elif (
            isinstance(variable, str)
            and _ENV_NAME.match(variable)
            and looks_like_a_secret_value(variable)
        ):
            problems.append(
                f"payment.secrets.{name} : cela ressemble à la valeur d'un secret, pas au nom "
                "d'une variable d'environnement ; ne saisissez jamais le secret lui-même "
                "(ex. de nom : CASTRES_PAYZEN_SECRET_TEST)."
            )
    return problems
