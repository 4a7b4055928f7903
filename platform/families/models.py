"""Households, legal representatives, children, health sheets and entourage (town schema).

Access rule: a family account reaches a child through the legal representative
(`Adult`) linked to the account, never through an id in a URL alone. Separated
parents are two households, each with its own Adult, both guardians of the child;
each household has its own address, quotient familial and payer.

Data minimisation (RGPD art. 5 and 9, security.md): only what the towns' guides
need to run the services; no religious or ethnic data (no "sans porc" diet:
canteens offer a meatless alternative instead, which reveals nothing).
"""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models

from families.validators import validate_allocataire_number, validate_phone, validate_postcode

# Two legal representatives at most per child (French civil law: parental
# authority is held by at most two persons).
MAX_GUARDIANS = 2
# Above any real quotient familial: catches typing errors (an income typed as QF).
MAX_QUOTIENT_FAMILIAL = 100_000


class Household(models.Model):
    """A "foyer": the unit that holds an address, a quotient familial and bills."""

    class Regime(models.TextChoices):
        CAF = "caf", "CAF"
        MSA = "msa", "MSA"
        NONE = "none", "non allocataire"

    class QFSource(models.TextChoices):
        CAF = "caf", "attestation CAF"
        MSA = "msa", "attestation MSA"
        TAX_NOTICE = "avis_imposition", "avis d'imposition (calcul par la mairie)"
        # Fetched from API Particulier with a representative's consent (families.qf_api).
        API_CAF = "api_caf", "obtenu auprès de la CAF (API Particulier)"
        API_MSA = "api_msa", "obtenu auprès de la MSA (API Particulier)"

    name = models.CharField("nom du foyer", max_length=160)
    address_line = models.CharField("adresse", max_length=255, blank=True)
    postcode = models.CharField(
        "code postal", max_length=5, blank=True, validators=[validate_postcode]
    )
    city = models.CharField("commune", max_length=120, blank=True)
    allocataire_regime = models.CharField(
        "régime allocataire", max_length=8, choices=Regime.choices, blank=True
    )
    allocataire_number = models.CharField(
        "numéro d'allocataire",
        max_length=13,
        blank=True,
        validators=[validate_allocataire_number],
    )
    quotient_familial = models.PositiveIntegerField(
        "quotient familial",
        null=True,
        blank=True,
        validators=[MaxValueValidator(MAX_QUOTIENT_FAMILIAL)],
    )
    qf_source = models.CharField(
        "source du quotient familial", max_length=20, choices=QFSource.choices, blank=True
    )
    qf_date = models.DateField("date du justificatif", null=True, blank=True)
    # API Particulier: the month the CAF/MSA computed the QF for (qf_date: fetched on).
    qf_reference_month = models.DateField("mois de référence", null=True, blank=True)
    # Who receives and pays this household's invoices. Separated parents are two
    # households, so each has its own payer.
    payer = models.ForeignKey(
        "families.Adult",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="payeur",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "foyer"

    def __str__(self) -> str:
        return self.name


class Adult(models.Model):
    """A legal representative ("responsable légal"), possibly with an account."""

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="adults")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="adult",
    )
    first_name = models.CharField("prénom", max_length=80)
    last_name = models.CharField("nom", max_length=80)
    email = models.EmailField("e-mail", blank=True)
    phone = models.CharField("téléphone", max_length=20, blank=True, validators=[validate_phone])

    class Meta:
        verbose_name = "responsable légal"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Child(models.Model):
    class Sex(models.TextChoices):
        FEMALE = "F", "fille"
        MALE = "M", "garçon"

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="children")
    guardians = models.ManyToManyField(Adult, related_name="children", blank=True)
    first_name = models.CharField("prénom", max_length=80)
    last_name = models.CharField("nom", max_length=80)
    birth_date = models.DateField("date de naissance")
    school = models.CharField("école", max_length=120, blank=True)
    school_class = models.CharField("classe", max_length=30, blank=True)
    sex = models.CharField("sexe", max_length=1, choices=Sex.choices, blank=True)

    class Meta:
        verbose_name = "enfant"
        ordering = ["birth_date", "id"]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"


