"""Who may call a view: the view names permissions, the actor's `check` answers 404 or 403 (brands.access)."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, permissions

SAFE_METHODS = permissions.SAFE_METHODS


class ActorPermission(permissions.BasePermission):
    """A view declares `read_permission`, `write_permission` for unsafe methods, or `action_permissions` by
    action; the URL's ids (named as the models declare them) make another brand's object a 404."""

    def has_permission(self, request, view) -> bool:
        actor = getattr(request, "actor", None)
        if actor is None:
            raise exceptions.NotAuthenticated("Send an API key as `Authorization: Bearer <key>`.")
        needed = view.permissions_for(request)
        try:
            actor.check(*needed, ids=view.kwargs)
        except Http404 as missing:
            raise exceptions.NotFound(str(missing) or "Not found.") from None
        except PermissionDenied:
            raise exceptions.PermissionDenied(
                f"This key's scopes do not allow this ({', '.join(p for p in needed if not actor.can(p))})."
            ) from None
        return True
