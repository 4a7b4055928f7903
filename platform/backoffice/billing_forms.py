"""Forms of billing's régies and SEPA direct-debit creditor (module_settings.billing):
the town admin edits them without YAML. modules/billing validates the result
(IBAN and its French RIB key with schwifty, ICS, every billed service in one régie)."""

from __future__ import annotations

from django import forms

from backoffice.forms import change_reason
from backoffice.service_forms import CODE


class DirectDebitForm(forms.Form):
    offered = forms.BooleanField(
        label="Proposer le prélèvement automatique (SEPA) aux familles", required=False
    )
    creditor_name = forms.CharField(label="Nom du créancier", required=False, max_length=70)
    creditor_id = forms.CharField(
        label="Identifiant créancier SEPA (ICS)",
        required=False,
        max_length=35,
        help_text="Ex. : FR72ZZZ123456 (attribué par la Banque de France).",
    )
    iban = forms.CharField(label="IBAN du compte crédité", required=False, max_length=42)
    bic = forms.CharField(label="BIC", required=False, max_length=11)
    starts = forms.ChoiceField(
        label="Première facture prélevée après l'adhésion",
        choices=[("next_invoice", "la facture suivante"), ("september", "la facture de septembre")],
        required=False,
    )
    message = change_reason()

    @staticmethod
    def initial_for(billing: dict) -> dict:
        dd = billing.get("direct_debit") or {}
        return {
            "offered": bool(dd),
            **{k: dd.get(k, "") for k in ("creditor_name", "creditor_id", "iban", "bic")},
            "starts": dd.get("starts", "next_invoice"),
        }

    def clean(self):
        d = super().clean()
        if d.get("offered"):
            for name in ("creditor_name", "creditor_id", "iban", "bic"):
                if not (d.get(name) or "").strip():
                    self.add_error(name, "Obligatoire pour proposer le prélèvement.")
        for name in ("creditor_id", "iban", "bic"):
            if d.get(name):
                d[name] = d[name].replace(" ", "").upper()
        return d

    def apply_to(self, billing: dict) -> None:
        d = self.cleaned_data
        if not d["offered"]:
            billing.pop("direct_debit", None)
            return
        billing["direct_debit"] = {
            "creditor_name": d["creditor_name"].strip(),
            "creditor_id": d["creditor_id"],
            "iban": d["iban"],
            "bic": d["bic"],
            "starts": d["starts"] or "next_invoice",
        }


class RegieForm(forms.Form):
    code = forms.CharField(label="Code de la régie", max_length=40, validators=[CODE])
    name = forms.CharField(label="Nom de la régie", max_length=160)
    services = forms.MultipleChoiceField(
        label="Services facturés par cette régie",
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(self, *args, service_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["services"].choices = service_choices


class BaseRegieFormSet(forms.BaseFormSet):
    def __init__(self, *args, service_choices=(), **kwargs):
        self.service_choices = service_choices
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "service_choices": self.service_choices}

    def clean(self):
        if any(self.errors):
            return
        codes = [f.cleaned_data["code"] for f in self._kept()]
        if len(codes) != len(set(codes)):
            raise forms.ValidationError("Deux régies ne peuvent pas avoir le même code.")

    def _kept(self):
        return [f for f in self.forms if f.cleaned_data and not self._should_delete_form(f)]

    def regies(self) -> list[dict]:
        return [
            {
                "code": f.cleaned_data["code"],
                "name": f.cleaned_data["name"],
                "services": list(f.cleaned_data["services"]),
            }
            for f in self._kept()
        ]


RegieFormSet = forms.formset_factory(
    RegieForm, formset=BaseRegieFormSet, extra=1, can_delete=True, max_num=20, validate_max=True
)
