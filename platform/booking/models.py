"""Places per day, bookings and waiting lists (town schema).

Capacity is a counter on `DaySlot` guarded by a CHECK (booked <= capacity) and
taken with a conditional `UPDATE ... SET booked = booked + 1 WHERE booked <
capacity` (booking.services): the spike in docs/ measured it at 668 bookings/s,
0 overbooked, against 358/s for select_for_update. Writes go through
booking.services only.
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q


class Site(models.Model):
    """A place children are taken care of (école, centre de loisirs, crèche)."""

    code = models.SlugField("code", max_length=60, blank=True)
    name = models.CharField("nom", max_length=160)
    address = models.CharField("adresse", max_length=255, blank=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = "lieu d'accueil"

    def __str__(self) -> str:
        return self.name


class Activity(models.Model):
    """What a family books: one service (core.Service: its deadline rules) at one site."""

    service = models.ForeignKey("core.Service", on_delete=models.PROTECT, related_name="activities")
    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.PROTECT, related_name="activities"
    )
    name = models.CharField("nom", max_length=160)
    default_capacity = models.PositiveIntegerField("places par jour", default=0)
    is_active = models.BooleanField("active", default=True)
    # Catalogue synchronised from the town's YAML (booking.catalogue): the code
    # is "<service>--<site>" (+ "--HHMM" for an hourly crèche slot).
    code = models.CharField("code", max_length=140, blank=True, db_index=True)
    # Eligibility (empty: everyone). Levels: PS, MS, GS, CP, CE1, CE2, CM1, CM2.
    min_age_months = models.PositiveSmallIntegerField("âge minimum (mois)", null=True, blank=True)
    max_age_months = models.PositiveSmallIntegerField("âge maximum (mois)", null=True, blank=True)
    school_levels = ArrayField(
        models.CharField(max_length=4), default=list, blank=True, verbose_name="niveaux scolaires"
    )
    # Opening calendar (booking.calendar.DayKind); empty: the service kind's default.
    day_kinds = ArrayField(
        models.CharField(max_length=12), default=list, blank=True, verbose_name="jours d'ouverture"
    )
    # An hourly slot of occasional crèche care (petite enfance); empty for day activities.
    starts_at = models.TimeField("début", null=True, blank=True)
    ends_at = models.TimeField("fin", null=True, blank=True)

    class Meta:
        ordering = ["name", "starts_at", "id"]
        verbose_name = "activité"

    def __str__(self) -> str:
        return self.name


class DaySlot(models.Model):
    """The places of an activity on one opening day. A day without a slot is closed."""

    activity = models.ForeignKey(Activity, on_delete=models.PROTECT, related_name="slots")
    day = models.DateField("jour")
    capacity = models.PositiveIntegerField("places")
    booked = models.PositiveIntegerField("places prises", default=0)

    class Meta:
        ordering = ["day", "id"]
        verbose_name = "journée d'accueil"
        constraints = [
            models.UniqueConstraint(fields=["activity", "day"], name="booking_slot_one_per_day"),
            # The last line of defence against overbooking, whatever the code does.
            models.CheckConstraint(
                condition=Q(booked__lte=F("capacity")), name="booking_slot_not_overbooked"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.activity} — {self.day:%d/%m/%Y} ({self.booked}/{self.capacity})"

    @property
    def free(self) -> int:
        return max(self.capacity - self.booked, 0)


class Attendance(models.TextChoices):
    PENDING = "pending", "non pointé"
    PRESENT = "present", "présent"
    ABSENT = "absent", "absent"


class Booking(models.Model):
    class Status(models.TextChoices):
        BOOKED = "booked", "réservé"
        CANCELLED = "cancelled", "annulé"

    slot = models.ForeignKey(DaySlot, on_delete=models.PROTECT, related_name="bookings")
    child = models.ForeignKey("families.Child", on_delete=models.PROTECT, related_name="bookings")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.BOOKED)
    from_waiting_list = models.BooleanField("issue de la liste d'attente", default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # Billing reads these two facts (with Absence.decision) to price the day.
    # A cancellation after the deadline (allowed by staff) may still be billed.
    cancelled_late = models.BooleanField("annulation hors délai", default=False)
    attendance = models.CharField(
        "pointage", max_length=10, choices=Attendance.choices, default=Attendance.PENDING
    )

    class Meta:
        ordering = ["slot__day", "id"]
        verbose_name = "réservation"
        constraints = [
            models.UniqueConstraint(
                fields=["slot", "child"],
                condition=Q(status="booked"),
                name="booking_one_live_booking_per_child_and_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.child} — {self.slot}"


class AttendanceMark(models.Model):
    """One check-in mark tapped on a tablet at the door. The tablet makes up
    `mark_id` when the agent taps and queues the mark while offline: a
    replayed queue sends the same ids again, and each mark counts once."""

    mark_id = models.UUIDField(unique=True)
    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="marks")
    attendance = models.CharField("pointage", max_length=10, choices=Attendance.choices)
    marked_at = models.DateTimeField("pointé le")  # when tapped (the tablet's clock, bounded)
    received_at = models.DateTimeField(auto_now_add=True)
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["booking", "marked_at", "id"]
        verbose_name = "pointage reçu"
        indexes = [models.Index(fields=["booking", "-marked_at"])]

    def __str__(self) -> str:
        return f"{self.booking_id} {self.attendance} {self.mark_id}"


class WaitingListEntry(models.Model):
    """A request for a place on a full day, served first come, first served."""

    class Status(models.TextChoices):
        WAITING = "waiting", "en attente"
        OFFERED = "offered", "place proposée"
        PROMOTED = "promoted", "place attribuée"
        WITHDRAWN = "withdrawn", "retirée"
        EXPIRED = "expired", "proposition expirée"

    slot = models.ForeignKey(DaySlot, on_delete=models.PROTECT, related_name="waiting_list")
    child = models.ForeignKey("families.Child", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # Towns choosing time-limited offers (services[].options.waiting_list.mode:
    # offer): the freed place is held for this child until then.
    offer_expires_at = models.DateTimeField("proposition valable jusqu'au", null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "demande en liste d'attente"
        constraints = [
            models.UniqueConstraint(
                fields=["slot", "child"],
                condition=Q(status="waiting"),
                name="booking_one_waiting_entry_per_child_and_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.child} — {self.slot} ({self.get_status_display()})"


class ReservationPeriod(models.Model):
    """A published reservation period ("période de réservation"): see
    booking.deadlines.ReservationWindow for what it opens."""

    label = models.CharField("libellé", max_length=160, blank=True)
    opens_at = models.DateTimeField("ouverture")
    closes_at = models.DateTimeField("fermeture (dernière minute incluse)")
    services = models.ManyToManyField(
        "core.Service", blank=True, related_name="+", help_text="Aucun : tous les services."
    )
    first_day = models.DateField("premier jour concerné", null=True, blank=True)
    last_day = models.DateField("dernier jour concerné", null=True, blank=True)
    # The opening's waiting room (booking.waiting_room, issue #19): families
    # arriving `early_minutes` before `opens_at` are drawn at random, later
    # ones queue in arrival order; for `room_minutes` after the opening the
    # period's booking writes need a pass. Live state (pause, extension) is in Redis.
    waiting_room = models.BooleanField("salle d'attente à l'ouverture", default=False)
    early_minutes = models.PositiveSmallIntegerField(
        "tirage au sort des arrivées (minutes avant l'ouverture)", default=15
    )
    room_minutes = models.PositiveSmallIntegerField(
        "durée de la salle d'attente (minutes après l'ouverture)", default=60
    )
    admit_per_minute = models.PositiveIntegerField(
        "familles admises par minute au plus", default=600
    )
    pass_minutes = models.PositiveSmallIntegerField(
        "validité du laissez-passer (minutes)", default=10
    )
    # When the families were invited by e-mail to sign in before the opening
    # (booking.invitations): once per opening.
    invited_at = models.DateTimeField("familles invitées le", null=True, blank=True, editable=False)

    class Meta:
        ordering = ["opens_at", "id"]
        verbose_name = "période de réservation"
        constraints = [
            models.CheckConstraint(
                condition=Q(opens_at__lte=F("closes_at")),
                name="booking_period_opens_before_closing",
            ),
        ]

    def __str__(self) -> str:
        return self.label or f"{self.opens_at:%d/%m/%Y} – {self.closes_at:%d/%m/%Y}"


class AbsenceReason(models.TextChoices):
    ILLNESS = "illness", "maladie"
    FAMILY = "family", "raison familiale"
    OTHER = "other", "autre"


class AbsenceDeclaration(models.Model):
    """« Constance absente du 8 au 10 »: ONE declaration of a child's absence over
    a period, for every service booked in those days, with one optional
    justification file (each day's `Absence` row points to the same file).
    Staff decide the whole declaration at once or day by day."""

    child = models.ForeignKey("families.Child", on_delete=models.PROTECT, related_name="+")
    first_day = models.DateField("premier jour")
    last_day = models.DateField("dernier jour")
    reason = models.CharField("motif", max_length=10, choices=AbsenceReason.choices)
    comment = models.TextField("commentaire", blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-reported_at", "-id"]
        verbose_name = "déclaration d'absence"
        constraints = [
            models.CheckConstraint(
                condition=Q(first_day__lte=F("last_day")), name="booking_declaration_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.child} — {self.first_day:%d/%m/%Y} au {self.last_day:%d/%m/%Y}"


class Absence(models.Model):
    """A family reports an absence for a booked day, with an optional or required
    justification (e.g. a medical certificate); staff decide. Billing reads
    `decision`: justified days are free, unjustified ones billed per the tariff."""

    class Decision(models.TextChoices):
        PENDING = "pending", "à examiner"
        JUSTIFIED = "justified", "justifiée"
        UNJUSTIFIED = "unjustified", "non justifiée"

    Reason = AbsenceReason

    booking = models.OneToOneField(Booking, on_delete=models.PROTECT, related_name="absence")
    declaration = models.ForeignKey(
        AbsenceDeclaration,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="absences",
    )
    reason = models.CharField("motif", max_length=10, choices=Reason.choices)
    comment = models.TextField("commentaire", blank=True)
    justification = models.FileField("justificatif", upload_to="absences/", blank=True)
    justification_name = models.CharField("nom du fichier envoyé", max_length=120, blank=True)
    justification_type = models.CharField(max_length=60, blank=True)
    staff_comment = models.TextField("réponse du service", blank=True)
    decision = models.CharField(max_length=12, choices=Decision.choices, default=Decision.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "absence"

    def __str__(self) -> str:
        return f"{self.booking} — {self.get_decision_display()}"


class Closure(models.Model):
    """Days a town closes some services (e.g. the ALSH between Christmas and New
    Year); read by booking.selectors.town_calendar. No service: all services."""

    label = models.CharField("libellé", max_length=160)
    first_day = models.DateField("premier jour")
    last_day = models.DateField("dernier jour")
    services = models.ManyToManyField("core.Service", blank=True, related_name="+")

    class Meta:
        ordering = ["first_day", "id"]
        verbose_name = "fermeture"
        constraints = [
            models.CheckConstraint(
                condition=Q(first_day__lte=F("last_day")), name="booking_closure_ordered"
            ),
        ]

    def __str__(self) -> str:
        return self.label


class Registration(models.Model):
    """A child's registration to a service for one school year (the annual
    "dossier": Bassens and Castres renew every year). Reservations need an
    accepted registration; Chalonnes' services validate each request first."""

    class Status(models.TextChoices):
        PENDING = "pending", "en attente de validation"
        ACCEPTED = "accepted", "validée"
        REFUSED = "refused", "refusée"
        CANCELLED = "cancelled", "annulée"

    child = models.ForeignKey(
        "families.Child", on_delete=models.PROTECT, related_name="registrations"
    )
    service = models.ForeignKey(
        "core.Service", on_delete=models.PROTECT, related_name="registrations"
    )
    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    school_year = models.PositiveSmallIntegerField("année scolaire (année de la rentrée)")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    demande = models.ForeignKey(
        "demandes.Demande", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-school_year", "service__position", "id"]
        verbose_name = "inscription"
        constraints = [
            models.UniqueConstraint(
                fields=["child", "service", "school_year"],
                condition=Q(status__in=["pending", "accepted"]),
                name="booking_one_live_registration",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.child} — {self.service} {self.school_year}-{self.school_year + 1}"

    @property
    def school_year_label(self) -> str:
        return f"{self.school_year}-{self.school_year + 1}"

    @property
    def effective_status(self) -> str:
        """A pending registration follows its request once staff refused it or
        the family withdrew it in the demandes inbox (select_related("demande"))."""
        if self.status == self.Status.PENDING and self.demande_id is not None:
            return self.effective(self.status, self.demande.status)
        return self.status

    @classmethod
    def effective(cls, status: str, demande_status: str | None) -> str:
        """effective_status from the row's status and its request's (None: no request)."""
        if status == cls.Status.PENDING and demande_status == "refused":
            return cls.Status.REFUSED
        if status == cls.Status.PENDING and demande_status == "cancelled":
            return cls.Status.CANCELLED
        return status

    @property
    def effective_status_label(self) -> str:
        return self.Status(self.effective_status).label


class RegistrationDocument(models.Model):
    """A supporting document sent with a registration (Chalonnes: civil-liability
    certificate, vaccination record). Stored under a server-generated name."""

    registration = models.ForeignKey(
        Registration, on_delete=models.CASCADE, related_name="documents"
    )
    # The family's stored document it uses (deposited once, reused; a new
    # upload is stored there too). The file is the stored document's.
    document = models.ForeignKey(
        "documents.Document", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    code = models.SlugField(max_length=60)
    label = models.CharField(max_length=160)
    file = models.FileField(upload_to="inscriptions/", max_length=200)
    original_name = models.CharField(max_length=120)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]
        verbose_name = "pièce d'inscription"

    def __str__(self) -> str:
        return self.label


class ChangeSet(models.Model):
    """One family submission of reservation changes (all-or-nothing), kept as
    the receipt the acknowledgement e-mail describes."""

    household = models.ForeignKey("families.Household", on_delete=models.PROTECT, related_name="+")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    summary = models.JSONField(default=list)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "envoi de modifications"

    def __str__(self) -> str:
        return f"Envoi n° {self.pk}"
