"""How a request finds its brand and what its user may do there.

Every dashboard view is declared with ``@member_required(...)``; it then has ``request.brand`` and
``request.membership`` and reads brand-owned rows only through ``for_brand(request.brand)``
(or ``get_for_brand``), so an object of another brand is a 404, never a 403 that would admit it exists.
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect

from .models import Membership, Role

SESSION_KEY = "brand_id"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def current_membership(request) -> Membership | None:
    """The membership of the brand chosen in the session, else the user's first; cached on the request."""
    if not hasattr(request, "_membership"):
        membership = None
        if request.user.is_authenticated:
            memberships = Membership.objects.filter(user=request.user).select_related("brand")
            wanted = request.session.get(SESSION_KEY)
            membership = (wanted and memberships.filter(brand_id=wanted).first()) or memberships.order_by("pk").first()
        request._membership = membership
    return request._membership


def member_required(role: str = Role.VIEWER, *, write_role: str | None = Role.OPERATOR):
    """Declare who may use a view: ``role`` to read it, ``write_role`` for unsafe methods (POST ...)."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = current_membership(request)
            if membership is None:
                return redirect("brand_create")
            needed = role if request.method in SAFE_METHODS or write_role is None else write_role
            if not membership.has_role(needed) or not membership.has_role(role):
                raise PermissionDenied(f"Your role ({membership.get_role_display()}) cannot do this.")
            request.membership, request.brand = membership, membership.brand
            return view(request, *args, **kwargs)

        wrapper.required_role = role
        return wrapper

    return decorator


def get_for_brand(request, queryset_or_model, **lookup):
    """Fetch one brand-owned object of the request's brand, or 404."""
    queryset = getattr(queryset_or_model, "objects", queryset_or_model)
    return get_object_or_404(queryset.for_brand(request.brand), **lookup)
