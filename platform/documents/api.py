"""API of documents, the private vault and personal data (/<commune>/api/...).

One view per operation; serializers parse input; services write. Errors are
problem documents in French (core.api). Vault endpoints accept ONLY a family's
session: no token or other authentication scheme added later reaches them, and
any other account gets a 404.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsTownStaff
from audit import journal
from core.access import FAMILY_OBJECT, FAMILY_PAGE, STAFF, access
from core.api import problem
from demandes.services import submit_demande
from documents import personal_data, rules, selectors, services
from documents.models import Document, DocumentKind
from documents.vault import VaultError
from documents.views import _document_file, attachment

BINARY = {(200, "application/octet-stream"): OpenApiTypes.BINARY}


def _problem_from(exc: ValidationError):
    code = getattr(exc, "code", None) or ""
    http = 413 if code == "too_large" else 400
    return problem(http, " ".join(exc.messages), code=code or "invalid")


class DocumentOut(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display")
    status_label = serializers.CharField(source="get_status_display")
    expiry = serializers.SerializerMethodField(help_text="none, valid, expiring ou expired")
    download_url = serializers.SerializerMethodField()
    demandes = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = [
            "id",
            "kind",
            "kind_label",
            "title",
            "child",
            "status",
            "status_label",
            "rejection_reason",
            "issued_on",
            "valid_until",
            "expiry",
            "content_type",
            "size",
            "created_at",
            "download_url",
            "demandes",
        ]

    def get_expiry(self, obj) -> str:
        return rules.expiry_state(obj.valid_until, timezone.localdate())

    def get_download_url(self, obj) -> str:
        return reverse(
            self.context.get("download_view", "api:documents:document-file"), args=[obj.pk]
        )

    def get_demandes(self, obj) -> list[int]:
        return [u.demande_id for u in obj.uses.all()]


class StaffDocumentOut(DocumentOut):
    household = serializers.IntegerField(source="household_id")
    household_name = serializers.CharField(source="household.name")

    class Meta(DocumentOut.Meta):
        fields = [*DocumentOut.Meta.fields, "household", "household_name"]


class DocumentIn(serializers.Serializer):
    file = serializers.FileField(
        help_text="PDF, PNG ou JPEG ; 10 Mo au plus ; le contenu est vérifié."
    )
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    title = serializers.CharField(max_length=120, required=False, allow_blank=True)
    child = serializers.IntegerField(required=False, allow_null=True)
    issued_on = serializers.DateField(required=False, allow_null=True)
    valid_until = serializers.DateField(required=False, allow_null=True)


class FamilyAPIView(APIView):
    """A family account's API: the household comes from the account; others get 404."""

    permission_classes = [IsAuthenticated]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.household = selectors.household_of(request.user)
        if self.household is None:
            raise NotFound("Réservé aux familles.")

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store, private"
        return response

    def child_or_error(self, child_id):
        if child_id is None:
            return None
        child = selectors.family_children(self.household).filter(pk=child_id).first()
        if child is None:
            raise ValidationError("Cet enfant ne fait pas partie de votre foyer.", code="child")
        return child


