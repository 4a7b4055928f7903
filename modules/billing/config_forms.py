"""Billing's configuration forms (town admins, back-office pages of
modules/billing/config_views.py): online payment, common billing rules, tariff
versions and their brackets, a billed service's settings, régies and the SEPA
creditor. Each edits a copy of the town's configuration; billing's config hook
(BillingConfig.config_problems) validates the result (IBAN and its French RIB key
with schwifty, ICS, every billed service in one régie, no retroactive change)."""

from __future__ import annotations

import copy
import re

from django import forms
from django.utils import timezone

from backoffice.forms import change_reason, set_or_drop
from backoffice.service_forms import CODE
from core.ui_forms import FollowsChoice

from .payments.providers import PROVIDERS

# --- payment --------------------------------------------------------------------------


class PaymentForm(forms.Form):
    """Provider, its non-secret options, and its secrets as NAMES of environment variables."""

    provider = forms.ChoiceField(label="Prestataire de paiement en ligne")
    message = change_reason()

    SECRET_HELP = (
        "NOM de la variable d'environnement du serveur qui contient ce secret (ex. "
        "CASTRES_PAYZEN_SECRET_TEST), jamais le secret lui-même : l'hébergeur la définit, "
        "le portail la lit au moment du paiement."
    )

    def __init__(self, *args, provider: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.spec = PROVIDERS[provider]
        self.fields["provider"].choices = [(p.code, p.label) for p in PROVIDERS.values()]
        for option in self.spec.options:
            if option.choices:
                field = forms.ChoiceField(
                    choices=[("", "— valeur par défaut —"), *option.choices], required=False
                )
            else:
                field = forms.CharField(max_length=100, required=option.required)
            field.label, field.help_text = option.label, option.help
            self.fields[f"option_{option.name}"] = field
        for secret in self.spec.secrets:
            self.fields[f"secret_{secret.name}"] = forms.RegexField(
                label=f"{secret.label} : nom de la variable d'environnement",
                regex=r"^[A-Z][A-Z0-9_]*$",
                max_length=100,
                required=secret.required,
                help_text=self.SECRET_HELP,
                error_messages={
                    "invalid": "Attendu : un NOM de variable (majuscules, chiffres et _), "
                    "jamais la valeur du secret."
                },
                widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
            )
        # The message field last.
        self.order_fields([f for f in self.fields if f != "message"] + ["message"])

    def option_fields(self):
        return [self[f] for f in self.fields if f.startswith("option_")]

    def secret_fields(self):
        return [self[f] for f in self.fields if f.startswith("secret_")]

    @staticmethod
    def initial_for(payment: dict) -> dict:
        initial = {"provider": payment.get("provider", "none")}
        initial |= {f"option_{k}": v for k, v in (payment.get("options") or {}).items()}
        initial |= {f"secret_{k}": v for k, v in (payment.get("secrets") or {}).items()}
        return initial

    def value(self, previous: dict) -> dict:
        """The new `payment` section; options this form does not show are kept."""
        if self.spec.code == "none":
            return {"provider": "none"}
        same = previous.get("provider") == self.spec.code
        shown = {o.name for o in self.spec.options}
        options = {
            k: v for k, v in (previous.get("options") or {}).items() if same and k not in shown
        }
        for option in self.spec.options:
            if value := self.cleaned_data.get(f"option_{option.name}"):
                options[option.name] = value
        secrets = {
            s.name: self.cleaned_data[f"secret_{s.name}"]
            for s in self.spec.secrets
            if self.cleaned_data.get(f"secret_{s.name}")
        }
        out = {"provider": self.spec.code, "options": options}
        if secrets:
            out["secrets"] = secrets
        return out


# --- tariffs --------------------------------------------------------------------------

PERCENT = {"min_value": 0, "max_value": 100, "decimal_places": 2, "required": False}
MONEY = {"min_value": 0, "max_value": 10000, "decimal_places": 2, "required": False}
SIBLING_RANKS = (2, 3, 4)


class BillingRulesForm(forms.Form):
    """module_settings.billing.rules and .invoicing (every tariff, unless a version overrides)."""

    sibling_2 = forms.DecimalField(label="Réduction pour le 2e enfant (%)", **PERCENT)
    sibling_3 = forms.DecimalField(label="Réduction pour le 3e enfant (%)", **PERCENT)
    sibling_4 = forms.DecimalField(
        label="Réduction pour le 4e enfant et les suivants (%)", **PERCENT
    )
    non_resident_surcharge_percent = forms.DecimalField(
        label="Majoration hors commune (%)",
        min_value=0,
        max_value=300,
        decimal_places=2,
        required=False,
    )
    unjustified_percent = forms.DecimalField(
        label="Part facturée d'une absence non justifiée (%)", **PERCENT
    )
    late_cancellation_percent = forms.DecimalField(
        label="Part facturée d'une annulation hors délai (%)", **PERCENT
    )
    carence_days = forms.IntegerField(
        label="Jours de carence d'une absence pour maladie",
        min_value=0,
        max_value=31,
        required=False,
        help_text="Premiers jours calendaires encore facturés.",
    )
    payment_days = forms.IntegerField(
        label="Délai de paiement (jours après la date de facture)",
        min_value=1,
        max_value=90,
        required=False,
    )
    online_payment_opens_at = forms.RegexField(
        label="Heure d'ouverture du paiement en ligne (HH:MM)",
        regex=r"^([01]\d|2[0-3]):[0-5]\d$",
        required=False,
        max_length=5,
        error_messages={"invalid": "Heure attendue au format HH:MM (ex. 09:30)."},
    )
    e_invoice = forms.BooleanField(label="La commune propose la facture en ligne", required=False)
    how_to_pay = forms.CharField(
        label="Comment payer (imprimé sur la facture)",
        required=False,
        max_length=600,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    message = change_reason()

    @staticmethod
    def initial_for(section: dict) -> dict:
        rules = section.get("rules") or {}
        absences = rules.get("absences") or {}
        invoicing = section.get("invoicing") or {}
        siblings = rules.get("sibling_reductions") or {}
        initial = {f"sibling_{r}": siblings.get(str(r)) for r in SIBLING_RANKS}
        initial |= {
            "non_resident_surcharge_percent": rules.get("non_resident_surcharge_percent"),
            **{
                k: absences.get(k)
                for k in ("unjustified_percent", "late_cancellation_percent", "carence_days")
            },
            **{
                k: invoicing.get(k)
                for k in ("payment_days", "online_payment_opens_at", "e_invoice", "how_to_pay")
            },
        }
        return initial

    def apply_to(self, section: dict, *, today) -> None:
        """Write the fields into `section` (module_settings.billing); a blank field
        removes its key (the code's default applies).

        Common rules feed every tariff version that does not set its own: so
        that a change never reaches a version already in force (billing refuses
        any retroactive change), the old rules are first written into those
        versions, and the new ones apply to the versions to come."""
        data = self.cleaned_data
        old_rules = copy.deepcopy(section.get("rules") or {})
        rules = dict(section.get("rules") or {})
        siblings = {
            k: v
            for k, v in (rules.get("sibling_reductions") or {}).items()
            if int(k) not in SIBLING_RANKS
        }
        for rank in SIBLING_RANKS:
            if data[f"sibling_{rank}"] is not None:
                siblings[str(rank)] = _number(data[f"sibling_{rank}"])
        set_or_drop(
            rules, "sibling_reductions", dict(sorted(siblings.items(), key=lambda i: int(i[0])))
        )
        set_or_drop(
            rules, "non_resident_surcharge_percent", _number(data["non_resident_surcharge_percent"])
        )
        absences = dict(rules.get("absences") or {})
        for key in ("unjustified_percent", "late_cancellation_percent"):
            set_or_drop(absences, key, _number(data[key]))
        set_or_drop(absences, "carence_days", data["carence_days"])
        set_or_drop(rules, "absences", absences)
        set_or_drop(section, "rules", rules)
        _pin_rules(section, old_rules, rules, today)
        invoicing = dict(section.get("invoicing") or {})
        set_or_drop(invoicing, "payment_days", data["payment_days"])
        set_or_drop(invoicing, "online_payment_opens_at", data["online_payment_opens_at"])
        set_or_drop(invoicing, "e_invoice", True if data["e_invoice"] else None)
        set_or_drop(invoicing, "how_to_pay", data["how_to_pay"].strip() or None)
        set_or_drop(section, "invoicing", invoicing)


def _pin_rules(section: dict, old: dict, new: dict, today) -> None:
    """Versions applying from `today` or before keep the rules they were priced with."""
    for entry in (section.get("services") or {}).values():
        for version in entry.get("versions", []):
            if version["applies_from"] > today.isoformat():
                continue
            for key, default in (("sibling_reductions", {}), ("non_resident_surcharge_percent", 0)):
                if key not in version and old.get(key) != new.get(key):
                    version[key] = copy.deepcopy(old.get(key, default))
            old_abs, new_abs = old.get("absences") or {}, new.get("absences") or {}
            own = version.get("absences") or {}
            pinned = {
                k: old_abs[k] if k in old_abs else _ABSENCE_DEFAULTS[k]
                for k in _ABSENCE_DEFAULTS
                if k not in own and old_abs.get(k) != new_abs.get(k)
            }
            if pinned:
                version["absences"] = {**own, **pinned}


# pricing.AbsenceRules' defaults: what a version without the key used.
_ABSENCE_DEFAULTS = {
    "unjustified_percent": 100,
    "late_cancellation_percent": 100,
    "carence_days": 0,
}


def _number(value):
    """Decimal from a form -> the YAML's int or float (3 -> 3, 2.5 -> 2.5)."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


KIND_CHOICES = [
    ("grid", "Grille par quotient familial (tranches)"),
    ("effort_rate", "Taux d'effort (QF × taux, entre un plancher et un plafond)"),
    ("flat", "Prix unique"),
]


TARIFF_FIELDS = {
    "grid": (),
    "effort_rate": ("rate_percent", "floor", "ceiling"),
    "flat": ("price",),
}


class TariffVersionForm(FollowsChoice, forms.Form):
    applies_from = forms.DateField(
        label="S'applique à partir du",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Au plus tôt demain : un tarif n'est jamais rétroactif.",
    )
    kind = forms.ChoiceField(label="Type de tarif", choices=KIND_CHOICES)
    unit = forms.CharField(
        label="Unité facturée", required=False, max_length=30, help_text="Ex. repas, heure, journée"
    )
    rate_percent = forms.DecimalField(
        label="Taux d'effort (% du QF)",
        required=False,
        min_value=0,
        max_value=100,
        decimal_places=4,
    )
    floor = forms.DecimalField(label="Plancher (€)", **MONEY)
    ceiling = forms.DecimalField(label="Plafond (€)", **MONEY)
    price = forms.DecimalField(label="Prix (€)", **MONEY)
    simulate_qf = forms.IntegerField(
        label="Simuler pour un quotient familial de (€)",
        required=False,
        min_value=0,
        max_value=100000,
    )
    message = change_reason()

    # Only the chosen type's fields are shown (with or without JavaScript).
    follows = {"kind": TARIFF_FIELDS}

    @property
    def chosen_kind(self) -> str:
        return self.chosen("kind")

    def clean_applies_from(self):
        day = self.cleaned_data["applies_from"]
        if day <= timezone.localdate():
            raise forms.ValidationError(
                "Un nouveau tarif s'applique au plus tôt demain : les tarifs ne sont jamais "
                "rétroactifs."
            )
        return day

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        for name in TARIFF_FIELDS.get(kind, ()):
            if data.get(name) is None and name not in self.errors:
                self.add_error(name, "Ce champ est obligatoire pour ce type de tarif.")
        return data

    def version(self, grid: list[dict]) -> dict:
        data = self.cleaned_data
        out = {"applies_from": data["applies_from"].isoformat(), "kind": data["kind"]}
        if data.get("unit"):
            out["unit"] = data["unit"]
        if data["kind"] == "grid":
            out["grid"] = grid
        elif data["kind"] == "effort_rate":
            out |= {k: _number(data[k]) for k in ("rate_percent", "floor", "ceiling")}
        else:
            out["price"] = _number(data["price"])
        return out


class BracketForm(forms.Form):
    up_to = forms.IntegerField(
        label="QF jusqu'à (€, inclus)",
        required=False,
        min_value=0,
        max_value=100000,
        help_text="Vide pour la dernière tranche.",
    )
    price = forms.DecimalField(label="Prix (€)", **MONEY)

    def value(self) -> dict | None:
        data = self.cleaned_data
        if data.get("price") is None and data.get("up_to") is None:
            return None  # an empty row
        row = {} if data.get("up_to") is None else {"up_to": data["up_to"]}
        row["price"] = _number(data["price"]) if data.get("price") is not None else None
        return row


BracketFormSet = forms.formset_factory(BracketForm, extra=0, can_delete=True)


class TariffServiceForm(forms.Form):
    """A billed service's settings besides its versions
    (`module_settings.billing.services.<code>`)."""

    sessions_per_month = forms.IntegerField(
        label="Séances habituelles par mois (simulateur)",
        min_value=0,
        max_value=744,
        required=False,
        help_text="Sert seulement à l'estimation mensuelle du simulateur des familles "
        "(nombre d'heures par mois pour un tarif horaire).",
    )
    quantity_per_booking = forms.DecimalField(
        label="Quantité facturée par réservation",
        min_value=0.01,
        max_value=24,
        decimal_places=2,
        required=False,
        help_text="Vide : 1. Exemple : 9 pour une journée de crèche au tarif horaire. "
        "S'applique aux prochaines facturations ; les factures déjà émises ne changent pas.",
    )
    message = change_reason()

    @staticmethod
    def initial_for(entry: dict) -> dict:
        return {
            "sessions_per_month": entry.get("sessions_per_month"),
            "quantity_per_booking": entry.get("quantity_per_booking"),
        }

    def apply_to(self, entry: dict) -> None:
        set_or_drop(entry, "sessions_per_month", self.cleaned_data["sessions_per_month"])
        set_or_drop(
            entry, "quantity_per_booking", _number(self.cleaned_data["quantity_per_booking"])
        )


# --- régies and SEPA direct debit ---------------------------------------------------


class DirectDebitForm(forms.Form):
    offered = forms.BooleanField(
        label="Proposer le prélèvement automatique (SEPA) aux familles", required=False
    )
    creditor_name = forms.CharField(label="Nom du créancier", required=False, max_length=70)
    creditor_id = forms.CharField(
        label="Identifiant créancier SEPA (ICS)",
        required=False,
        max_length=35,
        help_text="Ex. : FR72ZZZ123456 (attribué par la Banque de France).",
    )
    iban = forms.CharField(label="IBAN du compte crédité", required=False, max_length=42)
    bic = forms.CharField(label="BIC", required=False, max_length=11)
    starts = forms.ChoiceField(
        label="Première facture prélevée après l'adhésion",
        choices=[("next_invoice", "la facture suivante"), ("september", "la facture de septembre")],
        required=False,
    )
    message = change_reason()

    @staticmethod
    def initial_for(billing: dict) -> dict:
        dd = billing.get("direct_debit") or {}
        return {
            "offered": bool(dd),
            **{k: dd.get(k, "") for k in ("creditor_name", "creditor_id", "iban", "bic")},
            "starts": dd.get("starts", "next_invoice"),
        }

    def clean(self):
        d = super().clean()
        if d.get("offered"):
            for name in ("creditor_name", "creditor_id", "iban", "bic"):
                if not (d.get(name) or "").strip():
                    self.add_error(name, "Obligatoire pour proposer le prélèvement.")
        for name in ("creditor_id", "iban", "bic"):
            if d.get(name):
                d[name] = d[name].replace(" ", "").upper()
        return d

    def apply_to(self, billing: dict) -> None:
        d = self.cleaned_data
        if not d["offered"]:
            billing.pop("direct_debit", None)
            return
        billing["direct_debit"] = {
            "creditor_name": d["creditor_name"].strip(),
            "creditor_id": d["creditor_id"],
            "iban": d["iban"],
            "bic": d["bic"],
            "starts": d["starts"] or "next_invoice",
        }


class RegieForm(forms.Form):
    code = forms.CharField(label="Code de la régie", max_length=40, validators=[CODE])
    name = forms.CharField(label="Nom de la régie", max_length=160)
    services = forms.MultipleChoiceField(
        label="Services facturés par cette régie",
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(self, *args, service_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["services"].choices = service_choices


class BaseRegieFormSet(forms.BaseFormSet):
    def __init__(self, *args, service_choices=(), **kwargs):
        self.service_choices = service_choices
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "service_choices": self.service_choices}

    def clean(self):
        if any(self.errors):
            return
        codes = [f.cleaned_data["code"] for f in self._kept()]
        if len(codes) != len(set(codes)):
            raise forms.ValidationError("Deux régies ne peuvent pas avoir le même code.")

    def _kept(self):
        return [f for f in self.forms if f.cleaned_data and not self._should_delete_form(f)]

    def regies(self) -> list[dict]:
        return [
            {
                "code": f.cleaned_data["code"],
                "name": f.cleaned_data["name"],
                "services": list(f.cleaned_data["services"]),
            }
            for f in self._kept()
        ]


RegieFormSet = forms.formset_factory(
    RegieForm, formset=BaseRegieFormSet, extra=1, can_delete=True, max_num=20, validate_max=True
)


_HELIOS_FIELDS = {
    # name: (label, help, pattern, French words)
    "poste_comptable": ("Poste comptable (trésorerie)", "6 ou 7 chiffres.", r"[0-9]{6,7}"),
    "siret": ("SIRET de la collectivité", "14 chiffres.", r"[0-9]{14}"),
    "code_collectivite": ("Code collectivité Hélios", "3 chiffres.", r"[0-9]{3}"),
    "code_budget": ("Code budget", "1 à 10 lettres ou chiffres.", r"[0-9A-Za-z]{1,10}"),
    "code_nature": ("Nature du rôle", "2 chiffres (ex. 01).", r"[0-9]{2}"),
    "code_produit": ("Code produit", "1 à 4 lettres ou chiffres.", r"[0-9A-Za-z]{1,4}"),
    "nature": ("Compte nature", "1 à 12 chiffres (ex. 7067).", r"[0-9]{1,12}"),
}


class HeliosForm(forms.Form):
    """The town's Hélios identifiers (`module_settings.billing.helios`): PES V2
    titles and paiement de proximité. French messages; the SIRET key is checked
    by pes.helios_problems when the configuration is applied."""

    sends = forms.BooleanField(
        label="Transmettre les titres de recettes à la trésorerie (PES V2, Hélios)",
        required=False,
    )
    message = change_reason()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fields = {}
        for name, (label, help_text, _pattern) in _HELIOS_FIELDS.items():
            fields[name] = forms.CharField(
                label=label, help_text=help_text, required=False, max_length=20
            )
        fields["fonction"] = forms.CharField(
            label="Fonction (facultatif)", required=False, max_length=10
        )
        fields["libelle"] = forms.CharField(
            label="Libellé des titres (facultatif)", required=False, max_length=160
        )
        fields["proximity_payment"] = forms.BooleanField(
            label="Paiement de proximité chez les buralistes agréés (code DataMatrix et mention "
            "sur les factures)",
            required=False,
        )
        message = self.fields.pop("message")
        self.fields.update(fields)
        self.fields["message"] = message

    @staticmethod
    def initial_for(billing: dict) -> dict:
        h = billing.get("helios") or {}
        keys = [*_HELIOS_FIELDS, "fonction", "libelle"]
        return {
            "sends": bool(h),
            **{k: h.get(k, "") for k in keys},
            "proximity_payment": bool(h.get("proximity_payment")),
        }

    def clean(self):
        d = super().clean()
        for name in [*_HELIOS_FIELDS, "fonction"]:
            d[name] = re.sub(r"\s+", "", d.get(name) or "")
        if d.get("sends"):
            for name, (_label, help_text, pattern) in _HELIOS_FIELDS.items():
                if not d[name]:
                    self.add_error(name, "Obligatoire pour transmettre les titres.")
                elif not re.fullmatch(pattern, d[name], flags=re.ASCII):
                    self.add_error(name, f"Format attendu : {help_text[0].lower()}{help_text[1:]}")
            if d["fonction"] and not re.fullmatch(r"[0-9A-Za-z]{1,10}", d["fonction"], re.ASCII):
                self.add_error("fonction", "Format attendu : 1 à 10 lettres ou chiffres.")
        return d

    def apply_to(self, billing: dict) -> None:
        d = self.cleaned_data
        if not d["sends"]:
            billing.pop("helios", None)
            return
        old = billing.get("helios") or {}
        section = {name: d[name] for name in _HELIOS_FIELDS}
        for name in ("fonction", "libelle"):
            if (d[name] or "").strip():
                section[name] = d[name].strip()
        section["proximity_payment"] = bool(d["proximity_payment"])
        if old.get("regies"):
            section["regies"] = old["regies"]  # per-régie codes: YAML only, kept
        billing["helios"] = section
