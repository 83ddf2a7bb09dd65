"""Code import: serials made elsewhere (a packaging line's or a serialization system's), registered as a batch."""

import json

from django.core.files.base import ContentFile
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, parsers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from codes import imports
from codes.models import ImportFormat, SerialImport

from ..base import BrandScopedViewSet
from ..serializers.imports import SerialImportCreateSerializer, SerialImportSerializer
from . import router


class SerialImportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BrandScopedViewSet):
    """Upload serials; poll the import; download the refused lines with their reasons."""

    model = SerialImport
    serializer_class = SerialImportSerializer
    write_permission = "codes.order"
    filterset_fields = ["product", "state"]
    parser_classes = [parsers.MultiPartParser, parsers.JSONParser]
    upload_limit = "IMPORT_MAX_BYTES"  # a file of up to 10 million serials (serialize_saas.middleware)

    def scope(self, rows):
        return rows.select_related("lot")

    @extend_schema(
        summary="Import serials (a file as multipart, or a JSON list): answered 202, registered in the background",
        request={"multipart/form-data": SerialImportCreateSerializer, "application/json": SerialImportCreateSerializer},
        responses={202: SerialImportSerializer},
    )
    def create(self, request, *args, **kwargs):
        asked = SerialImportCreateSerializer(data=request.data, context=self.get_serializer_context())
        asked.is_valid(raise_exception=True)
        data = asked.validated_data
        if "serials" in data:
            upload, fmt = ContentFile(json.dumps(data["serials"]).encode(), name="serials.json"), ImportFormat.JSON
        else:
            upload, fmt = data["file"], data["format"]
        serial_import = imports.start_import(
            brand=self.actor.brand,
            product=data["product"],
            lot_number=data["lot_number"],
            expires_on=data.get("expires_on"),
            manufactured_on=data.get("manufactured_on"),
            upload=upload,
            fmt=fmt,
            requested_by=self.actor.user,
        )
        body = SerialImportSerializer(serial_import, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["status_url"]})

    @extend_schema(
        summary="Every refused line (line, serial, reason) as CSV",
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="line,serial,reason")},
    )
    @action(detail=True, methods=["get"])
    def refused(self, request, *args, **kwargs):
        serial_import = self.get_object()
        response = StreamingHttpResponse(imports.refused_report(serial_import), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="import{serial_import.pk}-refused.csv"'
        return response


router.register("imports", SerialImportViewSet, basename="import")
