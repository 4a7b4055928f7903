"""Demo public space of a town (fictitious content; run inside its schema by
`manage.py rundemo`). Idempotent: a town that already has news is left alone."""

from __future__ import annotations

import datetime as dt

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from content.models import (
    InfoPage,
    MenuDay,
    MenuSite,
    NewsAttachment,
    NewsItem,
    Reglement,
    WeeklyMenu,
)
from content.selectors import week_start
from documents.editions import simple_pdf

MENUS = [
    # (starter, main, side, dairy, dessert, allergens) — Monday, Tuesday, Thursday, Friday
    (
        "Carottes râpées",
        "Poisson pané",
        "Riz pilaf",
        "Yaourt nature",
        "Pomme",
        "poisson, gluten, lait",
    ),
    (
        "Salade de lentilles",
        "Poulet rôti",
        "Haricots verts",
        "Emmental",
        "Compote",
        "lait, moutarde",
    ),
    (
        "Betteraves vinaigrette",
        "Lasagnes végétariennes",
        "Salade verte",
        "",
        "Fromage blanc",
        "gluten, lait, œuf",
    ),
    (
        "Potage de légumes",
        "Sauté de porc (ou omelette)",
        "Purée",
        "Camembert",
        "Tarte aux pommes",
        "lait, œuf, gluten",
    ),
]
MENUS_NEXT = [
    ("Concombre à la crème", "Hachis parmentier", "Salade", "", "Banane", "lait"),
    (
        "Taboulé",
        "Filet de colin",
        "Épinards",
        "Saint-Paulin",
        "Crème vanille",
        "gluten, poisson, lait",
    ),
    ("Radis beurre", "Chili sin carne", "Riz", "Yaourt aux fruits", "Orange", "lait"),
    (
        "Salade de tomates",
        "Rôti de dinde",
        "Pâtes",
        "Comté",
        "Éclair au chocolat",
        "gluten, lait, œuf",
    ),
]


def _menu(site, monday, days, now):
    menu = WeeklyMenu.objects.create(
        site=site, week_start=monday, status="published", published_at=now
    )
    weekdays = [0, 1, 3, 4]  # no school restaurant on Wednesdays (ALSH menus are separate)
    for offset, (starter, main, side, dairy, dessert, allergens) in zip(
        weekdays, days, strict=True
    ):
        MenuDay.objects.create(
            menu=menu,
            date=monday + dt.timedelta(days=offset),
            starter=starter,
            main=main,
            side=side,
            dairy=dairy,
            dessert=dessert,
            allergens=allergens,
        )


def _menus(now) -> None:
    """This week's and next week's menus (a later run adds the weeks since)."""
    site = MenuSite.objects.order_by("position", "pk").first() or MenuSite.objects.create(
        name="Restaurant scolaire des écoles publiques", position=0
    )
    monday = week_start(timezone.localdate())
    for start, days in ((monday, MENUS), (monday + dt.timedelta(days=7), MENUS_NEXT)):
        if not WeeklyMenu.objects.filter(site=site, week_start=start).exists():
            _menu(site, start, days, now)


@transaction.atomic
def load(commune) -> None:
    """The demo public space; every run makes sure this week's menus exist."""
    _menus(timezone.now())
    if NewsItem.objects.filter(title__startswith="Rentrée scolaire").exists():
        return
    now = timezone.now()
    year = timezone.localdate().year
    school_year = f"{year}-{year + 1}" if timezone.localdate().month >= 8 else f"{year - 1}-{year}"

    NewsItem.objects.create(
        title=f"Rentrée scolaire {school_year}",
        summary="Horaires des écoles, accueils périscolaires et prochaines vacances.",
        body=(
            "<p>Les écoles de la commune accueillent les enfants dès 8 h 30. Les accueils "
            "périscolaires du "
            "matin et du soir reprennent dès le premier jour.</p><ul><li>Inscriptions et "
            "réservations : "
            "sur votre espace famille.</li><li>Menus de la restauration scolaire : rubrique "
            "« Menus ».</li></ul>"
        ),
        status="published",
        published_at=now - dt.timedelta(days=3),
    )
    guide = NewsItem.objects.create(
        title=f"Guide de l'enfance {school_year}",
        summary="Tout ce qu'il faut savoir pour préparer sereinement l'année de vos enfants.",
        body=(
            "<p>Le guide présente les services, les tarifs et les démarches. Il est "
            "téléchargeable ci-dessous.</p>"
        ),
        status="published",
        published_at=now - dt.timedelta(days=10),
    )
    guide_pdf = simple_pdf(
        f"Guide de l'enfance {school_year} — {commune.name}",
        [
            "Ce guide présente les services municipaux de l'enfance : restauration scolaire, "
            "accueils "
            "périscolaires, accueils de loisirs et petite enfance.",
            "Document de démonstration : contenu fictif.",
        ],
    )
    NewsAttachment.objects.create(
        news=guide,
        title=f"Guide de l'enfance {school_year} (PDF)",
        file=ContentFile(guide_pdf, name="guide.pdf"),
        content_type="application/pdf",
        size=len(guide_pdf),
    )
    NewsItem.objects.create(
        title="Fermeture exceptionnelle des accueils",
        status="draft",
        body="<p>Brouillon : non visible du public.</p>",
    )

    InfoPage.objects.create(
        title="Comment fonctionne l'espace famille",
        slug="fonctionnement",
        position=0,
        summary="Créer son compte, réserver, payer, transmettre ses documents.",
        body=(
            "<h2>Espace public</h2><p>Actualités, menus, tarifs et règlements sont consultables "
            "sans compte.</p>"
            "<h2>Espace privé</h2><p>Avec votre compte : inscriptions, réservations, absences, "
            "factures, "
            "pièces justificatives et coffre-fort personnel.</p>"
        ),
        status="published",
        published_at=now,
    )
    # No free-text tariff page: the billing module publishes the town's tariffs
    # from its tariff configuration (/<town>/billing/tarifs/), the bills' own.
    rules_pdf = simple_pdf(
        f"Règlement intérieur de la restauration scolaire — {commune.name}",
        [
            "Article 1 — Le service de restauration scolaire accueille les enfants scolarisés "
            "dans les écoles "
            "publiques de la commune.",
            "Article 2 — Les repas sont réservés sur l'espace famille dans les délais indiqués "
            "pour chaque service.",
            "Article 3 — Les absences sont signalées sur l'espace famille ; un justificatif peut "
            "être demandé.",
            "Document de démonstration : contenu fictif.",
        ],
    )
    Reglement.objects.create(
        title="Règlement intérieur de la restauration scolaire",
        summary="Inscriptions, réservations, absences.",
        file=ContentFile(rules_pdf, name="reglement.pdf"),
        size=len(rules_pdf),
        status="published",
        published_at=now,
    )
