"""Forms of the family pages. Field rules live on the models and in
families.validators (shared with the API serializers)."""

from __future__ import annotations

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
