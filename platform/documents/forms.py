"""Form input parsing only: the checks on the file itself live in core.uploads
(run by the services), so the pages and the API refuse the same files the same way."""

from django import forms

from documents.models import Document, DocumentKind

_ACCEPT = "application/pdf,image/png,image/jpeg,.pdf,.png,.jpg,.jpeg"


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class DocumentUploadForm(forms.Form):
    kind = forms.ChoiceField(label="Type de document", choices=DocumentKind.choices)
    file = forms.FileField(
        label="Fichier (PDF, PNG ou JPEG, 10 Mo au plus)",
        widget=forms.ClearableFileInput(attrs={"accept": _ACCEPT}),
    )
    title = forms.CharField(label="Intitulé (facultatif)", max_length=120, required=False)
    child = forms.ModelChoiceField(
        label="Enfant concerné (facultatif)",
        queryset=None,
        required=False,
        empty_label="— tout le foyer —",
    )
    issued_on = forms.DateField(
        label="Date du document (facultatif)", required=False, widget=DateInput()
    )
    valid_until = forms.DateField(
        label="Valable jusqu'au (facultatif)",
        required=False,
        widget=DateInput(),
        help_text=(
            "Laissez vide : la date est calculée selon le type de document quand c'est possible."
        ),
    )

    def __init__(self, *args, children=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["child"].queryset = children
        self.fields["child"].label_from_instance = lambda c: c.first_name


class AttachForm(forms.Form):
    demande = forms.ModelChoiceField(label="Demande", queryset=None, empty_label=None)

    def __init__(self, *args, demandes=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["demande"].queryset = demandes
        self.fields["demande"].label_from_instance = lambda d: (
            f"{d.subject} — {d.get_status_display()} (n° {d.pk})"
        )


class ReviewForm(forms.Form):
    status = forms.ChoiceField(
        label="Décision",
        widget=forms.RadioSelect,
        choices=[(Document.Status.VALID, "Valider"), (Document.Status.REJECTED, "Refuser")],
    )
    reason = forms.CharField(
        label="Motif du refus (envoyé à la famille)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class VaultUploadForm(forms.Form):
    title = forms.CharField(label="Intitulé", max_length=120)
    file = forms.FileField(
        label="Fichier (PDF, PNG ou JPEG, 10 Mo au plus)",
        widget=forms.ClearableFileInput(attrs={"accept": _ACCEPT}),
    )


class VaultShareForm(forms.Form):
    kind = forms.ChoiceField(label="Type de document", choices=DocumentKind.choices)
    child = forms.ModelChoiceField(
        label="Enfant concerné (facultatif)",
        queryset=None,
        required=False,
        empty_label="— tout le foyer —",
    )
    issued_on = forms.DateField(
        label="Date du document (facultatif)", required=False, widget=DateInput()
    )
    keep_copy = forms.BooleanField(
        label="Garder aussi une copie dans mon coffre-fort", required=False
    )

    def __init__(self, *args, children=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["child"].queryset = children
        self.fields["child"].label_from_instance = lambda c: c.first_name


class ErasureForm(forms.Form):
    confirm = forms.BooleanField(
        label="Je demande l'effacement des données de mon foyer et la fermeture de mon compte.",
    )
    message = forms.CharField(
        label="Précisions (facultatif)", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
