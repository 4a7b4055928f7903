"""Reading and validating tenant_configs/<slug>.yaml (no database writes here).

A file is checked against tenant_configs/schema.json, then against what only
the code knows (service kinds declared by the installed modules, reserved
slugs, towns already onboarded). Every problem is reported with the file, the
key and a French sentence; nothing is written while any problem remains.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jsonschema
import yaml
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from core.identity import colour_problems
from core.mail_templates import check_override
from core.modules import module_codes, registry, service_kinds
from tenants.models import Commune, Domain


@dataclass(frozen=True)
class Problem:
    key: str  # "services[2].kind", or "" for the whole file
    message: str

    def __str__(self) -> str:
        return f"{self.key} : {self.message}" if self.key else self.message


class ConfigError(Exception):
    """One or more problems in one or more configuration files."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = problems
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(f"{self.source}: {p}" for p in self.problems)


@dataclass(frozen=True)
class TownConfig:
    """A validated configuration, ready for tenants.onboarding."""

    source: str
    data: dict

    @property
    def slug(self) -> str:
        return self.data["slug"]

    @property
    def schema_name(self) -> str:
        return schema_name_for(self.slug)

    @property
    def digest(self) -> str:
        canonical = json.dumps(self.data, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


def schema_name_for(slug: str) -> str:
    # PostgreSQL identifiers: hyphens become underscores (saint-herblain -> saint_herblain).
    return slug.replace("-", "_")


@cache
def json_schema() -> dict:
    return json.loads((settings.TENANT_CONFIGS_DIR / "schema.json").read_text())


def parse_yaml(text: str, *, source: str) -> dict:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (ligne {mark.line + 1}, colonne {mark.column + 1})" if mark else ""
        raise ConfigError(source, [Problem("", f"YAML illisible{where} : {exc}")]) from None
    if not isinstance(data, dict):
        raise ConfigError(source, [Problem("", "le fichier doit décrire un objet (clé: valeur).")])
    return data


def load_file(path: Path | str) -> TownConfig:
    path = Path(path)
    source = _display(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(source, [Problem("", "fichier introuvable.")]) from None
    except UnicodeDecodeError:
        raise ConfigError(source, [Problem("", "le fichier doit être encodé en UTF-8.")]) from None
    return validate(parse_yaml(text, source=source), source=source)


def validate(data: dict, *, source: str) -> TownConfig:
    problems = _schema_problems(data)
    if not problems:
        problems = _semantic_problems(data)
    if not problems:
        problems = _module_problems(data)
    if problems:
        raise ConfigError(source, problems)
    return TownConfig(source=source, data=data)


def check_no_duplicates(configs: list[TownConfig]) -> None:
    """Several files onboarded together must not claim the same slug, INSEE code or path."""
    seen: dict[tuple[str, str], str] = {}
    for cfg in configs:
        claims = [("slug", cfg.slug), ("insee_code", cfg.data["insee_code"])]
        claims += [("slug", a.lower()) for a in cfg.data.get("aliases", [])]
        for key, value in claims:
            other = seen.get((key, value))
            if other and other != cfg.source:
                raise ConfigError(
                    cfg.source,
                    [Problem(key, f"« {value} » est déjà utilisé par {other}.")],
                )
            seen[(key, value)] = cfg.source


# --- internals ----------------------------------------------------------


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(settings.BASE_DIR))
    except ValueError:
        return str(path)


def _key(path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _schema_problems(data: dict) -> list[Problem]:
    validator = jsonschema.Draft202012Validator(
        json_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    problems = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        problems.append(_french(error))
    return problems


_TYPES = {
    "string": "du texte",
    "integer": "un nombre entier",
    "number": "un nombre",
    "object": "un objet (clé: valeur)",
    "array": "une liste",
    "boolean": "vrai ou faux (true/false)",
}


def _french(error: jsonschema.ValidationError) -> Problem:
    key = _key(error.absolute_path)
    v, val = error.validator, error.validator_value
    if v == "required":
        missing = [k for k in val if k not in (error.instance or {})]
        name = missing[0] if missing else "?"
        return Problem(_key([*error.absolute_path, name]), "clé obligatoire manquante.")
    if v == "type":
        expected = val if isinstance(val, list) else [val]
        return Problem(key, f"doit être {' ou '.join(_TYPES.get(t, t) for t in expected)}.")
    if v == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return Problem(_key([*error.absolute_path, extra[0]]) if extra else key, "clé inconnue.")
    if v == "enum":
        return Problem(
            key, f"« {error.instance} » n'est pas permis (choix : {', '.join(map(str, val))})."
        )
    if v == "const":
        return Problem(key, f"doit valoir « {val} ».")
    if v == "pattern" and key.startswith("payment.secrets."):
        # Never echo it: it may be the secret itself, typed where its NAME belongs.
        return Problem(
            key,
            "attendu : le NOM d'une variable d'environnement (majuscules, chiffres "
            "et _, ex. CASTRES_PAYZEN_SECRET), jamais la valeur du secret.",
        )
    if v == "pattern" and val == json_schema()["$defs"]["phone"]["pattern"]:
        return Problem(
            key,
            f"« {error.instance} » n'est pas un numéro de téléphone "
            "(ex. 05 63 62 43 44 ou +33 5 63 62 43 44).",
        )
    if v == "pattern" and key.startswith("identity."):
        return Problem(
            key, f"« {error.instance} » n'est pas une couleur (attendu : #rrggbb, ex. #1d4f91)."
        )
    if v == "pattern":
        return Problem(key, f"« {error.instance} » n'a pas le format attendu.")
    if v == "minProperties":
        return Problem(key, "ne doit pas être vide.")
    if v == "format":
        return Problem(key, f"« {error.instance} » n'est pas une adresse e-mail valide.")
    if v in ("minLength",):
        return Problem(key, "ne doit pas être vide.")
    if v == "maxLength":
        return Problem(key, f"trop long ({val} caractères au plus).")
    if v in ("minimum", "maximum"):
        return Problem(key, f"doit être {'au moins' if v == 'minimum' else 'au plus'} {val}.")
    if v == "uniqueItems":
        return Problem(key, "contient des doublons.")
    if v == "anyOf" and error.schema.get("anyOf") == [
        {"required": ["phone"]},
        {"required": ["email"]},
    ]:
        return Problem(key, "indiquez au moins un téléphone ou un e-mail.")
    if v == "oneOf" and isinstance(error.instance, dict) and "rule" in error.instance:
        return _rule_problem(key, error)
    return Problem(key, error.message)


def _rule_problem(key: str, error: jsonschema.ValidationError) -> Problem:
    kinds = [s["properties"]["rule"]["const"] for s in error.schema["oneOf"]]
    rule = error.instance.get("rule")
    if rule not in kinds:
        return Problem(
            f"{key}.rule", f"« {rule} » n'est pas une règle connue (choix : {', '.join(kinds)})."
        )
    branch = error.schema["oneOf"][kinds.index(rule)]
    # Re-validate against the one branch the `rule` names, for a precise message
    # ($ref resolved against the full schema's $defs).
    sub = jsonschema.Draft202012Validator({**branch, "$defs": json_schema()["$defs"]})
    inner = sorted(sub.iter_errors(error.instance), key=lambda e: list(map(str, e.absolute_path)))
    if inner:
        p = _french(inner[0])
        return Problem(f"{key}.{p.key}" if p.key else key, p.message)
    return Problem(key, "règle de délai invalide.")


def _module_problems(data: dict) -> list[Problem]:
    """Each enabled module checks its own section (e.g. billing: no retroactive tariff)."""

    previous = Commune.objects.filter(slug=data["slug"]).values_list("config", flat=True).first()
    problems = []
    for code in data["modules"]:
        for message in registry()[code].config_problems(data, previous or None):
            key, sep, rest = message.partition(" : ")
            if not sep:
                problems.append(Problem(f"module_settings.{code}", message))
            elif key.startswith(("module_settings.", "payment")):
                problems.append(Problem(key, rest))
            else:
                problems.append(Problem(f"module_settings.{code}.{key}", rest))
    return problems


def _semantic_problems(data: dict) -> list[Problem]:
    problems: list[Problem] = []
    slug = data["slug"]
    if slug in settings.RESERVED_SLUGS or slug.startswith("pg-") or slug == "public":
        problems.append(
            Problem("slug", f"« {slug} » est réservé par la plateforme, choisissez-en un autre.")
        )
    for i, alias in enumerate(data.get("aliases", [])):
        if alias.lower() in settings.RESERVED_SLUGS:
            problems.append(Problem(f"aliases[{i}]", f"« {alias} » est réservé par la plateforme."))

    for key, message in colour_problems(data.get("identity") or {}):
        problems.append(Problem(f"identity.{key}", message))

    known_modules = module_codes()
    for i, code in enumerate(data["modules"]):
        if code not in known_modules:
            problems.append(
                Problem(
                    f"modules[{i}]",
                    f"module « {code} » inconnu (choix : {', '.join(sorted(known_modules))}).",
                )
            )
    for code in data.get("module_settings", {}):
        if code not in data["modules"]:
            problems.append(Problem(f"module_settings.{code}", "réglages d'un module non activé."))
        elif code in known_modules:
            schema = registry()[code].config_schema
            for err in jsonschema.Draft202012Validator(schema).iter_errors(
                data["module_settings"][code]
            ):
                p = _french(err)
                problems.append(Problem(f"module_settings.{code}.{p.key}".rstrip("."), p.message))

    kinds = service_kinds()
    seen_codes: set[str] = set()
    for i, service in enumerate(data["services"]):
        kind = service["kind"]
        if kind not in kinds:
            problems.append(
                Problem(
                    f"services[{i}].kind",
                    f"« {kind} » n'est pas un type de service connu "
                    f"(choix : {', '.join(sorted(kinds))}).",
                )
            )
        elif kinds[kind][0].module_code not in data["modules"]:
            problems.append(
                Problem(
                    f"services[{i}].kind",
                    f"le type « {kind} » appartient au module « {kinds[kind][0].module_code} », "
                    "qui n'est pas activé dans `modules`.",
                )
            )
        if service["code"] in seen_codes:
            problems.append(
                Problem(f"services[{i}].code", f"code « {service['code']} » en double.")
            )
        seen_codes.add(service["code"])
        if kind in kinds and kinds[kind][1].booking_unit == "day" and "deadlines" not in service:
            problems.append(
                Problem(
                    f"services[{i}].deadlines", "clé obligatoire manquante (règles de réservation)."
                )
            )

    emails = [("contact.email", data["contact"].get("email"))]
    emails += [
        (f"contacts[{i}].email", c.get("email")) for i, c in enumerate(data.get("contacts", []))
    ]
    for key, email in emails:
        if email:
            try:
                validate_email(email)
            except ValidationError:
                problems.append(Problem(key, f"« {email} » n'est pas une adresse e-mail valide."))

    problems += _email_template_problems(data.get("email_templates") or {})

    payment = data.get("payment", {})
    if payment and payment["provider"] != "none" and "billing" not in data["modules"]:
        problems.append(
            Problem("payment.provider", "le paiement en ligne demande le module « billing ».")
        )

    # Collisions with towns already onboarded (another town, same slug/INSEE/path).
    # A town is identified by its INSEE code: the same slug with another code is
    # another town trying to take the path, never an update.
    same_slug = Commune.objects.filter(slug=slug).exclude(insee_code=data["insee_code"]).first()
    if same_slug:
        problems.append(
            Problem(
                "slug",
                f"« {slug} » est déjà le chemin de la commune « {same_slug.name} » "
                f"(INSEE {same_slug.insee_code}).",
            )
        )
    same_insee = Commune.objects.filter(insee_code=data["insee_code"]).exclude(slug=slug).first()
    if same_insee:
        problems.append(
            Problem("insee_code", f"déjà utilisé par la commune « {same_insee.slug} ».")
        )
    for i, path in enumerate([slug, *[a.lower() for a in data.get("aliases", [])]]):
        taken = (
            Domain.objects.filter(domain=path)
            .exclude(tenant__slug=slug)
            .select_related("tenant")
            .first()
        )
        if taken and not (i == 0 and same_slug):
            key = "slug" if i == 0 else f"aliases[{i - 1}]"
            problems.append(
                Problem(
                    key, f"« {path} » est déjà le chemin de la commune « {taken.tenant.slug} »."
                )
            )
    return problems


def _email_template_problems(overrides: dict) -> list[Problem]:
    """A town's own e-mail texts: known templates, sandboxed syntax (core.mail_templates)."""

    problems = []
    for name, override in overrides.items():
        for part, message in check_override(name, override):
            problems.append(Problem(f"email_templates.{name}{'.' + part if part else ''}", message))
    return problems
