"""Imports of serials made elsewhere, as the API shows and takes them (the rules: codes.imports)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from codes.models import ImportFormat, Product, SerialImport
from codes.serials import MAX_LENGTH

from .catalogue import PROGRESS, ActorRowField

MAX_JSON_SERIALS = 100_000  # in a JSON body; a bigger list goes as a file (multipart), up to IMPORT_MAX_BYTES


class SerialImportSerializer(serializers.ModelSerializer):
    lot_number = serializers.CharField(source="lot.number")
    progress = serializers.SerializerMethodField()
    status_url = serializers.SerializerMethodField(help_text="Poll this URL for the state and progress.")
    refused_url = serializers.SerializerMethodField(help_text="Every refused line with its reason, as CSV.")

    class Meta:
        model = SerialImport
        fields = [
            "id",
            "product",
            "lot",
            "lot_number",
            "batch",
            "format",
            "size",
            "state",
            "lines_accepted",
            "lines_refused",
            "progress",
            "error",
            "created_at",
            "started_at",
            "finished_at",
            "status_url",
            "refused_url",
        ]
        read_only_fields = fields

    @extend_schema_field(PROGRESS)
    def get_progress(self, serial_import: SerialImport) -> dict[str, Any]:
        return serial_import.progress(state_label=serial_import.get_state_display())

    def get_status_url(self, serial_import: SerialImport) -> str:
        return reverse("import-detail", kwargs={"import_id": serial_import.pk}, request=self.context["request"])

    def get_refused_url(self, serial_import: SerialImport) -> str:
        return reverse("import-refused", kwargs={"import_id": serial_import.pk}, request=self.context["request"])


class SerialImportCreateSerializer(serializers.Serializer):
    """A file of serials (multipart: `file` with `format`), or a list of them in a JSON body (`serials`)."""

    product = ActorRowField(queryset=Product.objects.all())
    lot_number = serializers.CharField(max_length=40)
    expires_on = serializers.DateField(required=False, allow_null=True)
    manufactured_on = serializers.DateField(required=False, allow_null=True)
    file = serializers.FileField(required=False, help_text="CSV (a serial a line, first column) or a JSON list")
    format = serializers.ChoiceField(choices=ImportFormat.choices, required=False, help_text="Of the file")
    serials = serializers.ListField(
        child=serializers.CharField(max_length=MAX_LENGTH * 4, trim_whitespace=False, allow_blank=True),
        required=False,
        max_length=MAX_JSON_SERIALS,
        help_text=f"Instead of a file: up to {MAX_JSON_SERIALS:,} serials",
    )

    def validate(self, attrs):
        if ("file" in attrs) == ("serials" in attrs):
            raise serializers.ValidationError({"file": ["Send either a `file` or a list of `serials`."]})
        if "file" in attrs and "format" not in attrs:
            raise serializers.ValidationError({"format": ["Say which format the file is in (csv or json)."]})
        if "serials" in attrs and not attrs["serials"]:
            raise serializers.ValidationError({"serials": ["List at least one serial."]})
        return attrs
