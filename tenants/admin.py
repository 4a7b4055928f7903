"""Operator console (public schema, /admin/): towns, onboarding from a YAML,
suspend/resume. Onboarding uses the same service as `manage.py onboard_commune`."""
from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path

from tenants.config import ConfigError
from tenants.models import Commune, Domain
from tenants.onboarding import onboard_yaml_text, set_status

MAX_YAML_BYTES = 256 * 1024


class OnboardForm(forms.Form):
    file = forms.FileField(label="Fichier YAML de la commune", required=False)
    text = forms.CharField(label="… ou contenu YAML", widget=forms.Textarea(attrs={"rows": 16}),
                           required=False)

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload:
            if upload.size > MAX_YAML_BYTES:
                raise forms.ValidationError("Fichier trop volumineux (256 Ko au plus).")
            try:
                data["yaml"], data["source"] = upload.read().decode("utf-8"), upload.name
            except UnicodeDecodeError:
                raise forms.ValidationError("Le fichier doit être encodé en UTF-8.") from None
        elif data.get("text", "").strip():
            data["yaml"], data["source"] = data["text"], "contenu collé"
        else:
            raise forms.ValidationError("Choisissez un fichier ou collez son contenu.")
        return data


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0
    fields = ("domain", "is_primary")
    readonly_fields = fields
    can_delete = False


@admin.register(Commune)
class CommuneAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "department", "status", "modules", "updated_at")
    list_filter = ("status", "department")
    search_fields = ("name", "slug", "insee_code")
    actions = ["suspend", "resume"]
    inlines = [DomainInline]
    change_list_template = "admin/tenants/commune/change_list.html"
    # Everything comes from the town's YAML: edit the file and onboard again.
    readonly_fields = (
        "name", "slug", "schema_name", "insee_code", "department", "department_code", "website",
        "contact_label", "contact_phone", "contact_email", "contact_address", "status",
        "enabled_modules", "config", "config_digest", "created_at", "updated_at",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(schema_name="public")

    def has_add_permission(self, request):
        return False  # towns are added by onboarding (button above the list)

    def has_delete_permission(self, request, obj=None):
        return False  # a town's data is never deleted from the console

    @admin.display(description="modules")
    def modules(self, obj):
        return ", ".join(obj.enabled_modules)

    @admin.action(description="Suspendre (page de maintenance, rien n'est supprimé)")
    def suspend(self, request, queryset):
        for commune in queryset:
            set_status(commune, Commune.Status.SUSPENDED)
        self.message_user(request, f"{queryset.count()} commune(s) suspendue(s).")

    @admin.action(description="Réactiver")
    def resume(self, request, queryset):
        for commune in queryset:
            set_status(commune, Commune.Status.ACTIVE)
        self.message_user(request, f"{queryset.count()} commune(s) réactivée(s).")

    def get_urls(self):
        return [
            path("integrer/", self.admin_site.admin_view(self.onboard_view), name="tenants_commune_onboard"),
        ] + super().get_urls()

    def onboard_view(self, request):
        form = OnboardForm(request.POST or None, request.FILES or None)
        problems = []
        if request.method == "POST" and form.is_valid():
            try:
                result = onboard_yaml_text(form.cleaned_data["yaml"], source=form.cleaned_data["source"])
            except ConfigError as exc:
                problems = [str(p) for p in exc.problems]
            else:
                self.message_user(request, result.summary(), messages.SUCCESS)
                return redirect("admin:tenants_commune_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": "Intégrer une commune depuis son fichier YAML",
            "form": form,
            "problems": problems,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/tenants/commune/onboard.html", context)
