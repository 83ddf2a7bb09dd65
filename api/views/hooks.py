"""Webhook endpoints: create, rotate the secret, send a test event, the delivery log."""

import django_filters
from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from notifications import services
from notifications.models import DeliveryState, Webhook, WebhookDelivery

from ..base import BrandScopedViewSet
from ..serializers.hooks import (
    WebhookCreateSerializer,
    WebhookDeliverySerializer,
    WebhookSerializer,
    WebhookUpdateSerializer,
    WebhookWithSecretSerializer,
)
from . import router


class DeliveryFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=DeliveryState.choices)
    event = django_filters.CharFilter(max_length=40)

    class Meta:
        model = WebhookDelivery
        fields = ["state", "event"]


class WebhookFilter(django_filters.FilterSet):
    enabled = django_filters.BooleanFilter(field_name="is_active")

    class Meta:
        model = Webhook
        fields = ["enabled"]


class WebhookViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BrandScopedViewSet):
    """Endpoints carry signing secrets: reading them, too, is for keys that may manage notifications (admin)."""

    model = Webhook
    serializer_class = WebhookSerializer
    read_permission = "notifications.manage"
    filterset_class = WebhookFilter
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    @extend_schema(
        summary="Add an endpoint (its secret is shown in this answer only)",
        request=WebhookCreateSerializer,
        responses={201: WebhookWithSecretSerializer},
    )
    def create(self, request, *args, **kwargs):
        wanted = WebhookCreateSerializer(data=request.data)
        wanted.is_valid(raise_exception=True)
        webhook = services.add_webhook(brand=self.actor.brand, **wanted.validated_data)
        return Response(WebhookWithSecretSerializer(webhook).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=WebhookUpdateSerializer, responses=WebhookSerializer)
    def partial_update(self, request, *args, **kwargs):
        wanted = WebhookUpdateSerializer(data=request.data, partial=True)
        wanted.is_valid(raise_exception=True)
        webhook = services.update_webhook(webhook=self.get_object(), **wanted.validated_data)
        return Response(WebhookSerializer(webhook).data)

    @extend_schema(responses={204: None})
    def destroy(self, request, *args, **kwargs):
        services.delete_webhook(webhook=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="A new signing secret (shown in this answer only); the old one signs too for a while",
        request=None,
        responses=WebhookWithSecretSerializer,
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, *args, **kwargs):
        return Response(WebhookWithSecretSerializer(services.rotate_secret(self.get_object())).data)

    @extend_schema(
        summary="Queue a signed test event to the endpoint (limited per endpoint and per brand: 429)",
        request=None,
        responses={202: WebhookDeliverySerializer},
    )
    @action(detail=True, methods=["post"])
    def test(self, request, *args, **kwargs):
        try:
            delivery = services.send_test_event(self.get_object())
        except services.TestSendRefused as refused:
            raise exceptions.Throttled(wait=settings.WEBHOOK_TEST_INTERVAL_SECONDS, detail=refused.message) from None
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="The endpoint's delivery log, newest first, each with its attempts",
        parameters=[
            OpenApiParameter("state", str, enum=DeliveryState.values),
            OpenApiParameter("event", str),
        ],
        responses=WebhookDeliverySerializer(many=True),
        filters=False,
    )
    @action(detail=True, methods=["get"])
    def deliveries(self, request, *args, **kwargs):
        webhook = self.get_object()
        rows = WebhookDelivery.objects.for_actor(self.actor).filter(webhook=webhook).prefetch_related("attempt_log")
        filtered = DeliveryFilter(request.query_params, queryset=rows)
        if not filtered.is_valid():
            raise exceptions.ValidationError(filtered.errors)
        page = self.paginate_queryset(filtered.qs)
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)


router.register("webhooks", WebhookViewSet, basename="webhook")