@access(FAMILY_PAGE)
class DocumentListView(FamilyAPIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(summary="Mes pièces justificatives", responses=DocumentOut(many=True))
    def get(self, request):
        docs = selectors.family_documents(self.household).prefetch_related("uses")
        return Response(DocumentOut(docs, many=True).data)

    @extend_schema(
        summary="Déposer une pièce justificative",
        request={"multipart/form-data": DocumentIn},
        responses={
            201: DocumentOut,
            400: OpenApiResponse(description="Fichier refusé"),
            413: OpenApiResponse(description="Fichier trop volumineux"),
        },
    )
    def post(self, request):
        data = DocumentIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        try:
            document = services.upload_document(
                household=self.household,
                uploaded_by=request.user,
                uploaded_file=v["file"],
                kind=v["kind"],
                title=v.get("title", ""),
                child=self.child_or_error(v.get("child")),
                issued_on=v.get("issued_on"),
                valid_until=v.get("valid_until"),
            )
        except ValidationError as exc:
            return _problem_from(exc)
        return Response(DocumentOut(document).data, status=status.HTTP_201_CREATED)


@access(FAMILY_OBJECT, pk="document")
class DocumentDetailView(FamilyAPIView):
    @extend_schema(summary="Une de mes pièces justificatives", responses=DocumentOut)
    def get(self, request, pk):
        return Response(DocumentOut(selectors.family_document(self.household, pk)).data)


@access(FAMILY_OBJECT, pk="document")
class DocumentFileView(FamilyAPIView):
    @extend_schema(summary="Télécharger une de mes pièces", responses=BINARY)
    def get(self, request, pk):
        return _document_file(selectors.family_document(self.household, pk))


class AttachIn(serializers.Serializer):
    demande = serializers.IntegerField()


@access(FAMILY_OBJECT, pk="document")
class DocumentAttachView(FamilyAPIView):
    @extend_schema(
        summary="Joindre une pièce à une de mes demandes",
        request=AttachIn,
        responses={201: DocumentOut},
    )
    def post(self, request, pk):
        document = selectors.family_document(self.household, pk)
        data = AttachIn(data=request.data)
        data.is_valid(raise_exception=True)
        demande = selectors.family_demande(self.household, data.validated_data["demande"])
        try:
            services.attach_document(document=document, demande=demande, user=request.user)
        except ValidationError as exc:
            return _problem_from(exc)
        return Response(DocumentOut(document).data, status=status.HTTP_201_CREATED)


# --- staff ----------------------------------------------------------------------


@access(STAFF())
class StaffDocumentListView(APIView):
    permission_classes = [IsTownStaff]

    @extend_schema(
        summary="Pièces justificatives (agents)",
        responses=StaffDocumentOut(many=True),
        parameters=[
            inline_serializer(
                "StaffDocumentFilter",
                {
                    "statut": serializers.ChoiceField(
                        choices=Document.Status.choices, required=False
                    ),
                    "demande": serializers.IntegerField(required=False),
                },
            )
        ],
    )
    def get(self, request):
        wanted = request.query_params.get("statut") or None
        if wanted and wanted not in Document.Status.values:
            return problem(400, "Statut inconnu : to_check, valid ou rejected.")
        demande = request.query_params.get("demande", "")
        docs = selectors.staff_documents(
            status=wanted, demande_id=int(demande) if demande.isdigit() else None
        )
        ctx = {"download_view": "api:documents:staff-document-file"}
        return Response(
            StaffDocumentOut(docs.prefetch_related("uses")[:500], many=True, context=ctx).data
        )


class ReviewIn(serializers.Serializer):
    # The document's own status choices (one enum in the schema); the service
    # refuses anything but "valid" or "rejected" with a French message.
    status = serializers.ChoiceField(choices=Document.Status.choices)
    reason = serializers.CharField(required=False, allow_blank=True)


@access(STAFF(), pk="document")
class StaffDocumentReviewView(APIView):
    permission_classes = [IsTownStaff]

    @extend_schema(
        summary="Valider ou refuser une pièce (agents)",
        request=ReviewIn,
        responses=StaffDocumentOut,
    )
    def post(self, request, pk):
        document = selectors.staff_document(pk)
        data = ReviewIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            document = services.review_document(
                document=document,
                reviewer=request.user,
                status=data.validated_data["status"],
                reason=data.validated_data.get("reason", ""),
            )
        except ValidationError as exc:
            return _problem_from(exc)
        ctx = {"download_view": "api:documents:staff-document-file"}
        return Response(StaffDocumentOut(document, context=ctx).data)


@access(STAFF(), pk="document")
class StaffDocumentFileView(APIView):
    permission_classes = [IsTownStaff]

    @extend_schema(summary="Télécharger une pièce (agents ; accès journalisé)", responses=BINARY)
    def get(self, request, pk):
        document = selectors.staff_document(pk)
        journal.record(
            actor=request.user,
            action=journal.DOWNLOAD_DOCUMENT,
            household=document.household_id,
            target=document,
        )
        return _document_file(document)


# --- private vault (family session only) ------------------------------------------


class VaultAPIView(FamilyAPIView):
    # Only the browser session of a family: never a token, whatever the project's defaults become.
    authentication_classes = [SessionAuthentication]


class VaultItemOut(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    download_url = serializers.CharField()
    problem = serializers.CharField(
        required=False, help_text="Vide, ou pourquoi ce document ne peut pas être lu"
    )


def _vault_out(item, meta=None, problem="") -> dict:
    if meta is None and not problem:
        meta = services.vault_metadata(item)
    meta = meta or {"title": "Document illisible", "content_type": "application/octet-stream"}
    return {
        "id": item.public_id,
        "title": meta["title"],
        "content_type": meta["content_type"],
        "size": item.size,
        "created_at": item.created_at,
        "download_url": reverse("api:documents:vault-file", args=[item.public_id]),
        "problem": problem,
    }


class VaultIn(serializers.Serializer):
    file = serializers.FileField()
    title = serializers.CharField(max_length=120)


@access(FAMILY_PAGE)
class VaultListView(VaultAPIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(summary="Mon coffre-fort", responses=VaultItemOut(many=True))
    def get(self, request):
        return Response(
            VaultItemOut(
                [
                    _vault_out(item, meta, problem)
                    for item, meta, problem in services.vault_listing(
                        self.household, selectors.vault_items(self.household)
                    )
                ],
                many=True,
            ).data
        )

    @extend_schema(
        summary="Ranger un document dans mon coffre-fort",
        request={"multipart/form-data": VaultIn},
        responses={201: VaultItemOut},
    )
    def post(self, request):
        data = VaultIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            item = services.vault_store(
                household=self.household,
                uploaded_file=data.validated_data["file"],
                title=data.validated_data["title"],
            )
        except ValidationError as exc:
            return _problem_from(exc)
        return Response(VaultItemOut(_vault_out(item)).data, status=status.HTTP_201_CREATED)


@access(FAMILY_OBJECT)
class VaultItemView(VaultAPIView):
    @extend_schema(summary="Supprimer un document de mon coffre-fort", responses={204: None})
    def delete(self, request, public_id):
        services.vault_delete(item=selectors.vault_item(self.household, public_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


@access(FAMILY_OBJECT)
class VaultFileView(VaultAPIView):
    @extend_schema(summary="Télécharger un document de mon coffre-fort", responses=BINARY)
    def get(self, request, public_id):
        item = selectors.vault_item(self.household, public_id)
        try:
            meta, content = services.vault_read(item)
        except VaultError as exc:
            services.report_unreadable(item, exc)
            return problem(409, services.UNREADABLE)
        return attachment(content, filename=meta["name"], content_type=meta["content_type"])


class VaultShareIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    child = serializers.IntegerField(required=False, allow_null=True)
    issued_on = serializers.DateField(required=False, allow_null=True)
    keep_copy = serializers.BooleanField(default=False)


@access(FAMILY_OBJECT)
class VaultShareView(VaultAPIView):
    @extend_schema(
        summary="Transmettre un document du coffre-fort comme pièce justificative",
        request=VaultShareIn,
        responses={201: DocumentOut},
    )
    def post(self, request, public_id):
        item = selectors.vault_item(self.household, public_id)
        data = VaultShareIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        try:
            document = services.vault_share(
                item=item,
                user=request.user,
                kind=v["kind"],
                child=self.child_or_error(v.get("child")),
                issued_on=v.get("issued_on"),
                keep_copy=v["keep_copy"],
            )
        except ValidationError as exc:
            return _problem_from(exc)
        return Response(DocumentOut(document).data, status=status.HTTP_201_CREATED)


# --- personal data ---------------------------------------------------------------


@access(FAMILY_PAGE)
class ExportView(FamilyAPIView):
    # Like the vault: the family's whole file leaves only through its own session.
    authentication_classes = [SessionAuthentication]

    @extend_schema(
        summary="Télécharger toutes mes données (ZIP : JSON + fichiers)",
        responses={(200, "application/zip"): OpenApiTypes.BINARY},
    )
    def get(self, request):
        journal.record(actor=request.user, action=journal.EXPORT, household=self.household)
        spool = personal_data.build_export(self.household, commune=request.commune)
        return attachment(
            spool,
            filename=f"mes-donnees-{request.commune.slug}.zip",
            content_type="application/zip",
        )


class ErasureIn(serializers.Serializer):
    message = serializers.CharField(required=False, allow_blank=True)


@access(FAMILY_PAGE)
class ErasureView(FamilyAPIView):
    @extend_schema(
        summary="Demander l'effacement de mes données",
        request=ErasureIn,
        responses={
            201: inline_serializer(
                "ErasureRequested",
                {"demande": serializers.IntegerField(), "detail": serializers.CharField()},
            )
        },
    )
    def post(self, request):
        data = ErasureIn(data=request.data)
        data.is_valid(raise_exception=True)
        pending = (
            selectors.family_demandes(self.household)
            .filter(kind="erasure")
            .exclude(status__in=services.CLOSED_DEMANDE_STATUSES)
            .first()
        )
        if pending:
            return problem(409, "Une demande d'effacement est déjà en cours.", demande=pending.pk)
        demande = submit_demande(
            kind="erasure",
            subject="Demande d'effacement de mes données personnelles",
            submitted_by=request.user,
            household=self.household,
            message=data.validated_data.get("message", ""),
        )
        return Response(
            {"demande": demande.pk, "detail": "Demande d'effacement envoyée."},
            status=status.HTTP_201_CREATED,
        )
