"""Codes and status changes (recalls) as the API shows them, and the shapes of what it is sent.

Shapes only (types, required, sizes): the rules are codes.recalls' and codes.packstates'.
"""

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from codes import recalls
from codes.models import ChangeScope, ChangeState, Code, CodeBatch, CodeStatus, Lot, Product, StatusChange
from scans.rules import effective_status

from .catalogue import ActorRowField

MAX_SERIAL_CHARS = 40  # a pasted serial, before its product's spelling rules (AI 21 is at most 20)


class SerialList(serializers.ListField):
    """A list of serials as sent (a job's may hold a million: checked in one pass, not a field per item)."""

    def __init__(self, **kwargs):
        super().__init__(child=serializers.CharField(max_length=MAX_SERIAL_CHARS), **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, list) or not all(isinstance(s, str) for s in data):
            raise serializers.ValidationError("Send a list of serials (strings).")
        if any(len(s) > MAX_SERIAL_CHARS for s in data):
            raise serializers.ValidationError(f"A serial has at most {MAX_SERIAL_CHARS} characters.")
        return super().to_internal_value(data)

    def run_child_validation(self, data):
        return data  # every item checked above, in one pass


class ScanSummarySerializer(serializers.Serializer):
    count = serializers.IntegerField(source="scan_count")
    first_scanned_at = serializers.DateTimeField(allow_null=True)
    first_scanned_in = serializers.CharField()
    last_scanned_at = serializers.DateTimeField(allow_null=True)
    suspect_at = serializers.DateTimeField(allow_null=True, help_text="When scans first made it a likely copy")


class CodeSerializer(serializers.ModelSerializer):
    """One unit: its identity, pack state, batch, lot and expiry, place in print order, and scans."""

    gtin = serializers.CharField(source="product.gtin", allow_null=True)
    product_ref = serializers.CharField(source="product.ref", allow_null=True)
    batch_number = serializers.IntegerField(source="batch.number")
    lot = serializers.CharField(source="batch.lot.number")
    expiry = serializers.DateField(source="batch.lot.expires_on", allow_null=True)
    position = serializers.IntegerField(help_text="1-based place in its batch's print order")
    status = serializers.ChoiceField(choices=CodeStatus.choices, help_text="The stored pack state")
    effective_status = serializers.SerializerMethodField(
        help_text="What a scan reads: the pack state, or `expired` for an active unit past its lot's expiry"
    )
    scans = ScanSummarySerializer(source="*")

    class Meta:
        model = Code
        fields = [
            "id",
            "serial",
            "product",
            "gtin",
            "product_ref",
            "batch",
            "batch_number",
            "lot",
            "expiry",
            "position",
            "status",
            "effective_status",
            "status_changed_at",
            "previous_status",
            "received_at",
            "scans",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_effective_status(self, code: Code) -> str:
        return effective_status(code.status, code.batch.lot.expires_on, timezone.localdate())


class UnitStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=CodeStatus.choices, help_text="The unit's new pack state")
    reason = serializers.CharField(max_length=recalls.MAX_REASON, help_text="Why: it goes into the audit trail")


class UnitStatusResultSerializer(serializers.Serializer):
    change_id = serializers.IntegerField(help_text="The audit row (GET /api/v1/recalls/{change_id}/)")
    code = CodeSerializer()


class BulkStatusSerializer(serializers.Serializer):
    """Units by code ids (at most 1,000, any products), or by serials of one product (given by GTIN or id):
    up to 1,000 are changed at once, more (up to 1,000,000 serials) become a job."""

    status = serializers.ChoiceField(choices=CodeStatus.choices)
    reason = serializers.CharField(max_length=recalls.MAX_REASON)
    consumer_message = serializers.CharField(max_length=recalls.MAX_MESSAGE, required=False, allow_blank=True)
    codes = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, min_length=1, max_length=recalls.APPLY_NOW_LIMIT
    )
    serials = SerialList(required=False, min_length=1, max_length=recalls.MAX_SERIALS)
    gtin = serializers.CharField(max_length=14, required=False, help_text="The serials' product")
    product = ActorRowField(queryset=Product.objects.all(), required=False, help_text="The serials' product, by id")

    def validate(self, data):
        if ("codes" in data) == ("serials" in data):
            raise serializers.ValidationError({"codes": ["Send either `codes` (ids) or `serials`."]})
        if "serials" in data and "gtin" not in data and "product" not in data:
            raise serializers.ValidationError({"gtin": ["Serials need their product: `gtin` or `product`."]})
        return data


class UnitResultSerializer(serializers.Serializer):
    serial = serializers.CharField(help_text="As sent (or the code's, for codes sent by id)")
    code_id = serializers.IntegerField(allow_null=True)
    status = serializers.CharField(allow_null=True, help_text="The unit's pack state now")
    outcome = serializers.ChoiceField(choices=["changed", "unchanged", "not_found"])
    detail = serializers.CharField(help_text="Why it was left as it is (empty when changed)")


