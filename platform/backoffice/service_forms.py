"""Forms of a service's places and options, and of a new service (town admins).

They edit `services[i].options` of the town's config, the same keys as the YAML
(tenant_configs/schema.json `$defs.service_options`); tenants.services.apply_town_config
validates and applies them (sites and activities follow: booking.catalogue.sync_activities).
"""

from __future__ import annotations

from django import forms
from django.core.validators import RegexValidator

from backoffice.forms import change_reason, set_or_drop
from tenants.service_rules import new_service

CODE = RegexValidator(
    r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
    "Lettres minuscules sans accent, chiffres et tirets uniquement (ex. : ecole-centre).",
)

REGISTRATION_CHOICES = [
    ("auto", "automatique : l'enfant est inscrit dès la demande"),
    ("validation", "après validation par le service"),
]
WAITING_CHOICES = [
    ("promote", "la place libérée va au premier enfant de la liste"),
    ("offer", "la place est proposée à la famille pour une durée limitée"),
]
JUSTIFICATION_CHOICES = [
    ("none", "aucun justificatif"),
    ("optional", "justificatif facultatif"),
    ("required", "justificatif obligatoire"),
]
DAY_KIND_CHOICES = [
    ("school_day", "jours d'école (lundi, mardi, jeudi, vendredi)"),
    ("wednesday", "mercredis en période scolaire"),
    ("holidays", "jours de vacances scolaires"),
    ("weekday", "tous les jours de semaine"),
]


def _int(label, *, required=False, min_value=None, max_value=None, help_text=""):
    return forms.IntegerField(
        label=label,
        required=required,
        min_value=min_value,
        max_value=max_value,
        help_text=help_text,
    )


class ServiceOptionsForm(forms.Form):
    registration = forms.ChoiceField(label="Inscription au service", choices=REGISTRATION_CHOICES)
    capacity = _int(
        "Places par jour (quand le service n'a pas de lieu)", min_value=0, max_value=100000
    )
    min_age_months = _int("Âge minimum (en mois)", min_value=0, max_value=240)
    max_age_months = _int("Âge maximum (en mois)", min_value=0, max_value=240)
    day_kinds = forms.MultipleChoiceField(
        label="Jours d'ouverture",
        choices=DAY_KIND_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Aucune case cochée : les jours habituels de ce type de service.",
    )
    waiting_mode = forms.ChoiceField(label="Liste d'attente", choices=WAITING_CHOICES)
    offer_hours = _int(
        "Durée de la proposition (heures)",
        min_value=1,
        max_value=336,
        help_text="Seulement quand la place est proposée à la famille.",
    )
    justification = forms.ChoiceField(label="Absences", choices=JUSTIFICATION_CHOICES)
    report_days_after = _int(
        "Signaler une absence jusqu'à N jours après", min_value=0, max_value=60
    )
    max_advance_days = _int("Réserver au plus N jours à l'avance", min_value=1, max_value=730)
    windows_only = forms.BooleanField(
        label="Réserver et annuler seulement pendant une période de réservation publiée",
        required=False,
    )
    message = change_reason()

    @staticmethod
    def initial_for(service: dict) -> dict:
        o = service.get("options") or {}
        elig = o.get("eligibility") or {}
        waiting = o.get("waiting_list") or {}
        absences = o.get("absences") or {}
        deadlines = service.get("deadlines") or {}
        return {
            "registration": o.get("registration", "auto"),
            "capacity": o.get("capacity"),
            "min_age_months": elig.get("min_age_months"),
            "max_age_months": elig.get("max_age_months"),
            "day_kinds": o.get("day_kinds") or [],
            "waiting_mode": waiting.get("mode", "promote"),
            "offer_hours": waiting.get("offer_hours"),
            "justification": absences.get("justification", "optional"),
            "report_days_after": absences.get("report_days_after"),
            "max_advance_days": deadlines.get("max_advance_days"),
            "windows_only": bool(deadlines.get("windows_only")),
        }

    def clean(self):
        data = super().clean()
        low, high = data.get("min_age_months"), data.get("max_age_months")
        if low is not None and high is not None and low > high:
            self.add_error("max_age_months", "L'âge maximum doit être supérieur à l'âge minimum.")
        return data

    def apply_to(self, service: dict) -> None:
        """Write the form's values into one service dict of the config (in place).
        Keys the form does not show (documents, school levels, hours…) are kept."""
        d = self.cleaned_data
        o = dict(service.get("options") or {})
        o["registration"] = d["registration"]
        set_or_drop(o, "capacity", d["capacity"])
        elig = dict(o.get("eligibility") or {})
        set_or_drop(elig, "min_age_months", d["min_age_months"])
        set_or_drop(elig, "max_age_months", d["max_age_months"])
        set_or_drop(o, "eligibility", elig or None)
        set_or_drop(o, "day_kinds", list(d["day_kinds"]) or None)
        waiting = dict(o.get("waiting_list") or {})
        waiting["mode"] = d["waiting_mode"]
        set_or_drop(
            waiting, "offer_hours", d["offer_hours"] if d["waiting_mode"] == "offer" else None
        )
        o["waiting_list"] = waiting
        absences = dict(o.get("absences") or {})
        absences["justification"] = d["justification"]
        set_or_drop(absences, "report_days_after", d["report_days_after"])
        o["absences"] = absences
        service["options"] = o
        deadlines = dict(service.get("deadlines") or {})
        set_or_drop(deadlines, "max_advance_days", d["max_advance_days"])
        set_or_drop(deadlines, "windows_only", True if d["windows_only"] else None)
        service["deadlines"] = deadlines


