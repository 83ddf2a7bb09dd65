"""The log of trading partners' verification requests (vrs): what they asked, and what they were answered."""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins

from vrs.models import AdditionalInfo, FailureReason, VrsRequest

from ..base import BrandScopedViewSet
from ..pagination import Cursor
from ..serializers.vrs import VrsRequestSerializer
from . import router


class RequestCursor(Cursor):
    ordering = ("-requested_at", "-id")


class VrsRequestFilter(django_filters.FilterSet):
    since = django_filters.IsoDateTimeFilter(field_name="requested_at", lookup_expr="gte", help_text="At or after")
    until = django_filters.IsoDateTimeFilter(field_name="requested_at", lookup_expr="lt", help_text="Before")
    verified = django_filters.BooleanFilter(help_text="Whether the identifier was verified")
    failure_reason = django_filters.ChoiceFilter(choices=FailureReason.choices)
    additional_info = django_filters.ChoiceFilter(choices=AdditionalInfo.choices)
    requester_gln = django_filters.CharFilter(max_length=13, help_text="The trading partner's GLN")
    serial = django_filters.CharFilter(max_length=20, help_text="The serial asked about, exactly")

    class Meta:
        model = VrsRequest
        fields = ["since", "until", "verified", "failure_reason", "additional_info", "requester_gln", "serial"]


@extend_schema(summary="Trading partners' verification requests (DSCSA), newest first")
class VrsRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BrandScopedViewSet):
    model = VrsRequest
    serializer_class = VrsRequestSerializer
    filterset_class = VrsRequestFilter
    pagination_class = RequestCursor
    read_permission = "vrs.requests"


router.register("vrs-requests", VrsRequestViewSet, basename="vrs-request")
