"""Family API (/<slug>/api/famille/...): the same operations as the pages.

Thin views: a serializer validates, families.services writes, families.selectors
reads (scoped to the signed-in account: another family's id is a 404). Errors
are problem documents (core.api) with French messages. A change the town
validates answers 202 with the request created; a change applied at once, 200.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.fields import get_error_detail
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsFamily
from core.access import FAMILY_API, FAMILY_API_OBJECT, access
from core.api import problem
from core.parsers import BoundedJSONParser
from demandes import handlers
from demandes import rules as demande_rules
from demandes.models import Attachment, Demande, DemandeEvent
from demandes.services import change_status, post_message
from demandes.uploads import serve_attachment
from families import selectors, services, validators
from families.models import Adult, Child, EntourageMember, HealthSheet, Household
from families.templatetags.famille import actor_for_family

# --- serializers -------------------------------------------------------------


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem document (core.api)."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    errors = serializers.DictField(required=False)


PROBLEMS = {
    400: OpenApiResponse(ProblemSerializer, description="Données invalides (détail en français)"),
    403: OpenApiResponse(ProblemSerializer, description="Non connecté ou compte non famille"),
    404: OpenApiResponse(ProblemSerializer, description="Introuvable (ou d'une autre famille)"),
}


class _PhoneMixin:
    def validate_phone(self, value):
        return validators.normalize_phone(value) if value else value

    def validate_doctor_phone(self, value):
        return validators.normalize_phone(value) if value else value


class AdultSerializer(_PhoneMixin, serializers.ModelSerializer):
    class Meta:
        model = Adult
        fields = ["id", "first_name", "last_name", "email", "phone"]
        read_only_fields = ["id", "first_name", "last_name"]
        extra_kwargs = {"email": {"required": True, "allow_blank": False}}


class HouseholdSerializer(serializers.ModelSerializer):
    adults = AdultSerializer(many=True, read_only=True)

    class Meta:
        model = Household
        fields = ["name", *services.ADDRESS_FIELDS, *services.QF_FIELDS, "payer", "adults"]
        read_only_fields = fields


class AddressSerializer(serializers.ModelSerializer):
    class Meta:
        model = Household
        fields = list(services.ADDRESS_FIELDS)
        extra_kwargs = {
            f: {"required": True, "allow_blank": False} for f in services.ADDRESS_FIELDS
        }


class QuotientFamilialSerializer(serializers.ModelSerializer):
    class Meta:
        model = Household
        fields = list(services.QF_FIELDS)
        extra_kwargs = {
            "quotient_familial": {"required": True, "allow_null": False},
            "qf_source": {"required": True, "allow_blank": False},
            "qf_date": {"required": True, "allow_null": False},
            "allocataire_regime": {"required": True, "allow_blank": False},
        }

    def validate(self, attrs):
        validators.check_quotient_familial(attrs, today=timezone.localdate())
        return attrs


class ChildSerializer(serializers.ModelSerializer):
    guardians = serializers.SerializerMethodField()

    class Meta:
        model = Child
        fields = ["id", *services.CHILD_FIELDS, "guardians"]
        read_only_fields = fields

    def get_guardians(self, child) -> list[str]:
        return [f"{a.first_name} {a.last_name}" for a in child.guardians.all()]


class ChildCreateSerializer(serializers.ModelSerializer):
    class Meta:
        model = Child
        fields = list(services.CHILD_FIELDS)

    def validate(self, attrs):
        validators.check_child(attrs, today=timezone.localdate())
        return attrs


class HealthSheetSerializer(_PhoneMixin, serializers.ModelSerializer):
    class Meta:
        model = HealthSheet
        fields = [*services.HEALTH_FIELDS, "updated_at"]
        read_only_fields = ["updated_at"]


class EntourageSerializer(_PhoneMixin, serializers.ModelSerializer):
    class Meta:
        model = EntourageMember
        fields = ["id", *services.ENTOURAGE_FIELDS]
        read_only_fields = ["id"]

    def validate(self, attrs):
        validators.check_entourage(attrs)
        return attrs


class AttachmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "original_name", "content_type", "size", "url"]

    def get_url(self, attachment) -> str:
        return reverse(
            "api:famille:attachment",
            kwargs={"demande_pk": attachment.event.demande_id, "pk": attachment.pk},
        )


class EventSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()
    # Plain strings: the same choices as `DemandeSerializer.status` (one enum in the schema).
    from_status = serializers.CharField(read_only=True, help_text="Statut avant (vide : aucun)")
    to_status = serializers.CharField(read_only=True, help_text="Statut après (vide : message)")
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = DemandeEvent
        fields = ["created_at", "author", "from_status", "to_status", "message", "attachments"]

    def get_author(self, event) -> str:
        return actor_for_family(event, self.context["request"].user)


class DemandeSerializer(serializers.ModelSerializer):
    kind_label = serializers.SerializerMethodField()
    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = Demande
        fields = [
            "id",
            "kind",
            "kind_label",
            "subject",
            "status",
            "status_label",
            "child",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_kind_label(self, demande) -> str:
        return handlers.label(demande.kind)


class DetailLineSerializer(serializers.Serializer):
    label = serializers.CharField()
    value = serializers.CharField()


class DemandeDetailSerializer(DemandeSerializer):
    details = serializers.SerializerMethodField()
    history = EventSerializer(many=True, read_only=True)

    class Meta(DemandeSerializer.Meta):
        fields = [*DemandeSerializer.Meta.fields, "details", "history"]

    @extend_schema_field(DetailLineSerializer(many=True))
    def get_details(self, demande) -> list[dict]:
        kind = handlers.get(demande.kind)
        lines = kind.describe(demande) if kind and kind.describe else []
        return [{"label": label, "value": value} for label, value in lines]


class MessageInputSerializer(serializers.Serializer):
    message = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    attachment = serializers.FileField(required=False)


class ChangeResultSerializer(serializers.Serializer):
    applied = serializers.BooleanField(help_text="Vrai : enregistré ; faux : demande à valider.")
    message = serializers.CharField()
    demande = DemandeSerializer(allow_null=True)


# --- views -----------------------------------------------------------------


class FamilyAPIView(APIView):
    permission_classes = [IsFamily]

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"  # children's data: never cached (security.md)
        return response

    def change(self, *, change: str, payload: dict, child=None, created=status.HTTP_200_OK):
        adult = selectors.adult_of(self.request.user)
        try:
            outcome = services.request_change(
                adult=adult, change=change, payload=payload, child=child
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(get_error_detail(exc)) from None
        body = ChangeResultSerializer(
            {
                "applied": outcome.applied,
                "message": outcome.message,
                "demande": outcome.demande,
            }
        ).data
        return Response(body, status=created if outcome.applied else status.HTTP_202_ACCEPTED)


CHANGE_RESPONSES = {
    200: ChangeResultSerializer,
    202: OpenApiResponse(ChangeResultSerializer, description="Demande créée, à valider"),
    **PROBLEMS,
}


@access(FAMILY_API)
class HouseholdView(FamilyAPIView):
    @extend_schema(summary="Mon foyer", responses={200: HouseholdSerializer, **PROBLEMS})
    def get(self, request):
        return Response(HouseholdSerializer(selectors.household_of(request.user)).data)

    @extend_schema(
        summary="Changer l'adresse du foyer", request=AddressSerializer, responses=CHANGE_RESPONSES
    )
    def put(self, request):
        serializer = AddressSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self.change(change="address", payload=serializer.validated_data)


@access(FAMILY_API)
class ContactsView(FamilyAPIView):
    @extend_schema(
        summary="Mes coordonnées (responsable légal)", responses={200: AdultSerializer, **PROBLEMS}
    )
    def get(self, request):
        return Response(AdultSerializer(selectors.adult_of(request.user)).data)

    @extend_schema(
        summary="Changer mon e-mail et mon téléphone",
        request=AdultSerializer,
        responses=CHANGE_RESPONSES,
    )
    def put(self, request):
        adult = selectors.adult_of(request.user)
        serializer = AdultSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self.change(
            change="contacts", payload={**serializer.validated_data, "adult_id": adult.pk}
        )


@access(FAMILY_API)
class QuotientFamilialView(FamilyAPIView):
    @extend_schema(
        summary="Signaler un nouveau quotient familial",
        request=QuotientFamilialSerializer,
        responses=CHANGE_RESPONSES,
    )
    def post(self, request):
        serializer = QuotientFamilialSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self.change(change="quotient_familial", payload=serializer.validated_data)


@access(FAMILY_API)
class ChildListView(FamilyAPIView):
    @extend_schema(summary="Mes enfants", responses={200: ChildSerializer(many=True), **PROBLEMS})
    def get(self, request):
        children = selectors.children_of(request.user).prefetch_related("guardians")
        return Response(ChildSerializer(children, many=True).data)

    @extend_schema(
        summary="Ajouter un enfant",
        request=ChildCreateSerializer,
        responses={201: ChangeResultSerializer, **CHANGE_RESPONSES},
    )
    def post(self, request):
        adult = selectors.adult_of(request.user)
        serializer = ChildCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self.change(
            change="child_add",
            payload={**serializer.validated_data, "adult_id": adult.pk},
            created=status.HTTP_201_CREATED,
        )


@access(FAMILY_API_OBJECT, pk="child")
class ChildDetailView(FamilyAPIView):
    @extend_schema(summary="Un enfant", responses={200: ChildSerializer, **PROBLEMS})
    def get(self, request, pk: int):
        return Response(ChildSerializer(selectors.child_of(request.user, pk)).data)


@access(FAMILY_API_OBJECT, pk="child")
class HealthSheetView(FamilyAPIView):
    @extend_schema(
        summary="Fiche sanitaire d'un enfant", responses={200: HealthSheetSerializer, **PROBLEMS}
    )
    def get(self, request, pk: int):
        child = selectors.child_of(request.user, pk)
        return Response(HealthSheetSerializer(services.child_health(child)).data)

    @extend_schema(
        summary="Mettre à jour la fiche sanitaire",
        request=HealthSheetSerializer,
        responses=CHANGE_RESPONSES,
    )
    def put(self, request, pk: int):
        child = selectors.child_of(request.user, pk)
        serializer = HealthSheetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self.change(change="health_sheet", payload=serializer.validated_data, child=child)


@access(FAMILY_API)
class EntourageListView(FamilyAPIView):
    @extend_schema(
        summary="Mon entourage", responses={200: EntourageSerializer(many=True), **PROBLEMS}
    )
    def get(self, request):
        return Response(EntourageSerializer(selectors.entourage_of(request.user), many=True).data)

    @extend_schema(
        summary="Ajouter une personne à l'entourage",
        request=EntourageSerializer,
        responses={201: ChangeResultSerializer, **CHANGE_RESPONSES},
    )
    def post(self, request):
        serializer = EntourageSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self.change(
            change="entourage_add",
            payload=serializer.validated_data,
            created=status.HTTP_201_CREATED,
        )


@access(FAMILY_API_OBJECT, pk="member")
class EntourageDetailView(FamilyAPIView):
    @extend_schema(
        summary="Une personne de l'entourage", responses={200: EntourageSerializer, **PROBLEMS}
    )
    def get(self, request, pk: int):
        return Response(EntourageSerializer(selectors.entourage_member_of(request.user, pk)).data)

    @extend_schema(
        summary="Retirer une personne de l'entourage",
        responses={200: ChangeResultSerializer, **CHANGE_RESPONSES},
    )
    def delete(self, request, pk: int):
        member = selectors.entourage_member_of(request.user, pk)
        return self.change(
            change="entourage_remove", payload={"member_id": member.pk, "name": str(member)}
        )


@access(FAMILY_API)
class DemandeListView(FamilyAPIView):
    @extend_schema(
        summary="Mes demandes", responses={200: DemandeSerializer(many=True), **PROBLEMS}
    )
    def get(self, request):
        selectors.adult_of(request.user)
        return Response(DemandeSerializer(selectors.demandes_of(request.user), many=True).data)


@access(FAMILY_API_OBJECT, pk="demande")
class DemandeDetailView(FamilyAPIView):
    @extend_schema(
        summary="Une demande et son historique",
        responses={200: DemandeDetailSerializer, **PROBLEMS},
    )
    def get(self, request, pk: int):
        demande = selectors.demande_of(request.user, pk, with_history=True)
        return Response(DemandeDetailSerializer(demande, context={"request": request}).data)


@access(FAMILY_API_OBJECT, pk="demande")
class DemandeMessageView(FamilyAPIView):
    parser_classes = [MultiPartParser, FormParser, BoundedJSONParser]

    @extend_schema(
        summary="Écrire aux services (avec une pièce jointe)",
        request={
            "multipart/form-data": MessageInputSerializer,
            "application/json": MessageInputSerializer,
        },
        responses={201: EventSerializer, **PROBLEMS},
    )
    def post(self, request, pk: int):
        demande = selectors.demande_of(request.user, pk)
        serializer = MessageInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            event = post_message(
                demande=demande,
                author=request.user,
                message=serializer.validated_data.get("message", ""),
                upload=serializer.validated_data.get("attachment"),
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(get_error_detail(exc)) from None
        return Response(
            EventSerializer(event, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


@access(FAMILY_API_OBJECT, pk="demande")
class DemandeCancelView(FamilyAPIView):
    @extend_schema(
        summary="Annuler ma demande",
        request=None,
        responses={
            200: DemandeSerializer,
            409: PROBLEMS[400],
            403: PROBLEMS[403],
            404: PROBLEMS[404],
        },
    )
    def post(self, request, pk: int):
        demande = selectors.demande_of(request.user, pk)
        if demande_rules.Action.CANCEL not in demande_rules.allowed_actions(
            demande.status, by_staff=False
        ):
            return problem(409, "Cette demande ne peut plus être annulée.")
        try:
            demande = change_status(demande=demande, action="cancel", actor=request.user)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(get_error_detail(exc)) from None
        return Response(DemandeSerializer(demande).data)


@access(FAMILY_API_OBJECT, pk="attachment")
class AttachmentView(FamilyAPIView):
    @extend_schema(
        summary="Télécharger une pièce jointe",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(description="Le fichier"),
            **PROBLEMS,
        },
    )
    def get(self, request, demande_pk: int, pk: int):
        return serve_attachment(selectors.attachment_of(request.user, demande_pk, pk))
