from __future__ import annotations

import datetime

from django import forms

from core.mail_templates import BODY_MAX, SUBJECT_MAX
from core.ui_forms import FollowsChoice
from tenants.service_rules import RULE_FIELDS, WEEKDAY_CHOICES


def change_reason() -> forms.CharField:
    """The optional "why" of a configuration change, kept in its version (history)."""
    return forms.CharField(label="Motif du changement (historique)", required=False, max_length=200)


def set_or_drop(target: dict, key: str, value) -> None:
    """Set `key`, or drop it when the value is empty: the YAML keeps only what is set."""
    if value in (None, "", [], {}):
        target.pop(key, None)
    else:
        target[key] = value


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
