"""Onboarding a town from a FORM of the operator console (tenants.admin).

The form only collects what a new town needs on day one (identity, main
contact, modules, one site and one deadline rule per service, payment provider,
first administrator) and builds the SAME configuration dict a
tenant_configs/<slug>.yaml file gives. That dict goes through the one write
path (tenants.onboarding.onboard_data: tenants.config validation, then
onboard_commune and the first admin's invitation, all-or-nothing).
Validation problems come back keyed like "services[2].deadlines.booking.days";
`problem_field` maps each key to the form field it is about, so the French
message is shown next to that field.

`config_yaml` gives the configuration as YAML text: the operator commits it
as tenant_configs/<slug>.yaml, the file stays the source of truth.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml
from django import forms
from django.utils import timezone
from django.utils.text import slugify

from core.modules import registry
from tenants.config import ConfigError
from tenants.service_rules import RULE_FIELDS, WEEKDAY_CHOICES, new_service, rule_from_fields

# The deadline rules the form offers (tenant_configs/schema.json `$defs.rule`);
# which fields each one uses: tenants.service_rules.RULE_FIELDS.
RULES = {
    "days_before": "N jours avant le jour réservé, à 23:59",
    "working_days_before": "N jours ouvrés avant, à 23:59",
    "weeks_before_session": "N semaines avant le début de la session, à 23:59",
    "hours_before": "N heures avant",
    "weekday_previous_week": "Le jour choisi de la semaine précédente, à 23:59",
    "none": "Aucun délai",
}
_NUMBERS = {"days", "weeks", "hours"}
DEADLINE_TIME = "23:59"
# Defaults shown in the form (to be replaced by the town's own figures).
DEFAULT_SITE = {
    "periscolaire": "Groupe scolaire",
    "alsh": "Centre de loisirs",
    "petite_enfance": "Multi-accueil",
}
DEFAULT_CAPACITY = 30
DEFAULT_DAYS = 7
PAYMENT_CHOICES = [
    ("dummy", "Paiement de démonstration (dummy)"),
    ("none", "Pas de paiement en ligne"),
]
ZONE_CHOICES = [("", "— non renseignée —"), ("A", "A"), ("B", "B"), ("C", "C"), ("Corse", "Corse")]

_IDENTITY = {  # config key -> form field
    "slug": "slug",
    "name": "name",
    "insee_code": "insee_code",
    "department": "department_code",
    "department.code": "department_code",
    "department.name": "department_name",
    "school_holiday_zone": "school_holiday_zone",
    "contact": "contact_phone",  # "indiquez au moins un téléphone ou un e-mail"
    "contact.label": "contact_label",
    "contact.phone": "contact_phone",
    "contact.email": "contact_email",
    "contact.address": "contact_address",
    "modules": "modules",
    "services": "modules",
    "payment": "payment_provider",
    "payment.provider": "payment_provider",
    "admin_email": "admin_email",
}


@dataclass(frozen=True)
class KindChoice:
    """One service kind the form offers, under its module."""

    module: str
    code: str
    label: str

    @property
    def prefix(self) -> str:
        return f"svc_{self.code}"

    @property
    def service_code(self) -> str:
        return self.code.replace("_", "-")


def kind_choices() -> list[KindChoice]:
    return [
        KindChoice(module.module_code, kind.code, kind.label)
        for module in registry().values()
        for kind in module.service_kinds
    ]


class TownForm(forms.Form):
    slug = forms.CharField(
        label="Chemin du portail (slug)",
        max_length=50,
        help_text="Minuscules, chiffres et tirets, ex. saint-herblain : "
        "le portail sera /saint-herblain/.",
    )
    name = forms.CharField(label="Nom de la commune", max_length=120)
    insee_code = forms.CharField(
        label="Code INSEE",
        max_length=5,
        help_text="5 chiffres (2A ou 2B suivis de 3 chiffres en Corse), ex. 44162.",
    )
    department_code = forms.CharField(
        label="Numéro du département", max_length=3, help_text="Ex. 44, 971 ou 2A."
    )
    department_name = forms.CharField(label="Nom du département", max_length=80)
    school_holiday_zone = forms.ChoiceField(
        label="Zone de vacances scolaires", choices=ZONE_CHOICES, required=False
    )
    contact_label = forms.CharField(
        label="Intitulé du contact principal",
        max_length=120,
        help_text="Ex. Espace Famille, Mairie.",
    )
    contact_phone = forms.CharField(
        label="Téléphone",
        max_length=20,
        required=False,
        help_text="Ex. 02 28 25 20 00. Un téléphone ou un e-mail au moins.",
    )
    contact_email = forms.CharField(label="Adresse e-mail", max_length=254, required=False)
    contact_address = forms.CharField(label="Adresse postale", max_length=255, required=False)
    modules = forms.MultipleChoiceField(
        label="Modules activés",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Seuls les services des modules cochés sont créés.",
    )
    payment_provider = forms.ChoiceField(
        label="Paiement en ligne",
        choices=PAYMENT_CHOICES,
        initial="dummy",
        help_text="Un prestataire réel (PayZen, PayFiP…) se règle ensuite dans le fichier YAML "
        "(options et noms des variables de ses secrets).",
    )
    admin_email = forms.EmailField(
        label="E-mail du premier administrateur",
        required=False,
        help_text="Facultatif : il reçoit un lien pour choisir son mot de passe.",
    )
    admin_first_name = forms.CharField(
        label="Prénom de l'administrateur", max_length=80, required=False
    )
    admin_last_name = forms.CharField(
        label="Nom de l'administrateur", max_length=80, required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        modules = registry()
        self.fields["modules"].choices = [(code, m.module_label) for code, m in modules.items()]
        self.fields["modules"].initial = list(modules)
        self.kinds = kind_choices()
        for k in self.kinds:
            p = k.prefix
            self.fields[f"{p}_create"] = forms.BooleanField(
                label=f"Créer le service « {k.label} »", required=False, initial=True
            )
            self.fields[f"{p}_name"] = forms.CharField(
                label="Nom affiché aux familles", max_length=160, required=False, initial=k.label
            )
            self.fields[f"{p}_site"] = forms.CharField(
                label="Lieu d'accueil",
                max_length=160,
                required=False,
                initial=DEFAULT_SITE.get(k.module, "Accueil"),
            )
            self.fields[f"{p}_capacity"] = forms.IntegerField(
                label="Places par jour",
                min_value=0,
                max_value=5000,
                required=False,
                initial=DEFAULT_CAPACITY,
            )
            self.fields[f"{p}_rule"] = forms.ChoiceField(
                label="Délai de réservation",
                choices=list(RULES.items()),
                initial="days_before",
            )
            self.fields[f"{p}_amount"] = forms.IntegerField(
                label="N (jours, semaines ou heures)",
                min_value=0,
                max_value=8760,
                required=False,
                initial=DEFAULT_DAYS,
            )
            self.fields[f"{p}_weekday"] = forms.ChoiceField(
                label="Jour de la semaine précédente",
                choices=WEEKDAY_CHOICES,
                initial="wednesday",
                required=False,
            )
        for name in ("slug", "insee_code", "contact_email", "admin_email"):
            self.fields[name].widget.attrs["autocomplete"] = "off"
        self.fields["contact_email"].widget.input_type = "email"
        self.fields["contact_phone"].widget.input_type = "tel"

    # --- layout helpers for the template -----------------------------------

    def module_groups(self):
        """[(module checkbox, label, [(kind, {part: bound field})])] in registry order."""
        checkboxes = {w.data["value"]: w for w in self["modules"]}
        groups = []
        for code, module in registry().items():
            kinds = [
                (
                    k,
                    {
                        part: self[f"{k.prefix}_{part}"]
                        for part in (
                            "create",
                            "name",
                            "site",
                            "capacity",
                            "rule",
                            "amount",
                            "weekday",
                        )
                    },
                )
                for k in self.kinds
                if k.module == code
            ]
            groups.append((checkboxes[code], module.module_label, kinds))
        return groups

    # --- the configuration ---------------------------------------------------

    def clean(self):
        data = super().clean()
        if "modules" in data and not data["modules"]:
            self.add_error("modules", "Cochez au moins un module.")
        elif "modules" in data and not self._kinds_to_create():
            self.add_error("modules", "Cochez au moins un service à créer dans un module activé.")
        if data.get("admin_email") and not (
            data.get("admin_first_name") and data.get("admin_last_name")
        ):
            self.add_error(
                "admin_first_name", "Indiquez le prénom et le nom de l'administrateur à inviter."
            )
        for k in self._kinds_to_create():
            rule = data.get(f"{k.prefix}_rule")
            if set(RULE_FIELDS.get(rule, ())) & _NUMBERS and data.get(f"{k.prefix}_amount") is None:
                self.add_error(
                    f"{k.prefix}_amount", "Indiquez le nombre pour cette règle de délai."
                )
        return data

    def _kinds_to_create(self) -> list[KindChoice]:
        enabled = set(self.cleaned_data.get("modules") or ())
        return [
            k
            for k in self.kinds
            if k.module in enabled and self.cleaned_data.get(f"{k.prefix}_create")
        ]

    def config(self) -> dict:
        """The town's configuration, shaped like tenant_configs/<slug>.yaml."""
        d = self.cleaned_data
        contact = {"label": d["contact_label"].strip()}
        for key in ("phone", "email", "address"):
            if d[f"contact_{key}"].strip():
                contact[key] = d[f"contact_{key}"].strip()
        config = {
            "slug": d["slug"].strip(),
            "name": d["name"].strip(),
            "insee_code": d["insee_code"].strip().upper(),
            "department": {
                "code": d["department_code"].strip().upper(),
                "name": d["department_name"].strip(),
            },
        }
        if d.get("school_holiday_zone"):
            config["school_holiday_zone"] = d["school_holiday_zone"]
        config["contact"] = contact
        config["modules"] = list(d["modules"])
        config["services"] = [self._service(k) for k in self._kinds_to_create()]
        config["payment"] = {"provider": d["payment_provider"]}
        return config

    def _service(self, k: KindChoice) -> dict:
        d = self.cleaned_data
        p = k.prefix
        site_name = d[f"{p}_site"].strip()
        site = {"code": site_code(site_name), "name": site_name}
        if d[f"{p}_capacity"] is not None:
            site["capacity"] = d[f"{p}_capacity"]
        amount = d[f"{p}_amount"]
        values = {
            "days": amount,
            "weeks": amount,
            "hours": amount,
            "weekday": d[f"{p}_weekday"] or "wednesday",
            "time": DEADLINE_TIME,
        }
        return new_service(
            code=k.service_code,
            kind=k.code,
            name=d[f"{p}_name"].strip(),
            site=site,
            rule=rule_from_fields(d[f"{p}_rule"], values),
        )

    def first_admin(self) -> dict | None:
        d = self.cleaned_data
        if not d.get("admin_email"):
            return None
        return {
            "email": d["admin_email"],
            "first_name": d["admin_first_name"].strip(),
            "last_name": d["admin_last_name"].strip(),
        }

    def show_problems(self, error: ConfigError) -> None:
        """Each validation problem next to its field (the rest above the form)."""
        kinds = self._kinds_to_create()
        for problem in error.problems:
            field = problem_field(problem.key, kinds)
            self.add_error(field, problem.message if field else str(problem))


