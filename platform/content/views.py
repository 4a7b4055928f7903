"""Public space of a town (no login) and its generated legal pages."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse

from content import accessibility, selectors
from content.models import MenuSite
from core import town_config
from core.access import PUBLIC, access
from core.filetypes import download_name
from core.front_page import merged_contacts
from documents.personal_data import retention_years
from documents.views import attachment


def _public_file(fieldfile, *, filename: str, content_type: str, inline: bool = False):
    return attachment(
        fieldfile.open("rb"),
        filename=filename,
        content_type=content_type,
        inline=inline,
        private=False,
    )


@access(PUBLIC)
def news_list(request):
    page = Paginator(selectors.public_news(), 10).get_page(request.GET.get("page"))
    return render(request, "content/news_list.html", {"page": page})


@access(PUBLIC, pk="news")
def news_detail(request, pk):
    item = selectors.public_news_item(pk)
    return render(
        request, "content/news_detail.html", {"item": item, "attachments": item.attachments.all()}
    )


@access(PUBLIC, pk="news")
def news_image(request, pk):
    item = selectors.public_news_item(pk)
    if not item.image:
        raise Http404
    ext = item.image.name.rsplit(".", 1)[-1]
    # The image was re-encoded by Pillow on upload: safe to show inline.
    return _public_file(
        item.image,
        filename=f"actualite-{item.pk}.{ext}",
        inline=True,
        content_type="image/png" if ext == "png" else "image/jpeg",
    )


@access(PUBLIC, pk="news")
def news_attachment(request, pk, attachment_pk):
    item = selectors.public_news_item(pk)
    att = item.attachments.filter(pk=attachment_pk).first()
    if att is None:
        raise Http404
    return _public_file(
        att.file,
        filename=download_name(att.title, att.file.name.rsplit(".", 1)[-1]),
        content_type=att.content_type,
    )


@access(PUBLIC)
def menus(request):
    monday = selectors.parse_week(request.GET.get("semaine"))
    site_id = request.GET.get("restaurant", "")
    week_menus = selectors.public_menus(monday)
    if site_id.isdigit():
        week_menus = week_menus.filter(site_id=int(site_id))
    sunday = monday + dt.timedelta(days=6)
    return render(
        request,
        "content/menus.html",
        {
            "monday": monday,
            "week": selectors.iso_week(monday),
            "friday": monday + dt.timedelta(days=4),
            "sunday": sunday,
            "menus": week_menus,
            "sites": MenuSite.objects.all(),
            "site_id": site_id,
            "previous_week": selectors.iso_week(monday - dt.timedelta(days=7)),
            "next_week": selectors.iso_week(monday + dt.timedelta(days=7)),
            "this_week": selectors.iso_week(selectors.parse_week(None)),
        },
    )


@access(PUBLIC)
def pages(request):
    return render(request, "content/pages.html", {"pages": selectors.public_pages()})


@access(PUBLIC)
def page(request, slug):
    return render(request, "content/page.html", {"page": selectors.public_page(slug)})


@access(PUBLIC)
def reglements(request):
    return render(request, "content/reglements.html", {"reglements": selectors.public_reglements()})


@access(PUBLIC, pk="reglement")
def reglement_file(request, pk):
    reglement = selectors.public_reglement(pk)
    return _public_file(
        reglement.file,
        filename=download_name(reglement.title, "pdf"),
        content_type="application/pdf",
    )


@access(PUBLIC)
def contacts(request):
    contacts = merged_contacts(town_config.contacts())  # each desk once
    return render(request, "content/contacts.html", {"contacts": contacts})


def _data_protection(commune) -> dict:
    """The town's `data_protection` section (tenant_configs/schema.json), with defaults."""
    dp = dict(town_config.section(commune, "data_protection", {}))

    dp.setdefault("controller", f"Commune de {commune.name}, représentée par son maire")
    dp.setdefault("publication_director", f"Le maire de {commune.name}")
    dp.setdefault("accessibility_contact", commune.contact_email)
    dp["retention_years"] = retention_years(commune)
    return dp


@access(PUBLIC)
def accessibility_statement(request):
    commune = request.commune
    return render(
        request,
        "content/accessibility.html",
        {
            "dp": _data_protection(commune),
            "a11y": accessibility,
            "checked": [(label, reverse(name)) for label, name in accessibility.CHECKED_PAGES],
            "site_url": f"{settings.SITE_URL}/{commune.slug}/",
        },
    )


@access(PUBLIC)
def legal(request):
    return render(
        request,
        "content/legal.html",
        {
            "dp": _data_protection(request.commune),
            "site_url": f"{settings.SITE_URL}/{request.commune.slug}/",
        },
    )


@access(PUBLIC)
def privacy(request):
    return render(request, "content/privacy.html", {"dp": _data_protection(request.commune)})
