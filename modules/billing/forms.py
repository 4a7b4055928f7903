"""Forms: parse input only (rules live in services/pricing); French messages."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django import forms

from .models import DeskPayment
from .pricing import euros


class SimulatorForm(forms.Form):
    """The public tariff simulator: a QF, or the CAF figures to compute it."""

    MODE_QF = "qf"
    MODE_INCOME = "revenus"
    mode = forms.ChoiceField(
        label="Je connais",
        initial=MODE_QF,
        widget=forms.RadioSelect,
        choices=[
            (MODE_QF, "mon quotient familial (attestation CAF ou MSA)"),
            (MODE_INCOME, "mes revenus (calcul du quotient familial)"),
        ],
    )
    qf = forms.IntegerField(
        label="Quotient familial (en euros)",
        required=False,
        min_value=0,
        max_value=100_000,
        error_messages={
            "invalid": "Saisissez un nombre entier d'euros, par exemple 850.",
            "min_value": "Le quotient familial ne peut pas être négatif.",
            "max_value": "Ce quotient familial est trop élevé : vérifiez-le.",
        },
    )
    annual_income = forms.DecimalField(
        label="Revenus annuels du foyer (en euros)",
        required=False,
        min_value=0,
        max_digits=10,
        decimal_places=2,
        help_text="Revenus nets catégoriels de l'année N-2 (avis d'imposition).",
        error_messages={
            "invalid": "Saisissez un montant en euros, par exemple 32000.",
            "min_value": "Les revenus ne peuvent pas être négatifs.",
        },
    )
    monthly_benefits = forms.DecimalField(
        label="Prestations familiales mensuelles (en euros)",
        required=False,
        min_value=0,
        max_digits=8,
        decimal_places=2,
        initial=Decimal(0),
        error_messages={
            "invalid": "Saisissez un montant en euros, par exemple 140.",
            "min_value": "Les prestations ne peuvent pas être négatives.",
        },
    )
    children = forms.IntegerField(
        label="Nombre d'enfants à charge",
        required=False,
        min_value=0,
        max_value=15,
        error_messages={
            "invalid": "Saisissez un nombre d'enfants.",
            "min_value": "Le nombre d'enfants ne peut pas être négatif.",
        },
    )
    child_rank = forms.IntegerField(
        label="Rang de l'enfant inscrit dans la fratrie",
        initial=1,
        min_value=1,
        max_value=15,
        required=False,
        help_text="1 pour l'aîné, 2 pour le deuxième… (réductions fratrie)",
        error_messages={
            "min_value": "Le rang commence à 1.",
            "invalid": "Saisissez un rang : 1, 2, 3…",
        },
    )
    resident = forms.BooleanField(label="J'habite la commune", required=False, initial=True)
    child = forms.ChoiceField(
        label="Pour quel enfant ?",
        required=False,
        initial="scolaire",
        widget=forms.RadioSelect,
        choices=[
            ("scolaire", "un enfant scolarisé (école maternelle ou élémentaire)"),
            ("petite_enfance", "un jeune enfant pas encore scolarisé (crèche, multi-accueil)"),
        ],
        error_messages={"invalid_choice": "Choisissez l'un des deux types d'enfant."},
    )

    def clean(self):
        data = super().clean()
        data["child"] = data.get("child") or "scolaire"
        if data.get("mode") == self.MODE_INCOME:
            if data.get("annual_income") is None:
                self.add_error("annual_income", "Indiquez les revenus annuels du foyer.")
            if data.get("children") is None:
                self.add_error("children", "Indiquez le nombre d'enfants à charge.")
        return data


class MandateForm(forms.Form):
    holder_name = forms.CharField(
        label="Titulaire du compte",
        max_length=200,
        required=False,
        help_text="Nom et prénom tels qu'ils figurent sur le RIB.",
    )
    iban = forms.CharField(
        label="IBAN",
        max_length=60,
        required=False,
        help_text="27 caractères pour un compte français : FR76 3000 …",
    )
    accepted = forms.BooleanField(
        required=False,
        label="J'autorise la commune à envoyer des instructions à ma banque pour débiter mon "
        "compte, et ma banque à le débiter, conformément à ces instructions (mandat SEPA).",
    )


class EInvoiceForm(forms.Form):
    e_invoice = forms.BooleanField(
        required=False, label="Je reçois mes factures en ligne uniquement (plus de facture papier)"
    )


class CreditForm(forms.Form):
    reason = forms.CharField(label="Motif", max_length=255, required=False)


class RunForm(forms.Form):
    month = forms.RegexField(
        regex=r"^\d{4}-\d{2}$",
        label="Mois à facturer (AAAA-MM)",
        error_messages={"invalid": "Mois attendu au format AAAA-MM."},
    )


class CreditHandledForm(forms.Form):
    """The régie says what it did with a credit (« trop-perçu »)."""

    credit = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    note = forms.CharField(
        label="Suite donnée",
        max_length=255,
        help_text=(
            "Par exemple : remboursé par virement le 9 décembre, "
            "ou déduit de la facture de janvier."
        ),
        error_messages={"required": "Indiquez la suite donnée (remboursement, déduction…)."},
    )


class RejectionForm(forms.Form):
    reason = forms.CharField(label="Motif du rejet", max_length=255, required=False)


class DeskPaymentForm(forms.Form):
    """Money received at the desk, allocated explicitly to the household's open
    invoices (one amount field per invoice, `invoice_<pk>`). The hidden
    idempotency key makes a double submit record one payment."""

    means = forms.ChoiceField(
        label="Moyen de paiement",
        choices=[],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choisissez le moyen de paiement.",
            "invalid_choice": "Choisissez le moyen de paiement dans la liste.",
        },
    )
    cheque_number = forms.CharField(label="Numéro du chèque", max_length=30, required=False)
    bank = forms.CharField(label="Banque", max_length=80, required=False)
    reference = forms.CharField(
        label="Référence (titre CESU, ticket de carte…)", max_length=80, required=False
    )
    note = forms.CharField(label="Commentaire", max_length=255, required=False)
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, invoices=(), **kwargs):
        kwargs.setdefault("initial", {}).setdefault("idempotency_key", uuid.uuid4())
        super().__init__(*args, **kwargs)
        self.fields["means"].choices = DeskPayment.Means.choices
        self.invoices = list(invoices)
        for inv in self.invoices:
            self.fields[f"invoice_{inv.pk}"] = forms.CharField(
                label=f"Facture {inv.number} ({inv.period_label}), reste à payer "
                f"{euros(inv.balance)}",
                required=False,
                max_length=14,
                widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
            )

    def allocations(self) -> list[tuple[int, str]]:
        return [(inv.pk, self.cleaned_data.get(f"invoice_{inv.pk}") or "") for inv in self.invoices]

    def invoice_fields(self):
        return [(inv, self[f"invoice_{inv.pk}"]) for inv in self.invoices]


WEEKDAY_CHOICES = [
    (0, "lundi"),
    (1, "mardi"),
    (2, "mercredi"),
    (3, "jeudi"),
    (4, "vendredi"),
    (5, "samedi"),
    (6, "dimanche"),
]


class PayerRuleForm(forms.Form):
    """Who pays a child's days (separated parents); checked by payers._clean."""

    kind = forms.ChoiceField(
        label="Qui paie les journées ?",
        widget=forms.RadioSelect,
        choices=[
            ("booker", "Le parent qui réserve une journée la paie"),
            ("alternate_weeks", "Une semaine sur deux (garde alternée)"),
            ("weekdays", "Selon les jours de la semaine"),
            ("split", "Chaque journée est partagée en pourcentage"),
            ("home", "Un seul foyer paie tout"),
        ],
        error_messages={"required": "Choisissez une règle."},
    )
    household_a = forms.TypedChoiceField(label="Foyer A", coerce=int)
    household_b = forms.TypedChoiceField(
        label="Foyer B", coerce=int, required=False, empty_value=None
    )
    reference_monday = forms.DateField(
        label="Garde alternée : un lundi d'une semaine passée chez le foyer A",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Date attendue au format JJ/MM/AAAA."},
    )
    weekdays_a = forms.TypedMultipleChoiceField(
        label="Jours payés par le foyer A",
        choices=WEEKDAY_CHOICES,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    percent_a = forms.IntegerField(
        label="Partage : part du foyer A (en %)",
        required=False,
        min_value=1,
        max_value=99,
        error_messages={
            "invalid": "Saisissez un nombre entier, par exemple 50.",
            "min_value": "La part doit être comprise entre 1 et 99 %%.",
            "max_value": "La part doit être comprise entre 1 et 99 %%.",
        },
    )

    def __init__(self, *args, households=(), names=None, **kwargs):
        super().__init__(*args, **kwargs)
        names = names or {}
        choices = [(h.pk, names.get(h.pk, h.name)) for h in households]
        self.fields["household_a"].choices = choices
        self.fields["household_b"].choices = [("", "—"), *choices]
