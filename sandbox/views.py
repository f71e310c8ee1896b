from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response

from .faults import fault_config
from .models import FaultConfig


class FaultConfigSerializer(serializers.ModelSerializer):
    class Meta:
        model = FaultConfig
        fields = [
            "system",
            "seed",
            "latency_ms",
            "error_rate",
            "rate_limit_rate",
            "retry_after_seconds",
            "hang_rate",
            "hang_seconds",
            "drop_rate",
            "requests_per_minute",
            "requests_limited",
            "updated_at",
        ]
        read_only_fields = ["system", "requests_limited", "updated_at"]


@api_view(["GET", "PUT", "PATCH"])
@permission_classes([IsAdminUser])
def faults_control(request, system: str):
    """Read or change one emulated system's faults while it runs (staff only)."""
    if system not in FaultConfig.System.values:
        return Response({"error": {"code": "not_found", "message": "Unknown system."}}, 404)
    config = fault_config(system)
    if request.method == "GET":
        return Response(FaultConfigSerializer(config).data)
    serializer = FaultConfigSerializer(config, data=request.data, partial=request.method == "PATCH")
    serializer.is_valid(raise_exception=True)
    serializer.save()
    return Response(serializer.data)
