from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core import town_config
from core.access import PUBLIC, access
from core.models import Service
from core.modules import registry


class ServiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Service
        fields = ["code", "name", "kind", "module", "deadlines"]


@access(PUBLIC)
class TownInfoView(APIView):
    """The town's public identity and the services it offers."""

    @extend_schema(
        responses=inline_serializer(
            "TownInfo",
            {
                "name": serializers.CharField(),
                "slug": serializers.CharField(),
                "modules": serializers.ListField(child=serializers.CharField()),
                "services": ServiceSerializer(many=True),
            },
        )
    )
    def get(self, request):
        commune = request.commune
        modules = list(town_config.enabled_modules(commune))
        services = town_config.services(modules=modules)
        return Response(
            {
                "name": commune.name,
                "slug": commune.slug,
                "modules": modules,
                "services": ServiceSerializer(services, many=True).data,
            }
        )


@access(PUBLIC)
class ModuleInfoView(APIView):
    """A service module's kinds and this town's services of that module."""

    module_code = ""

    @extend_schema(
        responses=inline_serializer(
            "ModuleInfo",
            {
                "module": serializers.CharField(),
                "label": serializers.CharField(),
                "services": ServiceSerializer(many=True),
            },
        )
    )
    def get(self, request):
        module = registry()[self.module_code]
        services = town_config.services(module=self.module_code)
        return Response(
            {
                "module": module.module_code,
                "label": module.module_label,
                "services": ServiceSerializer(services, many=True).data,
            }
        )
