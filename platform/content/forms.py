"""Staff forms of the public space. Files go through core.uploads (content
checked, images re-encoded); rich text through content.richtext (nh3)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile

from content.models import (
    InfoPage,
    MenuDay,
    MenuSite,
    NewsAttachment,
    NewsItem,
    Reglement,
    WeeklyMenu,
)
from content.richtext import sanitize
from core import filetypes
from core.uploads import check_upload

RICH_HELP = (
    "Mise en forme permise : paragraphes, titres (h2 à h4), listes, gras, italique, liens, "
    "tableaux simples. Le reste (scripts, styles) est retiré à l'enregistrement."
)


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def _checked_file(uploaded, allowed) -> ContentFile:
    checked = check_upload(uploaded, allowed=allowed)
    upload = ContentFile(checked.content, name=f"fichier.{checked.extension}")
    upload.checked = checked
    return upload


class PublishableForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "published_at" in self.fields:
            self.fields["published_at"].widget = DateTimeInput()
        if "body" in self.fields:
            self.fields["body"].help_text = RICH_HELP
            self.fields["body"].widget.attrs["rows"] = 12

    def clean_body(self):
        return sanitize(self.cleaned_data.get("body", ""))


class NewsForm(PublishableForm):
    class Meta:
        model = NewsItem
        fields = ["title", "summary", "body", "image", "image_alt", "status", "published_at"]

    def clean_image(self):
        image = self.cleaned_data.get("image")
        return (
            _checked_file(image, (filetypes.PNG, filetypes.JPEG))
            if isinstance(image, UploadedFile)
            else image
        )

    def clean(self):
        data = super().clean()
        if data.get("image") and not data.get("image_alt"):
            # RGAA 1.1/1.2: an informative image needs a text alternative.
            self.add_error("image_alt", "Décrivez l'image en quelques mots (texte alternatif).")
        return data


class NewsAttachmentForm(forms.ModelForm):
    class Meta:
        model = NewsAttachment
        fields = ["title", "file"]

    def clean_file(self):
        return _checked_file(
            self.cleaned_data["file"], (filetypes.PDF, filetypes.PNG, filetypes.JPEG)
        )

    def save(self, commit=True):
        obj = super().save(commit=False)
        checked = self.cleaned_data["file"].checked
        obj.content_type, obj.size = checked.content_type, checked.size
        if commit:
            obj.save()
        return obj


class InfoPageForm(PublishableForm):
    class Meta:
        model = InfoPage
        fields = ["title", "slug", "summary", "body", "position", "status", "published_at"]
        help_texts = {"slug": "Lettres minuscules, chiffres et tirets : /infos/<adresse>/"}


class ReglementForm(PublishableForm):
    class Meta:
        model = Reglement
        fields = ["title", "service", "summary", "file", "status", "published_at"]

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        return (
            _checked_file(upload, (filetypes.PDF,)) if isinstance(upload, UploadedFile) else upload
        )

    def save(self, commit=True):
        obj = super().save(commit=False)
        checked = getattr(self.cleaned_data.get("file"), "checked", None)
        if checked:
            obj.size = checked.size
        if commit:
            obj.save()
        return obj


class MenuSiteForm(forms.ModelForm):
    class Meta:
        model = MenuSite
        fields = ["name", "position"]


class WeeklyMenuForm(PublishableForm):
    class Meta:
        model = WeeklyMenu
        fields = ["site", "week_start", "note", "status", "published_at"]
        widgets = {"week_start": DateInput()}

    def clean_week_start(self):
        day = self.cleaned_data["week_start"]
        if day.weekday() != 0:
            raise forms.ValidationError("Indiquez le lundi de la semaine.")
        return day


class MenuDayForm(forms.ModelForm):
    class Meta:
        model = MenuDay
        fields = ["date", "starter", "main", "side", "dairy", "dessert", "allergens"]
        widgets = {"date": DateInput()}


class BaseMenuDayFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        monday = self.instance.week_start
        for form in self.forms:
            day = form.cleaned_data.get("date") if hasattr(form, "cleaned_data") else None
            if day and monday and not monday <= day <= monday + dt.timedelta(days=6):
                form.add_error("date", "Ce jour n'appartient pas à la semaine du menu.")


MenuDayFormSet = forms.inlineformset_factory(
    WeeklyMenu,
    MenuDay,
    form=MenuDayForm,
    formset=BaseMenuDayFormSet,
    extra=1,
    can_delete=True,
)

# A new week: Monday to Friday, pre-dated.
NewMenuDayFormSet = forms.inlineformset_factory(
    WeeklyMenu,
    MenuDay,
    form=MenuDayForm,
    formset=BaseMenuDayFormSet,
    extra=5,
    can_delete=False,
)