class BulkResultSerializer(serializers.Serializer):
    changes = serializers.ListField(child=serializers.IntegerField(), help_text="The audit rows, one per product")
    changed = serializers.IntegerField()
    results = UnitResultSerializer(many=True)


class JobSerializer(serializers.Serializer):
    change_id = serializers.IntegerField()
    state = serializers.ChoiceField(choices=ChangeState.choices)
    quantity = serializers.IntegerField()
    status_url = serializers.CharField(help_text="GET it for the job's progress")


class RecallSerializer(serializers.ModelSerializer):
    """A recall (or any status change of many units) and its progress."""

    gtin = serializers.CharField(source="product.gtin", allow_null=True)
    lot_number = serializers.CharField(source="lot.number", allow_null=True)
    percent = serializers.IntegerField(source="progress_percent")
    finished = serializers.BooleanField(source="is_finished")
    from_counts = serializers.DictField(child=serializers.IntegerField(), help_text="Units changed, by state before")
    consumer_messages = serializers.DictField(child=serializers.CharField())

    class Meta:
        model = StatusChange
        fields = [
            "id",
            "to_status",
            "scope",
            "product",
            "gtin",
            "lot",
            "lot_number",
            "batch",
            "first_position",
            "last_position",
            "reason",
            "consumer_message",
            "consumer_messages",
            "state",
            "quantity",
            "codes_done",
            "percent",
            "finished",
            "codes_changed",
            "from_counts",
            "error",
            "created_at",
            "started_at",
            "finished_at",
            "undone_at",
            "codes_undone",
        ]
        read_only_fields = fields


class RecallCreateSerializer(serializers.Serializer):
    """Exactly one scope: a lot (by id, or by number with its product), a batch (or a range of its positions),
    or serials of one product."""

    lot = ActorRowField(queryset=Lot.objects.all(), required=False)
    lot_number = serializers.CharField(max_length=20, required=False)
    batch = ActorRowField(queryset=CodeBatch.objects.all(), required=False)
    first_position = serializers.IntegerField(min_value=1, required=False)
    last_position = serializers.IntegerField(min_value=1, required=False)
    serials = SerialList(required=False, min_length=1, max_length=recalls.MAX_SERIALS)
    gtin = serializers.CharField(max_length=14, required=False, help_text="The product of `lot_number` or `serials`")
    product = ActorRowField(queryset=Product.objects.all(), required=False, help_text="The same, by id")
    reason = serializers.CharField(max_length=recalls.MAX_REASON)
    consumer_message = serializers.CharField(max_length=recalls.MAX_MESSAGE, required=False, allow_blank=True)
    consumer_messages = serializers.DictField(
        child=serializers.CharField(max_length=recalls.MAX_MESSAGE, allow_blank=True),
        required=False,
        help_text="The message in the verify page's other languages, by language code",
    )


class RecallCreatedSerializer(RecallSerializer):
    status_url = serializers.SerializerMethodField()

    class Meta(RecallSerializer.Meta):
        fields = [*RecallSerializer.Meta.fields, "status_url"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_status_url(self, change: StatusChange) -> str:
        return self.context["status_url"]


class CountrySerializer(serializers.Serializer):
    country_code = serializers.CharField(help_text="Empty: not located")
    scans = serializers.IntegerField(source="n")


class LateScanSerializer(serializers.Serializer):
    scanned_at = serializers.DateTimeField()
    gtin = serializers.CharField()
    serial = serializers.CharField()
    code_id = serializers.IntegerField(allow_null=True)
    outcome = serializers.CharField()
    source = serializers.CharField()
    place = serializers.CharField()
    region_code = serializers.CharField()
    country_code = serializers.CharField()


class OwnerMessagesSerializer(serializers.Serializer):
    """A recall's e-mails to the registered owners of its units who agreed to safety messages: sent (reached),
    refused by the owner's mail server for good (bounced), given up after retries (failed), still to be sent."""

    reached = serializers.IntegerField()
    bounced = serializers.IntegerField()
    failed = serializers.IntegerField()
    waiting = serializers.IntegerField()


class RecallReportSerializer(serializers.Serializer):
    """What the dashboard's recall page reports: units changed by their state before, and the scans of those
    units since the change (how many, of how many units, by country, the latest)."""

    change_id = serializers.IntegerField(source="change.pk")
    to_status = serializers.CharField(source="change.to_status")
    scope = serializers.ChoiceField(source="change.scope", choices=ChangeScope.choices)
    quantity = serializers.IntegerField(source="change.quantity")
    codes_changed = serializers.IntegerField(source="change.codes_changed")
    from_counts = serializers.DictField(source="change.from_counts", child=serializers.IntegerField())
    scans_after = serializers.IntegerField(source="report.scans")
    units_scanned_after = serializers.IntegerField(source="report.units")
    countries = CountrySerializer(source="report.countries", many=True)
    latest = LateScanSerializer(source="report.latest", many=True)
    owner_messages = OwnerMessagesSerializer(source="owners", allow_null=True, help_text="Null for other changes")
