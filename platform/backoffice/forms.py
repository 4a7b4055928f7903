from __future__ import annotations

import copy
import datetime

from django import forms

from core.mail_templates import BODY_MAX, SUBJECT_MAX
from core.ui_forms import FollowsChoice
from tenants.service_rules import RULE_FIELDS, WEEKDAY_CHOICES


def change_reason() -> forms.CharField:
    """The optional "why" of a configuration change, kept in its version (history)."""
    return forms.CharField(label="Motif du changement (historique)", required=False, max_length=200)


RULE_CHOICES = [
    ("days_before", "N jours avant, à une heure donnée"),
    ("hours_before", "N heures avant le début de la journée"),
    ("working_days_before", "N jours ouvrés avant"),
    ("weekday_previous_week", "un jour fixe de la semaine précédente"),
    ("day_of_previous_month", "un jour fixe du mois précédent"),
    ("weeks_before_session", "N semaines avant le début de la session de vacances"),
    ("none", "jamais en ligne (la famille contacte le service)"),
]


class SearchForm(forms.Form):
    q = forms.CharField(label="Nom, prénom d'un enfant ou e-mail", required=False, max_length=100)


class ModulesForm(forms.Form):
    modules = forms.MultipleChoiceField(
        label="Modules activés", widget=forms.CheckboxSelectMultiple, required=True
    )
    message = change_reason()

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["modules"].choices = choices


class ServiceForm(FollowsChoice, forms.Form):
    name = forms.CharField(label="Nom affiché aux familles", max_length=160)
    description = forms.CharField(
        label="Description", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    rule = forms.ChoiceField(label="Règle de délai de réservation", choices=RULE_CHOICES)
    days = forms.IntegerField(label="Nombre de jours", required=False)
    hours = forms.IntegerField(label="Nombre d'heures", required=False)
    weeks = forms.IntegerField(label="Nombre de semaines", required=False)
    day = forms.IntegerField(label="Jour du mois (1 à 28)", required=False)
    weekday = forms.ChoiceField(
        label="Jour de la semaine", choices=[("", "—"), *WEEKDAY_CHOICES], required=False
    )
    time = forms.CharField(
        label="Heure limite (HH:MM)", required=False, max_length=5, initial="23:59"
    )
    preview_day = forms.DateField(
        label="Aperçu pour le jour",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    message = change_reason()

    # Only the chosen rule's settings are shown (with or without JavaScript).
    follows = {"rule": RULE_FIELDS}

    def rule_values(self) -> dict:
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return {k: data.get(k) for f in RULE_FIELDS.values() for k in f}

    @staticmethod
    def initial_for(service: dict) -> dict:
        booking = (service.get("deadlines") or {}).get("booking") or {"rule": "none"}
        return {
            "name": service.get("name", ""),
            "description": service.get("description", ""),
            **{k: v for k, v in booking.items()},
            "preview_day": datetime.date.today() + datetime.timedelta(days=14),
        }


# --- contacts -------------------------------------------------------------------------


class ContactForm(forms.Form):
    """One contact of the town (schema.json $defs.contact)."""

    label = forms.CharField(label="Nom du service", max_length=160)
    phone = forms.CharField(
        label="Téléphone", required=False, max_length=20, help_text="Ex. 05 63 62 43 44"
    )
    email = forms.EmailField(label="E-mail", required=False)
    address = forms.CharField(label="Adresse", required=False, max_length=255)
    hours = forms.CharField(
        label="Horaires d'accueil",
        required=False,
        max_length=255,
        help_text="Ex. du lundi au vendredi, 8 h 30 – 12 h et 13 h 30 – 17 h",
    )

    def value(self) -> dict:
        data = self.cleaned_data
        return {k: data[k] for k in ("label", "phone", "email", "address", "hours") if data.get(k)}


class ContactRowForm(ContactForm):
    """A row of `contacts`: left blank, it is ignored."""

    label = forms.CharField(label="Nom du service", max_length=160, required=False)

    def clean(self):
        data = super().clean()
        if not data.get("label") and any(
            data.get(k) for k in ("phone", "email", "address", "hours")
        ):
            self.add_error("label", "Indiquez le nom du service de ce contact.")
        return data


ContactFormSet = forms.formset_factory(ContactRowForm, extra=0, can_delete=True)


class MessageForm(forms.Form):
    message = change_reason()


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
        from modules.billing.payments.providers import PROVIDERS

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
        _put(rules, "sibling_reductions", dict(sorted(siblings.items(), key=lambda i: int(i[0]))))
        _put(
            rules, "non_resident_surcharge_percent", _number(data["non_resident_surcharge_percent"])
        )
        absences = dict(rules.get("absences") or {})
        for key in ("unjustified_percent", "late_cancellation_percent"):
            _put(absences, key, _number(data[key]))
        _put(absences, "carence_days", data["carence_days"])
        _put(rules, "absences", absences)
        _put(section, "rules", rules)
        _pin_rules(section, old_rules, rules, today)
        invoicing = dict(section.get("invoicing") or {})
        _put(invoicing, "payment_days", data["payment_days"])
        _put(invoicing, "online_payment_opens_at", data["online_payment_opens_at"])
        _put(invoicing, "e_invoice", True if data["e_invoice"] else None)
        _put(invoicing, "how_to_pay", data["how_to_pay"].strip() or None)
        _put(section, "invoicing", invoicing)


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


def _put(target: dict, key: str, value) -> None:
    """Set `key`, or drop it when the value is empty: the YAML keeps only what is set."""
    if value in (None, "", [], {}):
        target.pop(key, None)
    else:
        target[key] = value


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
        from django.utils import timezone

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


# --- e-mail texts -----------------------------------------------------------------------


class EmailTemplateForm(forms.Form):
    subject = forms.CharField(
        label="Sujet",
        required=False,
        max_length=SUBJECT_MAX,
        help_text="Vide : le sujet par défaut. Les variables s'écrivent {{ nom }}.",
    )
    body = forms.CharField(
        label="Texte du message",
        widget=forms.Textarea(attrs={"rows": 18, "spellcheck": "true"}),
        max_length=BODY_MAX,
    )
    message = change_reason()


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
        _put(entry, "sessions_per_month", self.cleaned_data["sessions_per_month"])
        _put(entry, "quantity_per_booking", _number(self.cleaned_data["quantity_per_booking"]))
