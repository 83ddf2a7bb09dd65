"""Webhook endpoints and their delivery log. A signing secret is shown when it is made (create, rotate) and
never again: lists and reads leave it out."""

from rest_framework import serializers

from notifications.models import EVENT_CHOICES, Webhook, WebhookAttempt, WebhookDelivery


class WebhookSerializer(serializers.ModelSerializer):
    enabled = serializers.BooleanField(source="is_active", read_only=True)
    secret_overlap_until = serializers.DateTimeField(source="previous_secret_until", read_only=True, allow_null=True)

    class Meta:
        model = Webhook
        fields = [
            "id",
            "url",
            "description",
            "events",
            "enabled",
            "consecutive_failures",
            "disabled_at",
            "secret_overlap_until",
            "created_at",
        ]
        read_only_fields = fields


class WebhookWithSecretSerializer(WebhookSerializer):
    """The answer to a create or a rotation: the only time the secret is shown."""

    secret = serializers.CharField(read_only=True)

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class EventList(serializers.ListField):
    """Event names (each one of EVENTS); a wrong one is named in a flat message, not nested by its index."""

    def __init__(self, **kwargs):
        super().__init__(child=serializers.ChoiceField(choices=EVENT_CHOICES), help_text="Empty: every event", **kwargs)

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if isinstance(exc.detail, dict):  # {index: [message]}
                raise serializers.ValidationError([m for ms in exc.detail.values() for m in ms]) from None
            raise


class WebhookCreateSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=500)
    description = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    events = EventList(required=False, default=list)


class WebhookUpdateSerializer(serializers.Serializer):
    """What a PATCH may change; fields left out stay as they are."""

    description = serializers.CharField(max_length=120, required=False, allow_blank=True)
    events = EventList(required=False)
    enabled = serializers.BooleanField(required=False, help_text="On again: its failure count starts from nothing")


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["attempted_at", "status_code", "milliseconds", "response_excerpt", "error"]
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer):
    attempt_log = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = ["id", "event", "event_id", "state", "attempts", "created_at", "finished_at", "attempt_log"]
        read_only_fields = fields
