"""Staff pages of the public space: /<commune>/gestion/contenu/. Every town
agent may edit it (the brief: "town staff edit all of it")."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib import messages
from django.db import models, transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.permissions import staff_required
from content import forms, services
from content.history import deletions, versions
from content.models import InfoPage, MenuSite, NewsAttachment, NewsItem, Reglement, WeeklyMenu
from core.access import GET_POST, POST, STAFF, access


@dataclass(frozen=True)
class Kind:
    model: type[models.Model]
    form: type
    label: str  # French, plural
    new_label: str


KINDS = {
    "actualites": Kind(NewsItem, forms.NewsForm, "Actualités", "Nouvelle actualité"),
    "menus": Kind(WeeklyMenu, forms.WeeklyMenuForm, "Menus de la semaine", "Nouveau menu"),
    "pages": Kind(InfoPage, forms.InfoPageForm, "Pages d'information", "Nouvelle page"),
    "reglements": Kind(
        Reglement, forms.ReglementForm, "Règlements intérieurs", "Nouveau règlement"
    ),
    "restaurants": Kind(
        MenuSite, forms.MenuSiteForm, "Restaurants scolaires", "Nouveau restaurant"
    ),
}


def _kind(code) -> Kind:
    if code not in KINDS:
        raise Http404
    return KINDS[code]


@access(STAFF())
@staff_required()
@never_cache
def home(request):
    sections = [
        (code, kind, kind.model.objects.all()[:50], deletions(kind.model, limit=5))
        for code, kind in KINDS.items()
    ]
    return render(request, "content/staff/home.html", {"sections": sections})


@access(STAFF(), methods=GET_POST, pk="news")
@staff_required()
@never_cache
def edit(request, kind_code, pk=None):
    kind = _kind(kind_code)
    obj = get_object_or_404(kind.model, pk=pk) if pk else None
    form = kind.form(request.POST or None, request.FILES or None, instance=obj)
    days = _days_formset(request, kind, obj, form)
    if request.method == "POST":
        if form.is_valid() and (days is None or days.is_valid()):
            obj = services.save_content(form=form, days=days, author=request.user)
            messages.success(request, "Enregistré.")
            return redirect("content:staff-edit", kind_code=kind_code, pk=obj.pk)
    context = {
        "kind": kind,
        "kind_code": kind_code,
        "obj": obj,
        "form": form,
        "days": days,
        "status": 400 if request.method == "POST" else 200,
    }
    if isinstance(obj, NewsItem):
        context["attachments"] = obj.attachments.all()
        context["attachment_form"] = forms.NewsAttachmentForm()
    return render(request, "content/staff/edit.html", context, status=context["status"])


def _days_formset(request, kind, obj, form):
    if kind.model is not WeeklyMenu:
        return None
    if request.method == "POST":
        # The formset validates dates against the week being saved.
        instance = obj or WeeklyMenu()
        if form.is_valid():
            instance.week_start = form.cleaned_data["week_start"]
        return forms.MenuDayFormSet(request.POST, instance=instance, prefix="jours")
    if obj is not None:
        return forms.MenuDayFormSet(instance=obj, prefix="jours")
    today = timezone.localdate()
    monday = today + dt.timedelta(days=7 - today.weekday())  # next week's menu, usually
    form.initial.setdefault("week_start", monday)
    return forms.NewMenuDayFormSet(
        instance=WeeklyMenu(),
        prefix="jours",
        initial=[{"date": monday + dt.timedelta(days=i)} for i in range(5)],
    )


@access(STAFF(), methods=POST, pk="news")
@staff_required()
@require_POST
def delete(request, kind_code, pk):
    kind = _kind(kind_code)
    obj = get_object_or_404(kind.model, pk=pk)
    try:
        services.delete_content(obj=obj)
    except models.ProtectedError:
        messages.error(request, "Impossible de supprimer : des menus utilisent ce restaurant.")
        return redirect("content:staff-edit", kind_code=kind_code, pk=pk)
    messages.success(request, "Supprimé.")
    return redirect("content:staff-home")


@access(STAFF(), methods=POST, pk="news")
@staff_required()
@require_POST
def add_attachment(request, pk):
    news = get_object_or_404(NewsItem, pk=pk)
    form = forms.NewsAttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        with transaction.atomic():
            attachment = form.save(commit=False)
            attachment.news = news
            attachment.position = news.attachments.count()
            attachment.save()
        messages.success(request, "Document joint ajouté.")
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect("content:staff-edit", kind_code="actualites", pk=pk)


@access(STAFF(), methods=POST, pk="news")
@staff_required()
@require_POST
def delete_attachment(request, pk, attachment_pk):
    attachment = get_object_or_404(NewsAttachment, pk=attachment_pk, news_id=pk)
    services.delete_content(obj=attachment)
    messages.success(request, "Document joint retiré.")
    return redirect("content:staff-edit", kind_code="actualites", pk=pk)


@access(STAFF(), pk="news")
@staff_required()
@never_cache
def history(request, kind_code, pk):
    """Every version of one content: who, when, which fields (simple_history)."""

    kind = _kind(kind_code)
    rows = versions(kind.model, pk)
    if not rows:
        raise Http404
    current = kind.model.objects.filter(pk=pk).first()
    return render(
        request,
        "content/staff/history.html",
        {"kind": kind, "kind_code": kind_code, "obj": current, "pk": pk, "versions": rows},
    )
