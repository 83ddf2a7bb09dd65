"""The base every API view is built on: it owns the actor filter, so no API view does its own tenancy.

A view names its `model` (brand-owned), its permissions and, at most, narrows the rows with `scope()` (a view of
rows the distributor portal shows too names the portal's permissions: `PortalScopedViewSet`);
`get_queryset` is final: a subclass that overrides it fails at import (PostHog's routing mixin does the
same), because DRF's object permissions alone would leave list views unprotected.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model, QuerySet
from rest_framework import exceptions, viewsets

from .permissions import SAFE_METHODS


class ActorViewMixin:
    read_permission: str = "brand.view"
    write_permission: str | None = None
    action_permissions: dict[str, tuple[str, ...] | str] = {}

    def permissions_for(self, request) -> tuple[str, ...]:
        by_action = self.action_permissions.get(getattr(self, "action", None) or "")
        if by_action:
            return (by_action,) if isinstance(by_action, str) else tuple(by_action)
        if request.method in SAFE_METHODS or self.write_permission is None:
            return (self.read_permission,)  # a write the view does not take is its 405
        return (self.read_permission, self.write_permission)

    @property
    def actor(self):
        return self.request.actor


class BrandScopedViewSet(ActorViewMixin, viewsets.GenericViewSet):
    model: type[Model]
    lookup_value_regex = "[0-9]+"  # ids are numbers: anything else matches no route (a 404), never a lookup

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "get_queryset" in vars(cls) or "queryset" in vars(cls):
            raise ImproperlyConfigured(f"{cls.__name__}: narrow rows with scope(), never get_queryset/queryset")
        url_id = getattr(vars(cls).get("model"), "url_id", None)
        if url_id and "lookup_url_kwarg" not in vars(cls):
            cls.lookup_url_kwarg = url_id  # the URL names its id as the model does: access.check resolves it

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        wanted = kwargs.get(self.lookup_url_kwarg or self.lookup_field)
        if wanted is not None and self.lookup_field == "pk" and not self.get_queryset().filter(pk=wanted).exists():
            # Before any body is read: another brand's object is a 404 whatever the request says, never a 400
            # that would tell its id exists (an action validating its body first would answer 400).
            raise exceptions.NotFound()

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular reading the view, no request
            return self.model._default_manager.none()
        return self.scope(self.model._default_manager.for_actor(self.actor))  # type: ignore[attr-defined]

    def scope(self, rows: QuerySet) -> QuerySet:
        return rows


class PortalScopedViewSet(BrandScopedViewSet):
    """Rows the distributor portal shows too (assignments, cartons, print jobs): a distributor's key asks
    `portal_permissions[action]` and sees only its distributor's rows (`for_actor`: the model's `distributor_path`
    or the scope registered with `brands.models.distributor_scope`); an action without a portal permission is the
    brand's alone (its brand permissions lie outside the distributor's world: 404)."""

    portal_permissions: dict[str, str] = {}

    def permissions_for(self, request) -> tuple[str, ...]:
        actor = getattr(request, "actor", None)
        portal = self.portal_permissions.get(getattr(self, "action", None) or "")
        if portal and actor is not None and actor.is_distributor:
            return (portal,)
        return super().permissions_for(request)
