"""Trading partners' verification requests as the API shows them (the dashboard's request log)."""

from rest_framework import serializers

from vrs.models import AdditionalInfo, FailureReason, VrsRequest


class VrsRequestSerializer(serializers.ModelSerializer):
    failure_reason = serializers.ChoiceField(
        choices=FailureReason.choices, allow_blank=True, help_text="Empty: verified"
    )
    additional_info = serializers.ChoiceField(
        choices=AdditionalInfo.choices, allow_blank=True, help_text="Empty: nothing to add"
    )

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
