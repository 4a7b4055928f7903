"""The town's public space (no login): news, practical information, canteen
menus, internal rules. Staff edit them; drafts and future publications are
never shown publicly (`Publishable.objects.visible()`).

Rich text (`body`) is stored ALREADY sanitised (content.richtext, nh3): what a
template marks safe is what the sanitiser wrote.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords


def _content_path(instance, filename):
    return f"contenu/{uuid.uuid4().hex}.{filename.rsplit('.', 1)[-1]}"


class PublishableQuerySet(models.QuerySet):
    def visible(self, now=None):
        return self.filter(
            status=Publishable.Status.PUBLISHED, published_at__lte=now or timezone.now()
        )


class Publishable(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "brouillon"
        PUBLISHED = "published", "publié"

    status = models.CharField("état", max_length=10, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(
        "date de publication",
        default=timezone.now,
        help_text="Le contenu n'est visible du public qu'à partir de cette date.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField("mis à jour le", auto_now=True)

    objects = PublishableQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def is_visible(self) -> bool:
        return self.status == self.Status.PUBLISHED and self.published_at <= timezone.now()


class NewsItem(Publishable):
    """An "actualité" (Donges: « Rentrée scolaire 2018 », « Guide de l'enfance »)."""

    title = models.CharField("titre", max_length=200)
    summary = models.CharField("chapeau", max_length=300, blank=True)
    body = models.TextField("texte", blank=True)
    image = models.FileField("image", upload_to=_content_path, blank=True, max_length=200)
    image_alt = models.CharField(
        "texte alternatif de l'image",
        max_length=250,
        blank=True,
        help_text="Décrit l'image pour les personnes qui ne la voient pas (RGAA, critère 1.1).",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    history = HistoricalRecords(verbose_name_plural="versions")

    class Meta:
        ordering = ["-published_at", "-id"]
        verbose_name = "actualité"

    def __str__(self) -> str:
        return self.title


class NewsAttachment(models.Model):
    news = models.ForeignKey(NewsItem, on_delete=models.CASCADE, related_name="attachments")
    title = models.CharField("intitulé", max_length=200)
    file = models.FileField("fichier", upload_to=_content_path, max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    position = models.PositiveSmallIntegerField(default=0)

    history = HistoricalRecords(verbose_name_plural="versions")

    class Meta:
        ordering = ["position", "id"]
        verbose_name = "document joint"

    def __str__(self) -> str:
        return self.title


class InfoPage(Publishable):
    """Practical information: how the portal works, tariffs, opening hours..."""

    title = models.CharField("titre", max_length=200)
    slug = models.SlugField("adresse", max_length=80, unique=True)
    summary = models.CharField("résumé", max_length=300, blank=True)
    body = models.TextField("texte", blank=True)
    position = models.PositiveSmallIntegerField("ordre", default=0)

    history = HistoricalRecords(verbose_name_plural="versions")

    class Meta:
        ordering = ["position", "title"]
        verbose_name = "page d'information"

    def __str__(self) -> str:
        return self.title


class MenuSite(models.Model):
    """Where meals are served: one menu per week and per site."""

    name = models.CharField("restaurant scolaire", max_length=120, unique=True)
    position = models.PositiveSmallIntegerField(default=0)

    history = HistoricalRecords(verbose_name_plural="versions")

    class Meta:
        ordering = ["position", "name"]
        verbose_name = "restaurant scolaire"

    def __str__(self) -> str:
        return self.name


class WeeklyMenu(Publishable):
    site = models.ForeignKey(MenuSite, on_delete=models.PROTECT, related_name="menus")
    week_start = models.DateField("semaine du (lundi)")
    note = models.CharField("remarque", max_length=300, blank=True)

    history = HistoricalRecords(verbose_name_plural="versions")

    class Meta:
        ordering = ["-week_start", "site__position"]
        constraints = [
            models.UniqueConstraint(fields=["site", "week_start"], name="content_menu_site_week")
        ]
        verbose_name = "menu de la semaine"

    def __str__(self) -> str:
        return f"{self.site} — semaine du {self.week_start:%d/%m/%Y}"


class MenuDay(models.Model):
    """One day's meal. Allergens: the 14 of EU regulation 1169/2011 (INCO) must be
    made available to families by collective catering (décret 2015-447)."""

    menu = models.ForeignKey(WeeklyMenu, on_delete=models.CASCADE, related_name="days")
    date = models.DateField("jour")
    starter = models.CharField("entrée", max_length=200, blank=True)
    main = models.CharField("plat", max_length=200, blank=True)
    side = models.CharField("accompagnement", max_length=200, blank=True)
    dairy = models.CharField("produit laitier", max_length=200, blank=True)
    dessert = models.CharField("dessert", max_length=200, blank=True)
    allergens = models.CharField("allergènes", max_length=300, blank=True)

    history = HistoricalRecords(verbose_name_plural="versions")

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["menu", "date"], name="content_menu_day")]

    def __str__(self) -> str:
        return f"{self.date:%d/%m/%Y}"

    @property
    def courses(self) -> list[tuple[str, str]]:
        names = ("starter", "main", "side", "dairy", "dessert")
        return [
            (self._meta.get_field(n).verbose_name, getattr(self, n))
            for n in names
            if getattr(self, n)
        ]


class Reglement(Publishable):
    """A service's internal rules ("règlement intérieur"), as a PDF."""

    title = models.CharField("titre", max_length=200)
    service = models.ForeignKey(
        "core.Service",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="service concerné",
    )
    summary = models.CharField("résumé", max_length=300, blank=True)
    file = models.FileField("fichier PDF", upload_to=_content_path, max_length=200)
    size = models.PositiveIntegerField(default=0)

    history = HistoricalRecords(verbose_name_plural="versions")

    class Meta:
        ordering = ["title"]
        verbose_name = "règlement intérieur"
        verbose_name_plural = "règlements intérieurs"

    def __str__(self) -> str:
        return self.title
