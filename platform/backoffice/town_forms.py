"""Forms of the town's general settings and of its data-protection notices
(town admins): website, school holiday zone, old portal paths, the activation
key's name, what families change directly or through a request, legal notices.
They edit the same keys as the YAML; tenants.services.apply_town_config validates."""

from __future__ import annotations

import re

from django import forms

from backoffice.forms import change_reason, set_or_drop
from families.rules import DEFAULT_POLICY

CHANGE_LABELS = {
    "contacts": "Coordonnées (téléphones, e-mails)",
    "address": "Adresse du foyer",
    "entourage_add": "Ajout d'une personne de l'entourage",
    "entourage_remove": "Retrait d'une personne de l'entourage",
    "health_sheet": "Fiche sanitaire",
    "quotient_familial": "Quotient familial",
    "quotient_familial_api": "Quotient familial obtenu auprès de la CAF ou de la MSA",
    "child_add": "Ajout d'un enfant",
}
_MODE = {"direct": "directe", "validation": "après validation par les services"}
_ALIAS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


class TownSettingsForm(forms.Form):
    website = forms.URLField(
        label="Site de la mairie", required=False, max_length=200, assume_scheme="https"
    )
    school_holiday_zone = forms.ChoiceField(
        label="Zone de vacances scolaires",
        choices=[("A", "zone A"), ("B", "zone B"), ("C", "zone C"), ("Corse", "Corse")],
        help_text="Donne les vacances scolaires du calendrier des réservations.",
    )
    aliases = forms.CharField(
        label="Anciens chemins du portail (alias)",
        required=False,
        max_length=500,
        help_text="Séparés par des virgules, ex. : ville-castres. Ils redirigent vers le portail.",
    )
    activation_key_label = forms.CharField(
        label="Nom de la clé d'activation dans vos courriers",
        required=False,
        min_length=3,
        max_length=60,
        help_text="Ex. : « code personnel », « clé Enfance ». Vide : « clé d'activation ».",
    )
    message = change_reason()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for change, label in CHANGE_LABELS.items():
            default = DEFAULT_POLICY[change]
            self.fields[f"change_{change}"] = forms.ChoiceField(
                label=label,
                choices=[
                    ("", f"par défaut (modification {_MODE[default]})"),
                    ("direct", "modification directe par la famille"),
                    ("validation", "demande validée par les services"),
                ],
                required=False,
            )

    @property
    def change_fields(self):
        return [self[f"change_{c}"] for c in CHANGE_LABELS]

    @staticmethod
    def initial_for(config: dict) -> dict:
        initial = {
            "website": config.get("website", ""),
            "school_holiday_zone": config.get("school_holiday_zone"),
            "aliases": ", ".join(config.get("aliases") or []),
            "activation_key_label": (config.get("accounts") or {}).get("activation_key_label", ""),
        }
        for change in CHANGE_LABELS:
            initial[f"change_{change}"] = (config.get("family_changes") or {}).get(change, "")
        return initial

    def clean_aliases(self):
        raw = [a.strip() for a in self.cleaned_data["aliases"].split(",") if a.strip()]
        bad = [a for a in raw if not _ALIAS.match(a)]
        if bad:
            raise forms.ValidationError(
                "Un alias ne contient que des lettres sans accent, des chiffres, « - » et « _ » : "
                + ", ".join(f"« {a} »" for a in bad)
                + "."
            )
        return list(dict.fromkeys(raw))  # without repeats, in order

    def apply_to(self, data: dict) -> None:
        d = self.cleaned_data
        set_or_drop(data, "website", d["website"])
        data["school_holiday_zone"] = d["school_holiday_zone"]
        set_or_drop(data, "aliases", d["aliases"])
        accounts = dict(data.get("accounts") or {})
        set_or_drop(accounts, "activation_key_label", d["activation_key_label"].strip())
        set_or_drop(data, "accounts", accounts)
        changes = {c: d[f"change_{c}"] for c in CHANGE_LABELS if d[f"change_{c}"]}
        set_or_drop(data, "family_changes", changes)


class DataProtectionForm(forms.Form):
    controller = forms.CharField(
        label="Responsable de traitement",
        required=False,
        max_length=300,
        help_text="Vide : « Commune de <nom>, représentée par son maire ».",
    )
    publication_director = forms.CharField(
        label="Directeur ou directrice de la publication", required=False, max_length=200
    )
    dpo_name = forms.CharField(
        label="Délégué à la protection des données : nom", required=False, max_length=200
    )
    dpo_email = forms.EmailField(
        label="Délégué à la protection des données : e-mail", required=False
    )
    dpo_phone = forms.CharField(
        label="Délégué à la protection des données : téléphone", required=False, max_length=30
    )
    dpo_address = forms.CharField(
        label="Délégué à la protection des données : adresse postale",
        required=False,
        max_length=300,
    )
    host_name = forms.CharField(label="Hébergeur : nom", required=False, max_length=200)
    host_address = forms.CharField(label="Hébergeur : adresse", required=False, max_length=300)
    accessibility_contact = forms.EmailField(
        label="E-mail de contact pour l'accessibilité", required=False
    )
    retention_years = forms.IntegerField(
        label="Années sans activité avant l'effacement d'un dossier famille",
        required=False,
        min_value=1,
        max_value=10,
        help_text="Vide : 3 ans.",
    )
    message = change_reason()

    @staticmethod
    def initial_for(config: dict) -> dict:
        dp = config.get("data_protection") or {}
        dpo, host = dp.get("dpo") or {}, dp.get("host") or {}
        return {
            "controller": dp.get("controller", ""),
            "publication_director": dp.get("publication_director", ""),
            **{f"dpo_{k}": dpo.get(k, "") for k in ("name", "email", "phone", "address")},
            **{f"host_{k}": host.get(k, "") for k in ("name", "address")},
            "accessibility_contact": dp.get("accessibility_contact", ""),
            "retention_years": dp.get("retention_years"),
        }

    def clean(self):
        d = super().clean()
        dpo_given = any(d.get(f"dpo_{k}") for k in ("name", "phone"))
        if dpo_given and not (d.get("dpo_email") or d.get("dpo_address")):
            self.add_error("dpo_email", "Donnez l'e-mail ou l'adresse postale du délégué.")
        if d.get("host_address") and not d.get("host_name"):
            self.add_error("host_name", "Donnez le nom de l'hébergeur.")
        return d

    def apply_to(self, data: dict) -> None:
        d = self.cleaned_data
        dp = dict(data.get("data_protection") or {})
        for key in ("controller", "publication_director", "accessibility_contact"):
            set_or_drop(dp, key, (d[key] or "").strip())
        set_or_drop(
            dp,
            "dpo",
            {
                k: d[f"dpo_{k}"].strip()
                for k in ("name", "email", "phone", "address")
                if d[f"dpo_{k}"].strip()
            },
        )
        set_or_drop(
            dp,
            "host",
            {k: d[f"host_{k}"].strip() for k in ("name", "address") if d[f"host_{k}"].strip()},
        )
        set_or_drop(dp, "retention_years", d["retention_years"])
        set_or_drop(data, "data_protection", dp)
