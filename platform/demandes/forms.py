from django import forms

from accounts.models import User
from demandes import handlers
from demandes.models import Demande


class InboxFilterForm(forms.Form):
    status = forms.ChoiceField(
        label="Statut",
        required=False,
        choices=[("", "À traiter (envoyées et en cours)")] + list(Demande.Status.choices),
    )
    kind = forms.ChoiceField(label="Type", required=False)
    service = forms.ChoiceField(
        label="Service",
        required=False,
        choices=[("", "Tous mes services")] + list(User.Area.choices),
    )
    mine = forms.BooleanField(label="Seulement les demandes qui me sont attribuées", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        kinds = sorted((k.code, k.label) for k in handlers.all_kinds().values())
        self.fields["kind"].choices = [("", "Tous les types")] + [(c, lbl) for c, lbl in kinds]


class DecisionForm(forms.Form):
    action = forms.ChoiceField(choices=[("start_review", ""), ("accept", ""), ("refuse", "")])
    message = forms.CharField(
        label="Message à la famille (obligatoire pour un refus)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
    )


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(label="Attribuer à", queryset=User.objects.none())

    def __init__(self, *args, staff=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = User.objects.filter(pk__in=[u.pk for u in staff])
        self.fields["assignee"].label_from_instance = lambda u: u.get_full_name() or u.username


class MessageForm(forms.Form):
    message = forms.CharField(
        label="Votre message",
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=5000,
    )
    attachment = forms.FileField(
        label="Pièce jointe (PDF, JPEG ou PNG, 5 Mo au plus)",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )
