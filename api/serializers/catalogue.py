"""Products, lots, batches and print jobs as the API shows them; the shape of what it takes (rules: services)."""

from __future__ import annotations

import dataclasses
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from codes import linktypes
from codes.models import (
    MAX_BATCH_QUANTITY,
    CodeBatch,
    Lot,
    PrintFile,
    PrintFormat,
    PrintJob,
    Product,
    ProductLink,
    SerialAlphabet,
)
from codes.printing.options import OPTIONS
from codes.serials import MAX_LENGTH
from codes.services import frozen_product_fields


class ActorRowField(serializers.PrimaryKeyRelatedField):
    """The id of a row the key's actor may see; another brand's id is "does not exist", as an unknown one."""

    def get_queryset(self):
        return self.queryset.model._default_manager.for_actor(self.context["request"].actor)


PROGRESS = {
    "type": "object",
    "description": "What the dashboard's progress bar shows",
    "properties": {
        "state": {"type": "string"},
        "state_label": {"type": "string"},
        "codes_done": {"type": "integer"},
        "quantity": {"type": "integer"},
        "percent": {"type": "integer"},
        "finished": {"type": "boolean"},
    },
    "required": ["state", "codes_done", "quantity", "percent", "finished"],
}


REGISTRATIONS = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "regulator": {"type": "string", "description": "NPRA (Malaysia) or FDA (United States)"},
            "country": {"type": "string", "description": "ISO 3166-1 alpha-2"},
            "kind": {"type": "string", "enum": ["mal", "not", "ndc"]},
            "number": {"type": "string"},
            "search_url": {"type": "string", "format": "uri"},
        },
        "required": ["regulator", "country", "kind", "number", "search_url"],
    },
}


# --- products ---------------------------------------------------------------------------------------------


class ProductSerializer(serializers.ModelSerializer):
    gtin = serializers.CharField(
        max_length=24,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="8, 12, 13 or 14 digits (stored as GTIN-14) under a GS1 Company Prefix you have claimed; "
        "leave out for a product without a GTIN (it gets a Serialize product ref).",
    )
    serial_alphabet = serializers.ChoiceField(choices=SerialAlphabet.choices, required=False)
    serial_length = serializers.IntegerField(min_value=1, max_value=MAX_LENGTH, required=False, allow_null=True)
    ndc = serializers.CharField(
        max_length=24,
        required=False,
        allow_blank=True,
        help_text="US drugs only: the NDC inside the GTIN (a GTIN-14 starting 003). Reads as the label's "
        'labeler-product-package form when given (12345-678-90), else its 10 digits; "" for a GTIN without one. '
        "Write the form your label uses; another NDC than the GTIN's is refused.",
    )
    registration_number = serializers.CharField(
        max_length=24,
        required=False,
        allow_blank=True,
        help_text="Malaysia: the NPRA registration number (MAL19990123AZ) or cosmetic notification number "
        "(NOT190500123K) printed on the pack.",
    )
    needs_farmatag = serializers.BooleanField(
        required=False,
        help_text="Must also carry the Ministry of Health's FarmaTag security label (a MAL registration needed): "
        "the verify page tells consumers to check that label too.",
    )
    registrations = serializers.SerializerMethodField(
        help_text="Its regulators' identifiers as the verify page shows them, each with the public search to "
        "check it in."
    )
    frozen_fields = serializers.SerializerMethodField(help_text="What cannot change any more: its codes use it.")

    class Meta:
        model = Product
        fields = [
            "id",
            "name",
            "variant",
            "gtin",
            "ref",
            "ndc",
            "registration_number",
            "needs_farmatag",
            "registrations",
            "image",
            "serial_alphabet",
            "serial_length",
            "frozen_fields",
            "created_at",
        ]
        read_only_fields = ["ref", "image", "created_at"]

    def get_frozen_fields(self, product: Product) -> list[str]:
        return frozen_product_fields(product)

    @extend_schema_field(REGISTRATIONS)
    def get_registrations(self, product: Product) -> list[dict[str, str]]:
        return [dataclasses.asdict(registration) for registration in product.registrations]

    def to_representation(self, product: Product) -> dict[str, Any]:
        data = super().to_representation(product)
        data["ndc"] = product.ndc_shown  # derived from the GTIN: the stored value is only its label's split
        return data


# --- lots -------------------------------------------------------------------------------------------------


class LotSerializer(serializers.ModelSerializer):
    product = ActorRowField(queryset=Product.objects.all())
    number = serializers.CharField(max_length=40, help_text="As AI (10) carries it: up to 20 characters.")
    is_expired = serializers.BooleanField(read_only=True)

    class Meta:
        model = Lot
        fields = ["id", "product", "number", "manufactured_on", "expires_on", "is_expired", "created_at"]
        read_only_fields = ["created_at"]
        validators: list = []  # the service makes or finds the lot of a number: no unique check here


# --- product links ----------------------------------------------------------------------------------------


class ProductLinkSerializer(serializers.ModelSerializer):
    product = ActorRowField(queryset=Product.objects.all())
    link_type = serializers.ChoiceField(
        choices=linktypes.ATTACHABLE,
        help_text="A GS1 link type (its term: pip, epil, recallStatus ...); the resolver names it gs1:<term>.",
    )

    class Meta:
        model = ProductLink
        fields = ["id", "product", "link_type", "title", "href", "language", "media_type", "created_at"]
        read_only_fields = ["created_at"]


# --- batches ----------------------------------------------------------------------------------------------


class StatusUrlMixin(serializers.Serializer):
    status_url = serializers.SerializerMethodField(help_text="Poll this URL for the state and progress.")
    progress = serializers.SerializerMethodField()

    detail_route: str

    def get_status_url(self, work) -> str:
        request = self.context["request"]
        return reverse(self.detail_route, kwargs={type(work).url_id: work.pk}, request=request)

    @extend_schema_field(PROGRESS)
    def get_progress(self, work) -> dict[str, Any]:
        return work.progress(state_label=work.get_state_display())


class BatchSerializer(StatusUrlMixin, serializers.ModelSerializer):
    detail_route = "batch-detail"

    class Meta:
        model = CodeBatch
        fields = [
            "id",
            "number",
            "product",
            "lot",
            "quantity",
            "with_pin",
            "state",
            "progress",
            "error",
            "created_at",
            "started_at",
            "finished_at",
            "status_url",
        ]
        read_only_fields = fields


class BatchOrderSerializer(serializers.Serializer):
    """An order: a lot by its id, or by its number (made if new, with its dates)."""

    product = ActorRowField(queryset=Product.objects.all())
    lot = ActorRowField(queryset=Lot.objects.all(), required=False, help_text="An existing lot of the product")
    lot_number = serializers.CharField(
        max_length=40, required=False, help_text="Or the lot's number: the lot is made if the product has none"
    )
    expires_on = serializers.DateField(required=False, allow_null=True)
    manufactured_on = serializers.DateField(required=False, allow_null=True)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_BATCH_QUANTITY)
    with_pin = serializers.BooleanField(default=False)

    def validate(self, attrs):
        if ("lot" in attrs) == ("lot_number" in attrs):
            raise serializers.ValidationError({"lot": ["Send either `lot` (an id) or `lot_number`."]})
        return attrs


# --- print jobs -------------------------------------------------------------------------------------------


class PrintFileSerializer(serializers.ModelSerializer):
    is_manifest = serializers.BooleanField(read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = PrintFile
        fields = ["part", "is_manifest", "first_position", "last_position", "state", "size", "sha256", "download_url"]
        read_only_fields = fields

    def get_download_url(self, file: PrintFile) -> str:
        kwargs = {"print_job_id": file.job_id, "part": file.part}
        return reverse("print-job-file", kwargs=kwargs, request=self.context["request"])


def _options_help() -> str:
    return "Options of the format (defaults filled in): " + "; ".join(
        f"{fmt}: {', '.join(o.name for o in options) or 'none'}" for fmt, options in OPTIONS.items()
    )


class PrintJobSerializer(StatusUrlMixin, serializers.ModelSerializer):
    detail_route = "print-job-detail"
    files = PrintFileSerializer(many=True, read_only=True)

    class Meta:
        model = PrintJob
        fields = [
            "id",
            "number",
            "batch",
            "format",
            "options",
            "first_position",
            "last_position",
            "part_size",
            "state",
            "progress",
            "error",
            "files",
            "created_at",
            "started_at",
            "finished_at",
            "status_url",
        ]
        read_only_fields = fields


class PrintRequestSerializer(serializers.Serializer):
    batch = ActorRowField(queryset=CodeBatch.objects.all())
    format = serializers.ChoiceField(choices=PrintFormat.choices)
    options = serializers.DictField(required=False, default=dict, help_text=_options_help())
    first_position = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    last_position = serializers.IntegerField(min_value=1, required=False, allow_null=True)
