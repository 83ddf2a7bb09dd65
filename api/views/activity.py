"""Scans (filters, CSV) and alerts (list, workflow)."""

import django_filters
from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from scans import alerts, export, queries
from scans.models import Alert, Scan, ScanOutcome

from ..base import BrandScopedViewSet
from ..pagination import Cursor
from ..serializers.activity import AlertDetailSerializer, AlertMoveSerializer, AlertSerializer, ScanSerializer
from . import router


class ScanCursor(Cursor):
    """The scan log pages by time (its partitions' key, so a page reads the months it needs), ties by id."""

    ordering = ("-scanned_at", "-id")


class CsvRenderer(JSONRenderer):
    """Lets `?format=csv` and `Accept: text/csv` choose CSV. The CSV itself is streamed by the view; what this
    renders is a problem (401, 403, 429 …) asked for as CSV, which stays JSON (its content type says so)."""

    media_type = "text/csv"
    format = "csv"


class ScanFilter(django_filters.FilterSet):
    since = django_filters.IsoDateTimeFilter(field_name="scanned_at", lookup_expr="gte", help_text="At or after")
    until = django_filters.IsoDateTimeFilter(field_name="scanned_at", lookup_expr="lt", help_text="Before")
    country = django_filters.CharFilter(method="in_country", max_length=2, help_text="ISO 3166-1 code, e.g. MY")
    region = django_filters.CharFilter(
        method="in_region", max_length=8, help_text="ISO 3166-2 code (MY-14), or a country code (MY)"
    )
    code = django_filters.CharFilter(field_name="serial", lookup_expr="iexact", max_length=40, help_text="Serial")
    distributor = django_filters.NumberFilter(field_name="distributor_id", help_text="Distributor id")
    outcome = django_filters.ChoiceFilter(choices=ScanOutcome.choices)

    class Meta:
        model = Scan
        fields = ["since", "until", "country", "region", "code", "distributor", "outcome"]

    def in_country(self, scans, name, value):
        return scans.filter(country_code=value.strip().upper())

    def in_region(self, scans, name, value):
        return queries.in_region(scans, value)


CSV_FORMAT = OpenApiParameter(
    "format", OpenApiTypes.STR, enum=["json", "csv"], description="csv (or Accept: text/csv): every match as CSV"
)


class ScanViewSet(mixins.ListModelMixin, BrandScopedViewSet):
    model = Scan
    serializer_class = ScanSerializer
    filterset_class = ScanFilter
    pagination_class = ScanCursor
    renderer_classes = [JSONRenderer, CsvRenderer]

    @extend_schema(
        summary="The scan log, newest first; as CSV, every matching scan",
        description="Pages by cursor, newest first. With `?format=csv` or `Accept: text/csv` every matching scan is "
        "streamed as one CSV file (no pages), with the dashboard export's columns: "
        + ", ".join(name for name, _ in export.CSV_COLUMNS)
        + ".",
        parameters=[CSV_FORMAT],
        responses={
            (200, "application/json"): ScanSerializer(many=True),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The scans as CSV, streamed"),
        },
    )
    def list(self, request, *args, **kwargs):
        if request.accepted_renderer.format == "csv":
            return self._csv(self.filter_queryset(self.get_queryset()))
        return super().list(request, *args, **kwargs)

    def _csv(self, scans) -> StreamingHttpResponse:
        response = StreamingHttpResponse(export.csv_lines(scans), content_type="text/csv; charset=utf-8")
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="{self.actor.brand.slug}-scans-{stamp}.csv"'
        return response


class AlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BrandScopedViewSet):
    model = Alert
    serializer_class = AlertSerializer
    filterset_fields = {"status": ["exact"], "kind": ["exact"]}
    action_permissions = {"move": "alerts.manage"}

    def scope(self, rows):
        return rows.select_related("distributor") if self.action == "retrieve" else rows

    def get_serializer_class(self):
        return AlertDetailSerializer if self.action == "retrieve" else AlertSerializer

    @extend_schema(
        summary="Move an alert one step along its workflow (closing needs a note)",
        request=AlertMoveSerializer,
        responses=AlertDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def move(self, request, *args, **kwargs):
        alert = self.get_object()  # first: another brand's alert is a 404 whatever the body
        wanted = AlertMoveSerializer(data=request.data)
        wanted.is_valid(raise_exception=True)
        moved = alerts.move_alert(
            alert=alert,
            to_status=wanted.validated_data["to_status"],
            note=wanted.validated_data["note"],
            by=self.actor.user,
        )
        return Response(AlertDetailSerializer(moved).data)


router.register("scans", ScanViewSet, basename="scan")
router.register("alerts", AlertViewSet, basename="alert")
