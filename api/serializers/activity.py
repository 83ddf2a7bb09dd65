"""Scans and alerts as the API shows them: what the dashboard shows, never a consumer's network or device."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from scans import alerts
from scans.models import Alert, AlertEvent, AlertStatus, Scan


class ScanSerializer(serializers.ModelSerializer):
    class Meta:
        model = Scan
        fields = [
            "id",
            "scanned_at",
            "gtin",
            "serial",
            "code",
            "product",
            "outcome",
            "source",
            "place",
            "city",
            "region_code",
            "country_code",
            "location_source",
            "distributor",
            "out_of_territory",
        ]
        read_only_fields = fields


class AlertSerializer(serializers.ModelSerializer):
    class Meta:
        model = Alert
        fields = [
            "id",
            "kind",
            "severity",
            "status",
            "count",
            "code",
            "product",
            "distributor",
            "gtin",
            "serial",
            "place",
            "region_code",
            "country_code",
            "details",
            "opened_at",
            "last_seen_at",
            "status_changed_at",
            "closed_at",
            "close_reason",
        ]
        read_only_fields = fields


class AlertEventSerializer(serializers.ModelSerializer):
    by = serializers.SerializerMethodField()
    from_status = serializers.ChoiceField(choices=AlertStatus.choices, allow_blank=True, help_text="Empty: opened")

    class Meta:
        model = AlertEvent
        fields = ["at", "by", "from_status", "to_status", "note"]
        read_only_fields = fields

    def get_by(self, event) -> str | None:
        return event.by.email if event.by_id and event.by else None


class TimelineScanSerializer(serializers.Serializer):
    """A scan on an alert's timeline (scans.alerts.page_timeline): where in words, which device, whether evidence."""

    scan = serializers.IntegerField(source="scan.pk")
    scanned_at = serializers.DateTimeField(source="scan.scanned_at")
    outcome = serializers.CharField(source="scan.outcome")
    where = serializers.CharField()
    device = serializers.CharField()
    evidence = serializers.BooleanField()


class AlertDetailSerializer(AlertSerializer):
    reasons = serializers.SerializerMethodField()
    opened_in = serializers.SerializerMethodField()
    next_statuses = serializers.SerializerMethodField()
    events = serializers.SerializerMethodField()
    timeline = serializers.SerializerMethodField()

    class Meta(AlertSerializer.Meta):
        fields = [*AlertSerializer.Meta.fields, "reasons", "opened_in", "next_statuses", "events", "timeline"]
        read_only_fields = fields

    def get_reasons(self, alert) -> list[str]:
        return [str(reason) for reason in alerts.reasons(alert)]

    def get_opened_in(self, alert) -> str:
        return str(alerts.opened_in(alert))

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=AlertStatus.choices)))
    def get_next_statuses(self, alert) -> list[str]:
        return [s.value for s in AlertStatus if s in alerts.TRANSITIONS[alert.status]]

    @extend_schema_field(AlertEventSerializer(many=True))
    def get_events(self, alert) -> list[dict]:
        return AlertEventSerializer(AlertEvent.objects.filter(alert=alert).select_related("by"), many=True).data

    @extend_schema_field(TimelineScanSerializer(many=True))
    def get_timeline(self, alert) -> list[dict]:
        return TimelineScanSerializer(alerts.page_timeline(alert), many=True).data


class AlertMoveSerializer(serializers.Serializer):
    to_status = serializers.ChoiceField(choices=AlertStatus.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
