"""Trading partners' verification requests as the API shows them (the dashboard's request log)."""

from rest_framework import serializers

from vrs.models import VrsRequest


class VrsRequestSerializer(serializers.ModelSerializer):
    class Meta:
        model = VrsRequest
        fields = [
            "id",
            "requested_at",
            "requester_gln",
            "api_key",
            "gtin",
            "lot",
            "serial",
            "expiry",
            "code",
            "corr_uuid",
            "context",
            "verified",
            "failure_reason",
            "additional_info",
        ]
        read_only_fields = fields
