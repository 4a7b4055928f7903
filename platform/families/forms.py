"""Forms of the family pages. Field rules live on the models and in
families.validators (shared with the API serializers)."""

from __future__ import annotations

from datetime import date

from django import forms
from django.utils import timezone

from families import services, validators
from families.models import Adult, Child, EntourageMember, HealthSheet, Household


class _PhoneMixin:
    phone_fields: tuple[str, ...] = ("phone",)

    def clean(self):
        data = super().clean()
        for name in self.phone_fields:
            if data.get(name):
                try:
                    data[name] = validators.normalize_phone(data[name])
                except forms.ValidationError as exc:
                    self.add_error(name, exc)
        return data


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class AddressForm(forms.ModelForm):
    class Meta:
        model = Household
        fields = services.ADDRESS_FIELDS
        widgets = {
            "postcode": forms.TextInput(
                attrs={"inputmode": "numeric", "autocomplete": "postal-code"}
            )
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for f in self.fields.values():
            f.required = True
        self.fields["address_line"].widget.attrs["autocomplete"] = "street-address"
        self.fields["city"].widget.attrs["autocomplete"] = "address-level2"


class ContactsForm(_PhoneMixin, forms.ModelForm):
    class Meta:
        model = Adult
        fields = services.CONTACT_FIELDS
        widgets = {
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Every guide: the private space needs a personal e-mail address.
        self.fields["email"].required = True


class EntourageForm(_PhoneMixin, forms.ModelForm):
    class Meta:
        model = EntourageMember
        fields = services.ENTOURAGE_FIELDS
        widgets = {"phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"})}

    def clean(self):
        data = super().clean()
        validators.check_entourage(data)
        return data


class HealthSheetForm(_PhoneMixin, forms.ModelForm):
    phone_fields = ("doctor_phone",)

    class Meta:
        model = HealthSheet
        fields = services.HEALTH_FIELDS
        widgets = {
            "allergies": forms.Textarea(attrs={"rows": 3}),
            "pai_details": forms.Textarea(attrs={"rows": 3}),
            "doctor_phone": forms.TextInput(attrs={"type": "tel"}),
        }


class QuotientFamilialForm(forms.ModelForm):
    class Meta:
        model = Household
        fields = services.QF_FIELDS
        widgets = {"qf_date": DateInput(), "quotient_familial": forms.NumberInput(attrs={"min": 0})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("quotient_familial", "qf_source", "qf_date", "allocataire_regime"):
            self.fields[name].required = True
        # Only API Particulier gives the « obtenu auprès de la CAF/MSA » sources.
        api = {Household.QFSource.API_CAF, Household.QFSource.API_MSA}
        self.fields["qf_source"].choices = [
            c for c in self.fields["qf_source"].choices if c[0] not in api
        ]

    def clean(self):
        data = super().clean()
        validators.check_quotient_familial(data, today=timezone.localdate())
        return data


class ChildForm(forms.ModelForm):
    class Meta:
        model = Child
        fields = services.CHILD_FIELDS
        widgets = {"birth_date": DateInput()}

    def clean(self):
        data = super().clean()
        validators.check_child(data, today=timezone.localdate())
        return data


class QFFromCAFForm(forms.Form):
    """Consent and the identity API Particulier asks for (filled from
    FranceConnect when the parent signed in with it)."""

    consent = forms.BooleanField(
        label="J'autorise la mairie à obtenir mon quotient familial auprès de la CAF ou de la MSA.",
        error_messages={"required": "Cochez la case pour donner votre accord."},
    )
    birth_name = forms.CharField(label="Nom de naissance", max_length=80)
    first_names = forms.CharField(
        label="Prénoms", max_length=120, help_text="Tous vos prénoms, séparés par un espace."
    )
    sex = forms.ChoiceField(
        label="Sexe à l'état civil",
        choices=[("", "— choisir —"), ("F", "féminin"), ("M", "masculin")],
    )
    birth_date = forms.DateField(label="Date de naissance", widget=DateInput())
    born_abroad = forms.BooleanField(label="Je suis né ou née à l'étranger", required=False)
    birth_commune = forms.CharField(
        label="Code INSEE de votre commune de naissance",
        max_length=5,
        required=False,
        help_text="5 caractères, ex. 81065 pour Castres (différent du code postal).",
    )

    birth_country = forms.CharField(
        label="Code INSEE de votre pays de naissance",
        max_length=5,
        required=False,
        help_text="Né ou née à l'étranger : 5 chiffres commençant par 99, ex. 99351 (Tunisie).",
    )

    def clean_birth_country(self):
        value = (self.cleaned_data.get("birth_country") or "").strip()
        if value and not (len(value) == 5 and value.isdigit() and value.startswith("99")):
            raise forms.ValidationError("Le code du pays a 5 chiffres et commence par 99.")
        return value

    def clean_birth_commune(self):
        value = (self.cleaned_data.get("birth_commune") or "").strip().upper()
        if value and not (len(value) == 5 and value[:2].isalnum() and value[2:].isdigit()):
            raise forms.ValidationError("Le code INSEE a 5 caractères, ex. 81065.")
        return value

    def clean(self):
        data = super().clean()
        if data.get("born_abroad"):
            if not data.get("birth_country") and "birth_country" not in self.errors:
                self.add_error(
                    "birth_country", "Indiquez le code INSEE de votre pays de naissance."
                )
        elif not data.get("birth_commune") and "birth_commune" not in self.errors:
            self.add_error("birth_commune", "Indiquez le code INSEE de votre commune de naissance.")
        born = data.get("birth_date")
        if born and not (date(1900, 1, 1) <= born <= timezone.localdate()):
            self.add_error("birth_date", "Cette date de naissance n'est pas possible.")
        return data
