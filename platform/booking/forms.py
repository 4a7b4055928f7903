"""Forms of the booking pages (French labels; parsing only, rules live in services)."""

from __future__ import annotations

from datetime import date

from django import forms

from booking.models import Absence
from booking.rules import Action, Change

WEEKDAY_CHOICES = [(0, "lundi"), (1, "mardi"), (2, "mercredi"), (3, "jeudi"), (4, "vendredi")]


def parse_key(key: str) -> tuple[int, int, date] | None:
    """ "12:3:2027-03-17" -> (child 12, activity 3, day); None for anything else."""
    try:
        child, activity, day = key.split(":")
        return int(child), int(activity), date.fromisoformat(day)
    except (ValueError, AttributeError):
        return None


def parse_keys(values) -> set[tuple[int, int, date]]:
    return {k for k in (parse_key(v) for v in values) if k is not None}


def iso_date_input():
    """<input type=date> wants YYYY-MM-DD whatever the language (a French
    « 07/12/2026 » leaves the field empty in the browser)."""
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PatternForm(forms.Form):
    """ "Réserver tous les lundis et jeudis de cette période"."""

    enfants = forms.TypedMultipleChoiceField(
        label="Enfants", coerce=int, widget=forms.CheckboxSelectMultiple
    )
    jours = forms.TypedMultipleChoiceField(
        label="Jours de la semaine",
        coerce=int,
        choices=WEEKDAY_CHOICES,
        widget=forms.CheckboxSelectMultiple,
    )
    du = forms.DateField(label="Du", widget=iso_date_input())
    au = forms.DateField(label="Au (inclus)", widget=iso_date_input())
    action = forms.ChoiceField(
        label="Action",
        choices=[(Action.BOOK.value, "Réserver"), (Action.CANCEL.value, "Annuler")],
        widget=forms.RadioSelect,
        initial=Action.BOOK.value,
    )
    liste_attente = forms.BooleanField(
        label="Si un jour est complet, demander une place sur liste d'attente", required=False
    )

    def __init__(self, *args, children=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["enfants"].choices = [(c.pk, c.first_name) for c in children]

    def clean(self):
        data = super().clean()
        du, au = data.get("du"), data.get("au")
        if du and au:
            if au < du:
                raise forms.ValidationError("La date de fin est avant la date de début.")
            if (au - du).days > 366:
                raise forms.ValidationError("Choisissez une période d'un an au plus.")
        return data


class AbsenceForm(forms.Form):
    reason = forms.ChoiceField(label="Motif", choices=Absence.Reason.choices)
    comment = forms.CharField(
        label="Commentaire (facultatif)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    justification = forms.FileField(
        label="Justificatif (PDF, JPEG ou PNG, 5 Mo au plus)",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )

    stored_document = forms.ChoiceField(
        label="Justificatif déjà déposé dans vos pièces justificatives",
        required=False,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, justification="optional", documents=(), **kwargs):
        """`documents`: the family's valid stored documents it may pick instead
        of a new upload (deposited once, used everywhere)."""
        super().__init__(*args, **kwargs)
        self.needs_file = justification == "required"
        if justification == "none" or not documents:
            del self.fields["stored_document"]
        else:
            self.fields["stored_document"].choices = [(str(d.pk), str(d)) for d in documents] + [
                ("", "Aucun : j'envoie un nouveau fichier ci-dessous")
            ]
        if justification == "none":
            del self.fields["justification"]
        elif justification == "required":
            self.fields["justification"].required = not documents
            self.fields[
                "justification"
            ].label = "Justificatif obligatoire (PDF, JPEG ou PNG, 5 Mo au plus)"

    def clean(self):
        data = super().clean()
        if (
            self.needs_file
            and "stored_document" in self.fields
            and not data.get("stored_document")
            and not data.get("justification")
        ):
            self.add_error(
                "justification",
                "Joignez un justificatif ou choisissez un document déjà déposé.",
            )
        return data


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[
            (Absence.Decision.JUSTIFIED, "Accepter (justifiée)"),
            (Absence.Decision.UNJUSTIFIED, "Refuser (non justifiée)"),
        ]
    )
    comment = forms.CharField(label="Message à la famille", required=False, max_length=2000)


class OpenDaysForm(forms.Form):
    du = forms.DateField(label="Du", widget=iso_date_input())
    au = forms.DateField(label="Au (inclus)", widget=iso_date_input())

    def clean(self):
        data = super().clean()
        if data.get("du") and data.get("au") and (data["au"] - data["du"]).days > 400:
            raise forms.ValidationError("Choisissez une période de 400 jours au plus.")
        return data


