"""Distributors, assignments and cartons as the API shows them; the shape of what it takes (rules: services)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from codes.models import CodeBatch
from distributors.models import Assignment, Carton, Distributor

from .catalogue import ActorRowField  # the id of a row the key may see: another brand's is "does not exist"


class RangeSerializer(serializers.Serializer):
    """Print positions of a batch, 1-based and inclusive (codes.positions' one range vocabulary)."""

    first_position = serializers.IntegerField(min_value=1)
    last_position = serializers.IntegerField(min_value=1)


# --- distributors -----------------------------------------------------------------------------------------


class DistributorSerializer(serializers.ModelSerializer):
    territory = serializers.ListField(
        child=serializers.CharField(max_length=10),
        allow_empty=False,
        max_length=500,
        help_text='ISO 3166-1 countries and ISO 3166-2 subdivisions, e.g. ["SG", "MY-14"].',
    )

    class Meta:
        model = Distributor
        fields = ["id", "name", "code", "territory", "contact_name", "contact_email", "phone", "created_at"]
        read_only_fields = ["created_at"]
        validators: list = []  # the service says which code is taken, in its words


# --- assignments ------------------------------------------------------------------------------------------


class AssignmentState:
    """What an assignment is now: held (not yet received), received, or ended by a move or a return."""

    HELD = "held"
    RECEIVED = "received"
    MOVED = "moved"
    RETURNED = "returned"
    CHOICES = [(HELD, "Held"), (RECEIVED, "Received"), (MOVED, "Moved"), (RETURNED, "Returned")]


class AssignmentSerializer(serializers.ModelSerializer):
    distributor_name = serializers.CharField(source="distributor.name", read_only=True)
    quantity = serializers.IntegerField(read_only=True)
    state = serializers.SerializerMethodField()
    replaces = serializers.SerializerMethodField(help_text="The assignment this one was cut from, if one of yours.")

    class Meta:
        model = Assignment
        fields = [
            "id",
            "batch",
            "distributor",
            "distributor_name",
            "first_position",
            "last_position",
            "quantity",
            "shipment_reference",
            "state",
            "assigned_at",
            "received_at",
            "ended_at",
            "replaces",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "enum": [value for value, _ in AssignmentState.CHOICES]})
    def get_state(self, row: Assignment) -> str:
        if row.end_reason:
            return row.end_reason  # moved, returned
        received = getattr(row, "all_received", row.received_at is not None)
        return AssignmentState.RECEIVED if received else AssignmentState.HELD

    def get_replaces(self, row: Assignment) -> int | None:
        """A distributor's key sees no id of a sibling's row (a moved range replaces the giver's assignment)."""
        actor = self.context["request"].actor
        if row.replaces_id is None or not actor.is_distributor:
            return row.replaces_id
        return row.replaces_id if getattr(row, "replaces_distributor_id", None) == actor.distributor_id else None


class AssignSerializer(RangeSerializer):
    batch = ActorRowField(queryset=CodeBatch.objects.all())
    distributor = ActorRowField(queryset=Distributor.objects.all())
    shipment_reference = serializers.CharField(max_length=80, required=False, default="", allow_blank=True)


class MoveSerializer(serializers.Serializer):
    """Part of an assignment (the whole of it by default) to another distributor of the brand."""

    to = ActorRowField(queryset=Distributor.objects.all(), help_text="The distributor that receives the range")
    first_position = serializers.IntegerField(min_value=1, required=False)
    last_position = serializers.IntegerField(min_value=1, required=False)
    shipment_reference = serializers.CharField(max_length=80, required=False, default="", allow_blank=True)


class ReturnSerializer(serializers.Serializer):
    """Part of an assignment (the whole of it by default) back to the brand."""

    first_position = serializers.IntegerField(min_value=1, required=False)
    last_position = serializers.IntegerField(min_value=1, required=False)


class ReassignedSerializer(serializers.Serializer):
    ended = AssignmentSerializer(help_text="This assignment, now ended")
    created = AssignmentSerializer(many=True, help_text="The current rows that replace it")


class AssignmentReceivedSerializer(serializers.Serializer):
    units = serializers.IntegerField(help_text="Units newly marked received")
    assignment = AssignmentSerializer()


# --- cartons ----------------------------------------------------------------------------------------------


class CartonSerializer(serializers.ModelSerializer):
    quantity = serializers.IntegerField(read_only=True)
    received = serializers.SerializerMethodField(help_text="The carton, or the range holding it, was received")

    class Meta:
        model = Carton
        fields = [
            "id",
            "sscc",
            "batch",
            "first_position",
            "last_position",
            "quantity",
            "received",
            "created_at",
            "received_at",
        ]
        read_only_fields = fields

    def get_received(self, carton: Carton) -> bool:
        return bool(getattr(carton, "all_received", carton.received_at is not None))


class PackSerializer(RangeSerializer):
    batch = ActorRowField(queryset=CodeBatch.objects.all())
    size = serializers.IntegerField(min_value=1, help_text="Units per carton; it must divide the range's length")
    company_prefix = serializers.CharField(
        max_length=12,
        required=False,
        default="",
        allow_blank=True,
        help_text="The GS1 Company Prefix (approved for you) the product's GTIN starts with; by default the prefix "
        "of your approved claim that covers it",
    )
    extension = serializers.IntegerField(min_value=0, max_value=9, default=0, help_text="The SSCC's extension digit")


class PackedSerializer(serializers.Serializer):
    cartons = CartonSerializer(many=True, help_text="The new cartons in position order, each with its SSCC")


class CartonAssignSerializer(serializers.Serializer):
    distributor = ActorRowField(queryset=Distributor.objects.all())


class CartonReceivedSerializer(serializers.Serializer):
    units = serializers.IntegerField(help_text="Units newly marked received")
    carton = CartonSerializer()
