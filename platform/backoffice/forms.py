from __future__ import annotations

import datetime

import yaml
from django import forms

from backoffice.rules import RULE_FIELDS, WEEKDAY_CHOICES

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
    message = forms.CharField(
        label="Motif du changement (historique)", required=False, max_length=200
    )

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["modules"].choices = choices


class ServiceForm(forms.Form):
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
    message = forms.CharField(
        label="Motif du changement (historique)", required=False, max_length=200
    )

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


# The sections of the YAML a town admin edits as text (lists and tables that
# no fixed form fits: extra contacts, tariffs, payment options).
SECTIONS = {
    "contact": "Contact principal",
    "contacts": "Autres contacts",
    "payment": "Paiement en ligne (secrets : NOMS de variables d'environnement uniquement)",
    "module_settings": "Réglages des modules (tarifs de la facturation…)",
    "family_changes": "Modifications faites par les familles",
    "accounts": "Comptes des familles",
    "school_holiday_zone": "Zone de vacances scolaires",
    "website": "Site de la mairie",
    "aliases": "Anciens chemins (alias)",
}


class SectionForm(forms.Form):
    text = forms.CharField(
        label="Contenu (format YAML)",
        widget=forms.Textarea(attrs={"rows": 22, "spellcheck": "false"}),
        required=False,
    )
    message = forms.CharField(
        label="Motif du changement (historique)", required=False, max_length=200
    )

    def clean_text(self):
        text = self.cleaned_data["text"]
        if not text.strip():
            return None  # the section is removed (if optional)
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (ligne {mark.line + 1})" if mark else ""
            raise forms.ValidationError(f"YAML illisible{where}.") from None
