"""Operator console (public schema, /admin/): towns, onboarding from a YAML,
suspend/resume. Onboarding uses the same service as `manage.py onboard_commune`."""

import os

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django_tenants.utils import tenant_context

from tenants import console, import_pages
from tenants.config import ConfigError, validate
from tenants.models import Commune, ConfigVersion, Domain, FailedTask, TownExport
from tenants.onboard_form import TownForm, config_yaml
from tenants.onboarding import onboard_data, onboard_yaml_text, set_status
from tenants.services import Actor
from tenants.tasks import export_town_task
from tenants.town_export import start_export

MAX_YAML_BYTES = 256 * 1024
_GONE = "Ces fichiers ne sont plus disponibles : vérifiez-les à nouveau."


class OnboardForm(forms.Form):
    file = forms.FileField(label="Fichier YAML de la commune", required=False)
    text = forms.CharField(
        label="… ou contenu YAML", widget=forms.Textarea(attrs={"rows": 16}), required=False
    )

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
    list_display = (
        "name",
        "slug",
        "department",
        "status",
        "modules",
        "families",
        "last_migration",
        "pending_migrations",
        "updated_at",
    )
    list_filter = ("status", "department")
    search_fields = ("name", "slug", "insee_code")
    actions = ["suspend", "resume", "invite_admin", "import_families", "export_town"]
    inlines = [DomainInline]
    change_list_template = "admin/tenants/commune/change_list.html"
    # Everything comes from the town's YAML: edit the file and onboard again.
    readonly_fields = (
        "name",
        "slug",
        "schema_name",
        "insee_code",
        "department",
        "department_code",
        "website",
        "contact_label",
        "contact_phone",
        "contact_email",
        "contact_address",
        "status",
        "enabled_modules",
        "config",
        "config_digest",
        "created_at",
        "updated_at",
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

    def changelist_view(self, request, extra_context=None):
        # One query per town schema for its figures, computed once per page.
        request._town_stats = console.town_stats(self.get_queryset(request))
        return super().changelist_view(request, extra_context)

    def _stat(self, request, obj, key):
        stats = getattr(request, "_town_stats", None) or console.town_stats([obj])
        return stats.get(obj.schema_name, {}).get(key)

    @admin.display(description="familles")
    def families(self, obj):
        return self._stat(self._request, obj, "families")

    @admin.display(description="dernière migration")
    def last_migration(self, obj):
        value = self._stat(self._request, obj, "last_migration")
        return value.strftime("%d/%m/%Y %H:%M") if value else "—"

    @admin.display(description="migrations en attente")
    def pending_migrations(self, obj):
        return self._stat(self._request, obj, "pending")

    def get_list_display(self, request):
        self._request = request
        return super().get_list_display(request)

    @admin.action(description="Inviter le premier administrateur de la commune (e-mail)")
    def invite_admin(self, request, queryset):
        return redirect("admin:tenants_commune_invite", queryset.first().pk)

    @admin.action(description="Reprendre les familles d'un ancien portail (import)")
    def import_families(self, request, queryset):
        return redirect("admin:tenants_commune_import", queryset.first().pk)

    @admin.action(description="Export complet de toutes les données (réversibilité)")
    def export_town(self, request, queryset):
        return redirect("admin:tenants_commune_export", queryset.first().pk)

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
            path(
                "integrer/",
                self.admin_site.admin_view(self.onboard_view),
                name="tenants_commune_onboard",
            ),
            path(
                "integrer/formulaire/",
                self.admin_site.admin_view(self.onboard_form_view),
                name="tenants_commune_onboard_form",
            ),
            path(
                "<int:pk>/yaml/",
                self.admin_site.admin_view(self.yaml_view),
                name="tenants_commune_yaml",
            ),
            path(
                "sante/",
                self.admin_site.admin_view(self.health_view),
                name="tenants_commune_health",
            ),
            path(
                "<int:pk>/export/",
                self.admin_site.admin_view(self.export_view),
                name="tenants_commune_export",
            ),
            path(
                "<int:pk>/export/<int:export_pk>/archive/",
                self.admin_site.admin_view(self.export_download_view),
                name="tenants_commune_export_download",
            ),
            path(
                "<int:pk>/reprise/",
                self.admin_site.admin_view(self.import_view),
                name="tenants_commune_import",
            ),
            path(
                "<int:pk>/reprise/importer/",
                self.admin_site.admin_view(self.import_apply_view),
                name="tenants_commune_import_apply",
            ),
            path(
                "<int:pk>/reprise/avancement/",
                self.admin_site.admin_view(self.import_progress_view),
                name="tenants_commune_import_progress",
            ),
            path(
                "<int:pk>/inviter/",
                self.admin_site.admin_view(self.invite_view),
                name="tenants_commune_invite",
            ),
        ] + super().get_urls()

    def _page(self, request, template: str, title: str, **extra):
        """A console page inside the admin's layout (menu, breadcrumbs)."""
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            **extra,
        }
        return TemplateResponse(request, f"admin/tenants/commune/{template}", context)

    @staticmethod
    def _town(pk):
        return Commune.objects.exclude(schema_name="public").filter(pk=pk).first()

    def onboard_view(self, request):
        form = OnboardForm(request.POST or None, request.FILES or None)
        problems = []
        if request.method == "POST" and form.is_valid():
            try:
                result = onboard_yaml_text(
                    form.cleaned_data["yaml"],
                    source=form.cleaned_data["source"],
                    actor=Actor.of(request.user, "public"),
                )
            except ConfigError as exc:
                problems = [str(p) for p in exc.problems]
            else:
                self.message_user(request, result.summary(), messages.SUCCESS)
                return redirect("admin:tenants_commune_changelist")
        return self._page(
            request,
            "onboard.html",
            "Intégrer une commune depuis son fichier YAML",
            form=form,
            problems=problems,
        )

    def onboard_form_view(self, request):
        """A new town from a form: the same configuration dict a YAML gives, the
        same validation and write path (tenants.onboarding.onboard_data)."""
        form = TownForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            config = form.config()
            try:
                if request.POST.get("action") == "yaml":  # download only, nothing written
                    validate(config, source="formulaire")
                    return _yaml_response(config_yaml(config), config["slug"])
                result = onboard_data(
                    config,
                    source="formulaire",
                    actor=Actor.of(request.user, "public"),
                    message="Formulaire de la console",
                    new_only=True,
                    first_admin=form.first_admin(),
                )
            except ConfigError as exc:
                form.show_problems(exc)
            else:
                invited = form.first_admin()
                note = f" Invitation envoyée à {invited['email']}." if invited else ""
                self.message_user(request, result.summary() + note, messages.SUCCESS)
                return redirect("admin:tenants_commune_yaml", result.commune.pk)
        return self._page(
            request, "onboard_form.html", "Intégrer une commune avec le formulaire", form=form
        )

    def yaml_view(self, request, pk):
        """The configuration in force as tenant_configs/<slug>.yaml, to commit."""
        commune = self._town(pk)
        if commune is None:
            return redirect("admin:tenants_commune_changelist")
        if not commune.config:  # a town created outside onboarding (benchmarks)
            messages.error(request, "Cette commune n'a pas de configuration enregistrée.")
            return redirect("admin:tenants_commune_changelist")
        text = config_yaml(commune.config)
        if "telecharger" in request.GET:
            return _yaml_response(text, commune.slug)
        return self._page(
            request, "yaml.html", f"Fichier YAML de {commune.name}", commune=commune, text=text
        )

    def export_view(self, request, pk):
        """Whole-town export (reversibility): start one (a Celery task) and follow
        its progress; each finished archive with its SHA-256."""

        commune = self._town(pk)
        if commune is None:
            return redirect("admin:tenants_commune_changelist")
        if request.method == "POST":
            export = start_export(commune, requested_by=request.user.get_username())
            transaction.on_commit(lambda: export_town_task.delay(export.pk))
            self.message_user(request, "Export lancé : suivez son avancement ci-dessous.")
            return redirect("admin:tenants_commune_export", commune.pk)
        exports = list(TownExport.objects.filter(commune=commune)[:20])
        running = any(e.status == TownExport.Status.RUNNING for e in exports)
        return self._page(
            request,
            "export.html",
            f"Export complet de {commune.name}",
            commune=commune,
            exports=exports,
            running=running,
        )

    # --- families from the town's previous portal (issue 22) -------------------------
    # The same form, checks, dry run, Celery task and templates as the town
    # admin's back-office page (tenants.import_pages), run in the town's schema.

    def import_view(self, request, pk):
        """GET: the form and the last run. POST: the dry run of the uploaded files."""
        commune = self._town(pk)
        if commune is None:
            return redirect("admin:tenants_commune_changelist")
        key = f"console_import_stage_{commune.pk}"
        with tenant_context(commune):
            form = import_pages.ImportForm(request.POST or None, request.FILES or None)
            report, stage_id, status = None, "", 200
            if request.method == "POST":
                files = form.checked_files()
                if files is None:
                    status = 422
                else:
                    preset = form.cleaned_data["preset"]
                    stage_id, report = import_pages.dry_run(request.session, key, files, preset)
                    form = import_pages.ImportForm(initial={"preset": preset})
            response = self._page(
                request,
                "import.html",
                f"Reprise des familles de {commune.name}",
                commune=commune,
                form=form,
                field_template="family_import/_admin_field.html",
                report=report,
                stage_id=stage_id,
                apply_url=reverse("admin:tenants_commune_import_apply", args=[commune.pk]),
                **import_pages.run_context(
                    reverse("admin:tenants_commune_import_progress", args=[commune.pk])
                ),
            )
            response.status_code = status
            return response.render()  # inside the town's schema (the form lists its files)

    def import_apply_view(self, request, pk):
        """The real run of the files checked last, as a Celery task in the town."""
        commune = self._town(pk)
        if commune is None:
            return redirect("admin:tenants_commune_changelist")
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        with tenant_context(commune):
            run = import_pages.start_run(
                request.session,
                f"console_import_stage_{commune.pk}",
                request.POST.get("stage", ""),
                requested_by=f"l'opérateur {request.user.get_username()}",
            )
        if run is None:
            messages.error(request, _GONE)
        else:
            self.message_user(request, "Import lancé : suivez son avancement ci-dessous.")
        return redirect("admin:tenants_commune_import", commune.pk)

    def import_progress_view(self, request, pk):
        """The last run's block alone: htmx polls it every 2 s while it runs."""
        commune = self._town(pk)
        if commune is None:
            raise Http404("Commune inconnue.")
        with tenant_context(commune):
            url = reverse("admin:tenants_commune_import_progress", args=[commune.pk])
            return TemplateResponse(
                request, "family_import/_run.html", import_pages.run_context(url)
            ).render()

    def export_download_view(self, request, pk, export_pk):
        export = TownExport.objects.filter(
            commune_id=pk, pk=export_pk, status=TownExport.Status.DONE
        ).first()
        if export is None or not os.path.exists(export.path):
            raise Http404("Cette archive n'existe plus.")
        return FileResponse(
            open(export.path, "rb"),  # noqa: SIM115 (FileResponse closes it)
            as_attachment=True,
            filename=os.path.basename(export.path),
        )

    def health_view(self, request):
        towns = list(self.get_queryset(request))
        stats = console.town_stats(towns)
        return self._page(
            request,
            "health.html",
            "Santé de la plateforme",
            rows=[(t, stats.get(t.schema_name, {})) for t in towns],
            failed=FailedTask.objects.all()[:50],
        )

    def invite_view(self, request, pk):
        commune = self._town(pk)
        if commune is None:
            return redirect("admin:tenants_commune_changelist")
        form = InviteForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                console.invite_town_admin(commune=commune, **form.cleaned_data)
            except console.InviteError as exc:
                form.add_error("email", str(exc))
            else:
                self.message_user(
                    request,
                    f"Invitation envoyée à {form.cleaned_data['email']} ({commune.name}).",
                    messages.SUCCESS,
                )
                return redirect("admin:tenants_commune_changelist")
        return self._page(
            request,
            "invite.html",
            f"Inviter le premier administrateur de {commune.name}",
            form=form,
            commune=commune,
        )


def _yaml_response(text: str, slug: str) -> HttpResponse:
    response = HttpResponse(text, content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slug}.yaml"'
    return response


class InviteForm(forms.Form):
    email = forms.EmailField(label="Adresse e-mail")
    first_name = forms.CharField(label="Prénom", max_length=80)
    last_name = forms.CharField(label="Nom", max_length=80)


@admin.register(ConfigVersion)
class ConfigVersionAdmin(admin.ModelAdmin):
    list_display = ("commune", "number", "created_at", "actor_display", "source", "message")
    list_filter = ("commune", "source")
    readonly_fields = [f.name for f in ConfigVersion._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(FailedTask)
class FailedTaskAdmin(admin.ModelAdmin):
    list_display = ("created_at", "task_name", "schema_name", "task_id")
    readonly_fields = [f.name for f in FailedTask._meta.fields]

    def has_add_permission(self, request):
        return False
