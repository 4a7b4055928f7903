"""The living style page (/<slug>/gestion/styleguide/): every component of the
design system (platform/portal/static/ui/ui.css, docs/design-system.md) as the
town's pages show it, with the town's colours. Read-only: nothing is saved."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django import forms
from django.shortcuts import render

from accounts.permissions import staff_required
from accounts.views import key_label
from core.access import STAFF, access
from core.french import Noun


class ExampleForm(forms.Form):
    """One field of each kind, the way every form of the portal renders them."""

    name = forms.CharField(label="Nom de l'enfant", help_text="Tel qu'il figure sur le livret.")
    email = forms.EmailField(label="Adresse e-mail")
    day = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    service = forms.ChoiceField(
        label="Service",
        choices=[("", "Choisir…"), ("cantine", "Cantine"), ("garderie", "Garderie")],
    )
    mode = forms.ChoiceField(
        label="Mode de paiement",
        widget=forms.RadioSelect,
        choices=[("carte", "Carte bancaire"), ("prelevement", "Prélèvement")],
    )
    days = forms.MultipleChoiceField(
        label="Jours",
        widget=forms.CheckboxSelectMultiple,
        choices=[("lun", "lundi"), ("mar", "mardi"), ("jeu", "jeudi"), ("ven", "vendredi")],
        required=False,
    )
    note = forms.CharField(
        label="Message", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    paper = forms.FileField(label="Justificatif", required=False)
    agree = forms.BooleanField(label="J'atteste l'exactitude de ces informations")


@access(STAFF())
@staff_required()
def styleguide(request):
    form = ExampleForm(data={"name": "Léa", "email": "adresse-invalide", "mode": "carte"})
    form.is_valid()  # shows the errors' look; nothing is saved
    word = key_label(request.commune)  # a Noun: its articles agree
    return render(
        request,
        "backoffice/styleguide.html",
        {
            "form": form,
            "amounts": [Decimal("202.13"), Decimal("1234.5"), Decimal("0"), 3],
            "day": datetime.date(2026, 12, 7),
            "key": word,
            "nouns": [Noun.of("clé Enfance"), Noun.of("code personnel"), Noun.of("identifiant")],
            "colours": [
                ("--color-primary", "Couleur principale de la commune"),
                ("--color-accent", "Seconde couleur de la commune"),
                ("--color-ink", "Texte"),
                ("--color-muted", "Texte secondaire"),
                ("--color-ok", "Succès"),
                ("--color-warn", "Attention"),
                ("--color-danger", "Erreur"),
                ("--color-info", "Information"),
                ("--color-focus", "Focus du clavier"),
            ],
        },
    )
