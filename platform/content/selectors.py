"""Public reads: only published content whose publication date has come."""

from __future__ import annotations

import datetime as dt

from django.shortcuts import get_object_or_404
from django.utils import timezone

from content.models import InfoPage, MenuSite, NewsItem, Reglement, WeeklyMenu


def public_news():
    return NewsItem.objects.visible()


def public_news_item(pk) -> NewsItem:
    return get_object_or_404(NewsItem.objects.visible(), pk=pk)


def public_pages():
    return InfoPage.objects.visible()


def public_page(slug) -> InfoPage:
    return get_object_or_404(InfoPage.objects.visible(), slug=slug)


def public_reglements():
    return Reglement.objects.visible().select_related("service")


def public_reglement(pk) -> Reglement:
    return get_object_or_404(Reglement.objects.visible(), pk=pk)


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def parse_week(value: str | None, today: dt.date | None = None) -> dt.date:
    """ "2026-W03" (ISO week) -> its Monday; anything else -> this week's Monday."""
    today = today or timezone.localdate()
    if value:
        try:
            year, week = value.split("-W")
            return dt.date.fromisocalendar(int(year), int(week), 1)
        except ValueError:
            pass
    return week_start(today)


def iso_week(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def public_menus(monday: dt.date):
    return (
        WeeklyMenu.objects.visible()
        .filter(week_start=monday)
        .select_related("site")
        .prefetch_related("days")
        .order_by("site__position", "site__name")
    )


def menu_sites():
    return MenuSite.objects.all()