_SERVICE_KEY = re.compile(r"^services\[(\d+)\]\.?(.*)$")


def site_code(name: str) -> str:
    """A site's code from its name, in the schema's pattern (`[a-z0-9]+(-[a-z0-9]+)*`)."""
    return re.sub(r"[_-]+", "-", slugify(name))[:50].strip("-")


def problem_field(key: str, kinds: list[KindChoice]) -> str | None:
    """The form field a problem key is about (None: the whole form)."""
    key = re.sub(r"^modules\[\d+\]$", "modules", key)
    if key in _IDENTITY:
        return _IDENTITY[key]
    match = _SERVICE_KEY.match(key)
    if not match or int(match.group(1)) >= len(kinds):
        return None
    prefix, rest = kinds[int(match.group(1))].prefix, match.group(2)
    if rest.startswith("options"):
        part = "capacity" if rest.endswith("capacity") else "site"
    elif rest.startswith("deadlines"):
        last = rest.rsplit(".", 1)[-1]
        part = {"weekday": "weekday", "rule": "rule", "booking": "rule", "deadlines": "rule"}.get(
            last, "amount"
        )
    elif rest == "kind":
        part = "create"
    else:
        part = "name"
    return f"{prefix}_{part}"


def config_yaml(config: dict) -> str:
    """The configuration as the text of tenant_configs/<slug>.yaml."""
    header = (
        f"# {config['name']} — configuration exportée de la console de la plateforme le "
        f"{timezone.localdate():%d/%m/%Y}.\n"
        f"# Source de vérité : enregistrez ce fichier sous tenant_configs/{config['slug']}.yaml\n"
        "# et committez-le ; `manage.py onboard_commune` le rejoue à l'identique.\n"
    )
    body = yaml.safe_dump(
        config, allow_unicode=True, sort_keys=False, default_flow_style=False, width=100
    )
    return header + body
