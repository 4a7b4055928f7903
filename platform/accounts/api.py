"""API of accounts: the sign-in state (/<slug>/api/compte/moi/)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.otp import is_verified
from core.access import PUBLIC, access


class MeOutput(serializers.Serializer):
    authenticated = serializers.BooleanField()
    username = serializers.CharField(allow_null=True)
    first_name = serializers.CharField(allow_null=True)
    last_name = serializers.CharField(allow_null=True)
    email = serializers.EmailField(allow_null=True)
    role = serializers.CharField(allow_null=True)
    previous_login = serializers.DateTimeField(
        allow_null=True,
        help_text="Connexion précédant celle en cours (« Dernière connexion le… »).",
    )
    second_factor_verified = serializers.BooleanField()


@access(PUBLIC)
class MeView(APIView):
    """Who is signed in here (200 with `authenticated: false` when nobody)."""

    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="compte_moi",
        responses=MeOutput,
        tags=["compte"],
        summary="État de connexion du compte courant",
    )
    def get(self, request):
        user = request.user
        if not user.is_authenticated:
            data = dict.fromkeys(MeOutput().fields, None) | {
                "authenticated": False,
                "second_factor_verified": False,
            }
        else:
            data = {
                "authenticated": True,
                "username": user.username,
                "first_name": user.first_name,
                "last_name": user.last_name,
                "email": user.email,
                "role": user.role,
                "previous_login": user.previous_login,
                "second_factor_verified": is_verified(user),
            }
        response = Response(MeOutput(data).data)
        response["Cache-Control"] = "no-store"
        return response