class CapacityForm(forms.Form):
    capacity = forms.IntegerField(label="Places par jour", min_value=0, max_value=5000)
    min_age_months = forms.IntegerField(
        label="Âge minimum (mois)", min_value=0, max_value=240, required=False
    )
    max_age_months = forms.IntegerField(
        label="Âge maximum (mois)", min_value=0, max_value=240, required=False
    )


def change_list(raw: list[dict]) -> tuple[list[Change], list[str]]:
    """API body `changes` -> Change objects, or French problems per item."""
    out, problems = [], []
    for i, item in enumerate(raw if isinstance(raw, list) else []):
        try:
            out.append(
                Change(
                    int(item["child"]),
                    int(item["activity"]),
                    date.fromisoformat(str(item["day"])),
                    Action(item["action"]),
                )
            )
        except (KeyError, TypeError, ValueError):
            problems.append(
                f"changes[{i}] : attendu {{child, activity, day (AAAA-MM-JJ), "
                "action (book ou cancel)}}."
            )
    if not isinstance(raw, list):
        problems.append("changes : une liste est attendue.")
    return out, problems


class PeriodForm(forms.Form):
    label = forms.CharField(label="Libellé", max_length=160)
    opens_at = forms.DateTimeField(
        label="Ouverture",
        input_formats=["%Y-%m-%dT%H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    closes_at = forms.DateTimeField(
        label="Fermeture (dernière minute incluse)",
        input_formats=["%Y-%m-%dT%H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    first_day = forms.DateField(
        label="Premier jour concerné (facultatif)",
        required=False,
        widget=iso_date_input(),
    )
    last_day = forms.DateField(
        label="Dernier jour concerné (facultatif)",
        required=False,
        widget=iso_date_input(),
    )
    services = forms.MultipleChoiceField(
        label="Services (aucun : tous)", required=False, widget=forms.CheckboxSelectMultiple
    )
    waiting_room = forms.BooleanField(
        label="Salle d'attente à l'ouverture (forte affluence attendue)",
        required=False,
        help_text="Les familles connectées avant l'ouverture sont tirées au sort, puis "
        "entrent par groupes, au rythme que le portail peut servir.",
    )
    early_minutes = forms.IntegerField(
        label="Tirage au sort des familles arrivées dans les … minutes avant l'ouverture",
        min_value=0,
        max_value=240,
        initial=15,
        required=False,
    )
    room_minutes = forms.IntegerField(
        label="Durée de la salle d'attente après l'ouverture (minutes)",
        min_value=1,
        max_value=720,
        initial=60,
        required=False,
    )
    admit_per_minute = forms.IntegerField(
        label="Familles admises par minute, au plus",
        min_value=1,
        max_value=100000,
        initial=600,
        required=False,
    )
    pass_minutes = forms.IntegerField(
        label="Temps laissé à une famille admise pour réserver (minutes)",
        min_value=2,
        max_value=120,
        initial=10,
        required=False,
    )

    def __init__(self, *args, services=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["services"].choices = [(s.code, s.name) for s in services]


class ClosureForm(forms.Form):
    label = forms.CharField(label="Libellé", max_length=160)
    first_day = forms.DateField(label="Premier jour fermé", widget=iso_date_input())
    last_day = forms.DateField(label="Dernier jour fermé", widget=iso_date_input())
    services = forms.MultipleChoiceField(
        label="Services (aucun : tous)", required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, services=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["services"].choices = [(s.code, s.name) for s in services]


class FamilyPatternForm(PatternForm):
    """ "Tous les mardis et jeudis jusqu'aux vacances", for chosen services and
    children, from the family calendar: the matching days go into the basket.
    PatternForm's fields and checks, plus the services; no waiting-list box."""

    services = forms.MultipleChoiceField(label="Services", widget=forms.CheckboxSelectMultiple)
    liste_attente = None
    field_order = ["services", "enfants", "jours", "du", "au", "action"]

    def __init__(self, *args, children=(), services=(), **kwargs):
        super().__init__(*args, children=children, **kwargs)
        self.fields["services"].choices = [(s.code, s.name) for s in services]


class AbsencePeriodForm(forms.Form):
    """« Constance absente du 8 au 10 »: the reason has NO default."""

    reason = forms.ChoiceField(
        label="Motif",
        choices=Absence.Reason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choisissez le motif de l'absence."},
    )
    comment = forms.CharField(
        label="Commentaire (facultatif)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    justification = forms.FileField(
        label="Justificatif : un seul fichier pour toute la période (PDF, JPEG ou PNG, 5 Mo max.)",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )
