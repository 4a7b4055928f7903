"""Forms of the family record: what an agent does for a family (phone, desk)."""

from __future__ import annotations

from django import forms

from booking.models import Absence

REASON_HELP = "Obligatoire : il figure dans l'historique de la famille et dans son courriel."


class StaffBookForm(forms.Form):
    child = forms.TypedChoiceField(label="Enfant", coerce=int, choices=[])
    activity = forms.TypedChoiceField(label="Activité", coerce=int, choices=[])
    day = forms.DateField(
        label="Jour",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Date attendue (jj/mm/aaaa).", "required": "Indiquez le jour."},
    )
    reason = forms.CharField(
        label="Motif",
        max_length=1000,
        help_text=REASON_HELP,
        widget=forms.TextInput(attrs={"placeholder": "Appel de la famille : …"}),
        error_messages={"required": "Indiquez le motif."},
    )

    def __init__(self, *args, children=(), activities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["child"].choices = [(c.pk, c.first_name) for c in children]
        self.fields["activity"].choices = [(a.pk, a.name) for a in activities]


class StaffCancelForm(forms.Form):
    booking = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label="Motif de l'annulation",
        max_length=1000,
        help_text=REASON_HELP,
        error_messages={"required": "Indiquez le motif."},
    )


class StaffAbsenceForm(forms.Form):
    booking = forms.IntegerField(widget=forms.HiddenInput)
    absence_reason = forms.ChoiceField(label="Motif de l'absence", choices=[])
    comment = forms.CharField(label="Précisions", max_length=1000, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["absence_reason"].choices = Absence.Reason.choices


class StaffValidateForm(forms.Form):
    registration = forms.IntegerField(widget=forms.HiddenInput)
    note = forms.CharField(label="Commentaire (facultatif)", max_length=1000, required=False)
