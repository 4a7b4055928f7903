"""Supporting documents ("pièces justificatives") and the private vault (town schema).

A family uploads a document ONCE and reuses it across requests (`DocumentUse`);
staff check it (to check / valid / rejected with a reason). The vault holds
files the town can never read: encrypted per family (documents.vault), never
registered in the admin, never listed on staff screens or in exports.
"""

import uuid

from django.conf import settings
from django.db import models


class DocumentKind(models.TextChoices):
    ATTESTATION_RC = "attestation_rc", "Attestation d'assurance responsabilité civile"
    CARNET_VACCINATION = "carnet_vaccination", "Carnet de vaccination (pages des vaccins)"
    JUSTIFICATIF_DOMICILE = "justificatif_domicile", "Justificatif de domicile de moins de 3 mois"
    AVIS_IMPOSITION = "avis_imposition", "Avis d'imposition"
    ATTESTATION_CAF = "attestation_caf", "Attestation CAF ou MSA (quotient familial)"
    CERTIFICAT_MEDICAL = "certificat_medical", "Certificat médical"
    LIVRET_FAMILLE = "livret_famille", "Livret de famille"
    AUTORITE_PARENTALE = "autorite_parentale", "Justificatif de l'autorité parentale (jugement)"
    JUSTIFICATIF_ABSENCE = "justificatif_absence", "Justificatif d'absence"
    AUTRE = "autre", "Autre document"


def _document_path(instance, filename):
    # Server-generated name: the uploaded name is never a path on our disks.
    return f"justificatifs/{uuid.uuid4().hex}.{filename.rsplit('.', 1)[-1]}"


def _vault_path(instance, filename):
    return f"coffre-fort/{uuid.uuid4().hex}.bin"


class Document(models.Model):
    class Status(models.TextChoices):
        TO_CHECK = "to_check", "à vérifier"
        VALID = "valid", "validé"
        REJECTED = "rejected", "refusé"

    household = models.ForeignKey(
        "families.Household",
        on_delete=models.PROTECT,
        related_name="documents",
        verbose_name="foyer",
    )
    # A child removed from the household leaves the document to the household.
    child = models.ForeignKey(
        "families.Child",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="documents",
        verbose_name="enfant concerné",
    )
    kind = models.CharField("type", max_length=40, choices=DocumentKind.choices)
    title = models.CharField("intitulé", max_length=120, blank=True)
    file = models.FileField("fichier", upload_to=_document_path, max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField("taille (octets)")
    sha256 = models.CharField(max_length=64)
    issued_on = models.DateField("date du document", null=True, blank=True)
    valid_until = models.DateField("valable jusqu'au", null=True, blank=True)
    status = models.CharField(
        "statut", max_length=10, choices=Status.choices, default=Status.TO_CHECK
    )
    rejection_reason = models.TextField("motif du refus", blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    # Expiry date the family was last reminded of (one e-mail per expiry date).
    reminded_for = models.DateField(null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_vault = models.BooleanField("versé depuis le coffre-fort", default=False)
    created_at = models.DateTimeField("déposé le", auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["household", "kind"]),
        ]
        verbose_name = "pièce justificative"
        verbose_name_plural = "pièces justificatives"

    def __str__(self) -> str:
        return self.title or self.get_kind_display()

    @property
    def label(self) -> str:
        return str(self)


class DocumentUse(models.Model):
    """A document attached to a request ("demande"): uploaded once, reused."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="uses")
    demande = models.ForeignKey(
        "demandes.Demande", on_delete=models.CASCADE, related_name="document_uses"
    )
    attached_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["document", "demande"], name="documents_use_unique")
        ]
        verbose_name = "pièce jointe à une demande"

    def __str__(self) -> str:
        return f"document {self.document_id} → demande {self.demande_id}"


class VaultItem(models.Model):
    """A file in a family's private vault. Everything but its size is ciphertext."""

    # Read by documents.personal_data: vault rows are never serialised into an
    # export (the family downloads its vault from the vault itself).
    personal_data_export = False

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    household = models.ForeignKey("families.Household", on_delete=models.PROTECT, related_name="+")
    file = models.FileField(upload_to=_vault_path, max_length=200)
    metadata = models.BinaryField()  # sealed JSON: title, original name, content type
    size = models.PositiveIntegerField()  # plaintext size, for the quota
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:  # never the (encrypted) title
        return f"coffre-fort n° {self.pk}"


class VaultKey(models.Model):
    """A family's vault key, wrapped under the master key `key_id`
    (documents/vault.py; `manage.py rotate_vault_keys` re-wraps it)."""

    personal_data_export = False  # a wrapped key means nothing to the family

    household = models.OneToOneField(
        "families.Household", on_delete=models.CASCADE, related_name="+"
    )
    key_id = models.CharField(max_length=20)
    wrapped = models.BinaryField()

    class Meta:
        indexes = [models.Index(fields=["key_id"])]

    def __str__(self) -> str:  # never the key
        return f"clé du coffre-fort du foyer {self.household_id} (maîtresse {self.key_id})"