class HealthSheet(models.Model):
    """« Fiche sanitaire »: what the staff caring for the child must know.

    Health data (RGPD art. 9): shown only to the child's legal representatives
    and town staff, never put in e-mails or logs.
    """

    class Diet(models.TextChoices):
        STANDARD = "standard", "sans régime particulier"
        NO_MEAT = "sans_viande", "repas sans viande"
        MEDICAL = "medical", "régime médical (voir PAI)"

    child = models.OneToOneField(Child, on_delete=models.CASCADE, related_name="health")
    allergies = models.TextField("allergies", blank=True)
    diet = models.CharField(
        "régime alimentaire", max_length=12, choices=Diet.choices, default=Diet.STANDARD
    )
    pai = models.BooleanField("PAI (projet d'accueil individualisé)", default=False)
    pai_details = models.TextField("précisions sur le PAI", blank=True)
    vaccinations_up_to_date = models.BooleanField("vaccinations obligatoires à jour", default=False)
    doctor_name = models.CharField("médecin traitant", max_length=120, blank=True)
    doctor_phone = models.CharField(
        "téléphone du médecin", max_length=20, blank=True, validators=[validate_phone]
    )
    photo_allowed = models.BooleanField("autorisation de photographier", default=False)
    may_leave_alone = models.BooleanField("autorisation de partir seul", default=False)
    transport_allowed = models.BooleanField("autorisation de transport", default=False)
    emergency_care_allowed = models.BooleanField(
        "autorisation d'intervention médicale d'urgence", default=False
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "fiche sanitaire"

    def __str__(self) -> str:
        return f"Fiche sanitaire de {self.child}"


class EntourageMember(models.Model):
    """A person around the family: authorised to pick the children up, and/or
    to be called in an emergency."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="entourage")
    first_name = models.CharField("prénom", max_length=80)
    last_name = models.CharField("nom", max_length=80)
    relationship = models.CharField("lien avec l'enfant", max_length=60, blank=True)
    phone = models.CharField("téléphone", max_length=20, validators=[validate_phone])
    can_pick_up = models.BooleanField("autorisé à venir chercher l'enfant", default=False)
    emergency_contact = models.BooleanField("à prévenir en cas d'urgence", default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "membre de l'entourage"
        ordering = ["last_name", "first_name", "id"]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"


class ImportedRecord(models.Model):
    """Which of our rows a line of a previous portal's file became, by the
    source's own identifier: a re-import updates that row (or leaves it alone
    when the line is unchanged) instead of creating another one."""

    entity = models.CharField("fichier", max_length=30)
    source_id = models.CharField("identifiant d'origine", max_length=64)
    object_id = models.BigIntegerField("ligne créée")
    fingerprint = models.CharField("empreinte des valeurs importées", max_length=64)
    imported_at = models.DateTimeField("importée le", auto_now=True)

    class Meta:
        verbose_name = "ligne importée"
        verbose_name_plural = "lignes importées"
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "source_id"], name="families_import_source_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.entity} {self.source_id}"


class QFConsent(models.Model):
    """A legal representative's consent to fetch the household's quotient
    familial from the CAF or the MSA (API Particulier). Kept as proof: who,
    when, the exact words; withdrawn, it stops any further fetch."""

    TEXT = "J'autorise la mairie à obtenir mon quotient familial auprès de la CAF ou de la MSA."

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="qf_consents")
    adult = models.ForeignKey(Adult, on_delete=models.CASCADE, related_name="+")
    text = models.CharField("texte accepté", max_length=255)
    # What API Particulier needs to ask again (the town's opt-in monthly
    # refresh): birth name, first names, sex, birth date and place. Erased
    # when the consent is withdrawn.
    identity = models.JSONField("identité transmise", default=dict, blank=True)
    given_at = models.DateTimeField("donné le", auto_now_add=True)
    withdrawn_at = models.DateTimeField("retiré le", null=True, blank=True)

    class Meta:
        verbose_name = "consentement (quotient familial)"
        ordering = ["-given_at", "-id"]

    def __str__(self) -> str:
        return f"consentement du foyer {self.household_id}"


class ImportRun(models.Model):
    """One real run of a family import started from the back-office: the Celery
    task updates its progress, then keeps its report (the files are deleted)."""

    class Status(models.TextChoices):
        RUNNING = "running", "en cours"
        DONE = "done", "terminé"
        FAILED = "failed", "en échec"

    status = models.CharField("état", max_length=10, choices=Status.choices, default=Status.RUNNING)
    progress = models.PositiveSmallIntegerField("avancement (%)", default=0)
    current_file = models.CharField("fichier en cours", max_length=120, blank=True)
    preset = models.CharField("format", max_length=20, default="guichet")
    report = models.JSONField("rapport", default=dict, blank=True)
    requested_by = models.CharField("lancé par", max_length=160, blank=True)
    created_at = models.DateTimeField("lancé le", auto_now_add=True)
    finished_at = models.DateTimeField("terminé le", null=True, blank=True)

    class Meta:
        verbose_name = "import de familles"
        verbose_name_plural = "imports de familles"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"import du {self.created_at:%d/%m/%Y %H:%M}"


class StaffAction(models.Model):
    """What staff did FOR a family (booking by phone, cancellation past the
    deadline, absence declared, registration validated, payment at the desk):
    who, when, why. Shown in the family's history (staff record and the
    family's own account). Written by families.history.record()."""

    household = models.ForeignKey(
        "families.Household", on_delete=models.CASCADE, related_name="staff_actions"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Snapshot: the history stays readable when the account is later removed.
    actor_label = models.CharField("agent", max_length=200, blank=True)
    action = models.CharField("action", max_length=60)
    summary = models.TextField("ce qui a été fait")
    reason = models.TextField("motif", blank=True)
    created_at = models.DateTimeField("date", auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "action d'un agent pour une famille"

    def __str__(self) -> str:
        return f"{self.created_at:%d/%m/%Y %H:%M} {self.actor_label} {self.action}"
