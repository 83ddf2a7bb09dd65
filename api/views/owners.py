"""Registered owners (the `owners` scope): registrations with their consents, one with its contact decrypted,
and the counts of the dashboard's registrations page, all under the same filters."""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.response import Response

from owners.models import Registration
from owners.queries import registration_stats

from ..base import BrandScopedViewSet
from ..pagination import Cursor
from ..serializers.owners import RegistrationDetailSerializer, RegistrationSerializer, RegistrationStatsSerializer
from . import router


class RegistrationCursor(Cursor):
    ordering = ("-registered_at", "-id")


class RegistrationFilter(django_filters.FilterSet):
    product = django_filters.NumberFilter(field_name="code__product_id", help_text="The product's id")
    since = django_filters.IsoDateTimeFilter(field_name="registered_at", lookup_expr="gte", help_text="At or after")
    until = django_filters.IsoDateTimeFilter(field_name="registered_at", lookup_expr="lt", help_text="Before")

    class Meta:
        model = Registration
        fields = ["product", "since", "until"]


@extend_schema(summary="Registered units, newest first (the `owners` scope)")
class RegistrationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BrandScopedViewSet):
    model = Registration
    serializer_class = RegistrationSerializer
    filterset_class = RegistrationFilter
    pagination_class = RegistrationCursor
    read_permission = "owners.view"
    action_permissions = {"stats": "owners.stats"}

    def scope(self, rows):
        if self.action == "retrieve":
            return rows.select_related("key", "code__product").prefetch_related("consents")
        if self.action == "list":
            return rows.select_related("code").prefetch_related("consents")
        return rows  # stats: counted in SQL

    def get_serializer_class(self):
        return RegistrationDetailSerializer if self.action == "retrieve" else RegistrationSerializer

    @extend_schema(summary="One registration with its owner's contact, decrypted (personal data)")
    def retrieve(self, request, *args, **kwargs):
        response = super().retrieve(request, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response

    @extend_schema(
        summary="Registrations counted by product, region and month, with consent rates",
        description="The region is that of the scan whose page opened the registration, else of the unit's first "
        "scan. Filters as the list's.",
        filters=True,
        responses=RegistrationStatsSerializer,
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def stats(self, request, *args, **kwargs):
        stats = registration_stats(self.filter_queryset(self.get_queryset()))
        return Response(RegistrationStatsSerializer(stats).data)


router.register("registrations", RegistrationViewSet, basename="registration")
