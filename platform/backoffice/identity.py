"""The town's identity, edited by its admin (/<slug>/gestion/configuration/identite/):
its two colours (in the configuration: versioned, checked for WCAG AA contrast
by tenants.config like any YAML) and its logo (checked by the one upload
checker, core.uploads: PNG or JPEG, at most 1 Mo)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache

from backoffice.config_views import FIX, render_config_form
from backoffice.views import apply_config, config_copy, town_admin_required
from core import filetypes, town_config
from core.access import GET_POST, TOWN_ADMIN, access
from core.context_processors import LOGO_CACHE_KEY
from core.identity import DEFAULTS, LABELS
from core.models import TownLogo
from core.uploads import check_upload

LOGO_MAX_BYTES = 1024 * 1024
_PRIMARY_HELP = (
    "Format #rrggbb. Fond de l'en-tête et des boutons sous un texte blanc : contraste "
    "d'au moins 4,5:1 (WCAG AA)."
)
_ACCENT_HELP = (
    "Format #rrggbb. Fond clair des cartes sous le texte noir et les liens : contraste "
    "d'au moins 4,5:1 (WCAG AA)."
)


class IdentityForm(forms.Form):
    primary_color = forms.RegexField(
        label="Couleur principale (en-tête, boutons, liens)",
        regex=r"^#[0-9a-fA-F]{6}$",
        error_messages={"invalid": "Couleur attendue au format #rrggbb (ex. #0b4f8a)."},
        widget=forms.TextInput(attrs={"type": "color"}),
        help_text=_PRIMARY_HELP,
    )
    accent_color = forms.RegexField(
        label="Couleur d'accent (fonds clairs des cartes et tableaux)",
        regex=r"^#[0-9a-fA-F]{6}$",
        error_messages={"invalid": "Couleur attendue au format #rrggbb (ex. #eef4fa)."},
        widget=forms.TextInput(attrs={"type": "color"}),
        help_text=_ACCENT_HELP,
    )
    logo = forms.FileField(
        label="Logo (PNG ou JPEG, 1 Mo au plus)",
        required=False,
        help_text="Affiché en haut de chaque page de la commune.",
    )
    remove_logo = forms.BooleanField(label="Retirer le logo actuel", required=False)

    @staticmethod
    def initial_for(config: dict) -> dict:
        identity = config.get("identity") or {}
        return {key: identity.get(key, default) for key, default in DEFAULTS.items()}

    def clean_logo(self):
        upload = self.cleaned_data.get("logo")
        if not upload:
            return None
        try:
            return check_upload(
                upload, allowed=(filetypes.PNG, filetypes.JPEG), limit=LOGO_MAX_BYTES
            )
        except ValidationError as exc:
            raise ValidationError(exc.messages[0]) from None


@transaction.atomic
def set_logo(*, checked, user) -> None:
    logo = TownLogo.objects.select_for_update().first() or TownLogo()
    old = logo.image.name if logo.pk and logo.image else ""
    logo.content_type = checked.content_type
    logo.uploaded_by = user
    logo.image.save(checked.stored_name, checked.as_file(), save=False)
    logo.save()
    if old:
        transaction.on_commit(lambda: logo.image.storage.delete(old))
    cache.delete(LOGO_CACHE_KEY)


@transaction.atomic
def remove_logo() -> None:
    for logo in TownLogo.objects.select_for_update():
        name, storage = logo.image.name, logo.image.storage
        logo.delete()
        transaction.on_commit(lambda n=name, s=storage: s.delete(n))
    cache.delete(LOGO_CACHE_KEY)


@access(TOWN_ADMIN, methods=GET_POST)
@never_cache
@town_admin_required
def identity(request):
    initial = IdentityForm.initial_for(town_config.editable(request.commune))
    form = IdentityForm(request.POST or None, request.FILES or None, initial=initial)
    problems: list[tuple[str, str]] = []
    if request.method == "POST" and form.is_valid():
        data = config_copy(request)
        data["identity"] = {
            key: form.cleaned_data[key].lower() for key in ("primary_color", "accent_color")
        }
        result = None
        if data["identity"] != (town_config.editable(request.commune).get("identity") or {}):
            result = apply_config(request, data, "Identité visuelle de la commune")
        if result is None:
            if form.cleaned_data["logo"]:
                set_logo(checked=form.cleaned_data["logo"], user=request.user)
            elif form.cleaned_data["remove_logo"]:
                remove_logo()
            messages.success(request, "Identité de la commune enregistrée.")
            return redirect("backoffice:config-identity")
        for p in result:
            name = p.key.removeprefix("identity.")
            if name in form.fields:
                form.add_error(name, f"La {LABELS.get(name, name)} est refusée : {p.message}")
            else:
                problems.append((p.key, p.message))
        if not problems:
            problems.append(("", FIX))
    return render_config_form(
        request,
        "backoffice/config_identity.html",
        {"form": form, "logo": TownLogo.objects.first()},
        problems,
        [form] if request.method == "POST" else (),
    )