class SiteForm(forms.Form):
    code = forms.CharField(label="Code du lieu", max_length=60, validators=[CODE])
    name = forms.CharField(label="Nom du lieu", max_length=160)
    address = forms.CharField(label="Adresse", max_length=250, required=False)
    capacity = _int("Places par jour", required=True, min_value=0, max_value=100000)


class BaseSiteFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        codes = [
            f.cleaned_data["code"]
            for f in self.forms
            if f.cleaned_data and not self._should_delete_form(f)
        ]
        duplicates = sorted({c for c in codes if codes.count(c) > 1})
        if duplicates:
            raise forms.ValidationError(
                "Deux lieux ne peuvent pas avoir le même code : " + ", ".join(duplicates) + "."
            )

    def sites(self) -> list[dict]:
        out = []
        for f in self.forms:
            if not f.cleaned_data or self._should_delete_form(f):
                continue
            site = {k: f.cleaned_data[k] for k in ("code", "name", "capacity")}
            if f.cleaned_data.get("address"):
                site["address"] = f.cleaned_data["address"]
            out.append(site)
        return out


SiteFormSet = forms.formset_factory(
    SiteForm, formset=BaseSiteFormSet, extra=1, can_delete=True, max_num=50, validate_max=True
)


class NewServiceForm(forms.Form):
    kind = forms.ChoiceField(label="Type de service")
    code = forms.CharField(
        label="Code du service",
        max_length=60,
        validators=[CODE],
        help_text="Court et définitif : il apparaît dans les adresses et les exports.",
    )
    name = forms.CharField(label="Nom affiché aux familles", max_length=160)
    site_code = forms.CharField(label="Code du premier lieu", max_length=60, validators=[CODE])
    site_name = forms.CharField(label="Nom du premier lieu", max_length=160)
    capacity = _int("Places par jour", required=True, min_value=0, max_value=100000)
    days = _int("Délai de réservation : jours avant", required=True, min_value=0, max_value=365)
    message = change_reason()

    def __init__(self, *args, kinds=(), existing=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kinds
        self._existing = set(existing)

    def clean_code(self):
        code = self.cleaned_data["code"]
        if code in self._existing:
            raise forms.ValidationError("Un service porte déjà ce code.")
        return code

    def service(self) -> dict:
        d = self.cleaned_data
        return new_service(
            code=d["code"],
            kind=d["kind"],
            name=d["name"],
            site={"code": d["site_code"], "name": d["site_name"], "capacity": d["capacity"]},
            rule={"rule": "days_before", "days": d["days"], "time": "23:59"},
        )
