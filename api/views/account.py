"""The key's own brand: its plan, what it has used, and what the key may do."""

from drf_spectacular.utils import extend_schema, extend_schema_serializer, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.response import Response

from codes.quotas import usage

from ..base import ActorViewMixin
from . import router


@extend_schema_serializer(many=False)  # the viewset's `list` answers one object: no array, no pagination
class UsageSerializer(serializers.Serializer):
    brand = serializers.CharField()
    plan = serializers.CharField()
    key = inline_serializer(
        "KeyInfo",
        {
            "name": serializers.CharField(),
            "prefix": serializers.CharField(),
            "scopes": serializers.ListField(child=serializers.CharField()),
        },
    )
    usage = serializers.ListField(
        child=inline_serializer(
            "UsageLine",
            {
                "label": serializers.CharField(),
                "used": serializers.IntegerField(allow_null=True),
                "limit": serializers.IntegerField(allow_null=True),
            },
        )
    )


class AccountViewSet(ActorViewMixin, viewsets.ViewSet):
    read_permission = "brand.view"

    @extend_schema(responses=UsageSerializer, summary="The brand's plan and usage, and this key")
    def list(self, request):
        brand, key = self.actor.brand, self.actor.api_key
        plan, lines = usage(brand)
        return Response(
            {
                "brand": brand.slug,
                "plan": plan.name,
                "key": {"name": key.name, "prefix": key.prefix, "scopes": key.scopes},
                "usage": [{"label": u.label, "used": u.used, "limit": u.limit} for u in lines],
            }
        )


router.register("account", AccountViewSet, basename="account")
