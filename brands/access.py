"""The one access layer: a request becomes an *actor* (who acts, for which brand, allowed to do what).

Every dashboard view is declared with ``@require("permission", write="permission")``; it then has
``request.actor`` and ``request.brand`` and reads brand-owned rows only through ``for_actor(request.actor)``
(or ``get_for_actor``), so an object of another brand, or of a sibling distributor, is a 404, never a 403
that would admit it exists. Views, templates and commands ask ``actor.can("codes.order")``; none compares
role names. The API adds API-key actors here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from django.apps import apps
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db.models import Model
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.http import urlencode

from .models import ApiKey, ApiKeyScope, Brand, Membership, Role

SESSION_KEY = "brand_id"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

_VIEWER = {
    "brand.view",  # overview, products, batches, scans, reports, distributors
    "print.download",
    "vrs.requests",  # the log of trading partners' verification requests (who asked of which unit, the answer)
    "owners.stats",  # registrations counted by product, region and month, consent rates: no person in them
}
_OPERATOR = _VIEWER | {
    "codes.order",
    "print.create",
    "print.download_pins",
    "assignments.manage",  # assign, move, return ranges; pack cartons
    "codes.activate",  # mark a batch, range or carton applied: its codes go live (the packaging line's job)
    "alerts.manage",
    "codes.status",  # change one unit's status from the code lookup
    "reports.manage",  # review and close consumers' counterfeit reports
}
_ADMIN = _OPERATOR | {
    "products.manage",
    "members.manage",
    "brand.settings",
    "distributors.manage",
    "recalls.create",
    "reports.erase",  # a consumer's report and photo, on the consumer's request (PDPA / GDPR erasure)
    "statuses.change",  # destroyed, stolen, sample … and their undo
    "detection.manage",  # thresholds, markets
    "notifications.manage",  # webhooks (their secrets) and e-mail subscriptions
    "api_keys.manage",  # keys for the brand's own systems (brands.apikeys)
    "owners.view",  # who registered a unit, their contact decrypted (support desk): personal data
}
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.VIEWER: frozenset(_VIEWER),
    Role.OPERATOR: frozenset(_OPERATOR),
    Role.ADMIN: frozenset(_ADMIN),
    # Deleting the brand with all its data is the owners' alone.
    Role.OWNER: frozenset(_ADMIN | {"members.make_owner", "brand.offboard"}),
    # A distributor's people see only their distributor: its assignments, cartons, files and scan counts.
    # `portal.print`: print files of their ranges (order them in the portal, list and download them).
    Role.DISTRIBUTOR: frozenset({"portal.view", "portal.print", "portal.receive"}),
}
# An API key's scopes, as the roles whose permissions they carry. An admin key manages neither members nor
# keys (a leaked key must not mint keys or let people in) and cannot offboard the brand. Registered owners are
# the `owners` scope's alone (their counts and their contacts), so a key made for stock or scans never reaches
# personal data. `vrs` answers trading partners' verification requests and nothing else.
_OWNERS = {"owners.view", "owners.stats"}
API_SCOPE_PERMISSIONS: dict[str, frozenset[str]] = {
    ApiKeyScope.READ: frozenset(_VIEWER - _OWNERS),
    ApiKeyScope.WRITE: frozenset(_OPERATOR - _OWNERS),
    ApiKeyScope.ADMIN: frozenset(_ADMIN - {"members.manage", "api_keys.manage"} - _OWNERS),
    ApiKeyScope.OWNERS: frozenset(_OWNERS),
    ApiKeyScope.VRS: frozenset({"vrs.verify"}),
}
# A distributor's key: read is what its people see in the portal, write adds receiving.
API_DISTRIBUTOR_SCOPE_PERMISSIONS: dict[str, frozenset[str]] = {
    ApiKeyScope.READ: frozenset({"portal.view", "portal.print"}),
    ApiKeyScope.WRITE: frozenset({"portal.view", "portal.print", "portal.receive"}),
}

# Each kind of actor lives in its own world: the brand's back office, or a distributor's portal. A page of the
# other world does not exist for it (404); a page of its own world that its role may not use is a 403.
WORLDS = {False: ROLE_PERMISSIONS[Role.OWNER] | {"vrs.verify"}, True: ROLE_PERMISSIONS[Role.DISTRIBUTOR]}

# Numbers a dashboard URL takes that are not row ids (a print job's part number): the URL's other ids are checked.
PLAIN_NUMBERS = frozenset({"part"})


def _url_ids() -> dict[str, type[Model] | None]:
    """The model behind each id a dashboard URL takes, as each brand-owned model declares it (``url_id``, beside
    its ``brand_path``), so this layer names no model of the apps above it. A refused write looks its ids up
    first, so that another brand's object is a 404 (it does not exist for you), and only your own brand's object
    a 403 (your role cannot do this). The URL-walking tenancy test keeps the declarations complete."""
    ids: dict[str, type[Model] | None] = dict.fromkeys(PLAIN_NUMBERS)
    for model in apps.get_models():
        name = vars(model).get("url_id")  # its own, never a parent's: one model per id
        if name is None:
            continue
        if name in ids:
            raise ImproperlyConfigured(f"URL id {name!r} is declared twice ({model.__name__} and {ids[name]})")
        ids[name] = model
    return ids


URL_IDS: dict[str, type[Model] | None] = SimpleLazyObject(_url_ids)  # type: ignore[assignment]  # models load first


@dataclass(frozen=True)
class Actor:
    """Who is acting for which brand; `distributor_id` restricts a distributor's people to their own rows."""

    user: object
    brand: Brand
    role: str
    permissions: frozenset[str]
    membership: Membership | None = None
    distributor_id: int | None = None
    api_key: ApiKey | None = None

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def check(self, *permissions: str, ids: dict | None = None) -> None:
        """Raise unless the actor has every permission: 404 for a page outside its world or an object it cannot
        see (`ids`, the URL's), 403 when its role is too low for its own world's object."""
        missing = [p for p in permissions if not self.can(p)]
        if not missing:
            return
        if any(p not in WORLDS[self.is_distributor] for p in missing) or not self.sees(ids or {}):
            raise Http404("No such page.")
        raise PermissionDenied("Your role cannot do this.")

    def sees(self, ids: dict) -> bool:
        for name, value in ids.items():
            if name not in URL_IDS:
                return False  # an id kind nobody declared: never guess
            model = URL_IDS[name]
            if model is None:
                continue
            rows = model._default_manager.for_actor(self)  # type: ignore[attr-defined]  # a BrandOwnedQuerySet's
            if not rows.filter(pk=value).exists():
                return False
        return True

    @property
    def is_distributor(self) -> bool:
        return self.distributor_id is not None

    @classmethod
    def of_membership(cls, membership: Membership) -> Actor:
        return cls(
            user=membership.user,
            brand=membership.brand,
            role=membership.role,
            permissions=ROLE_PERMISSIONS[membership.role],
            membership=membership,
            distributor_id=membership.distributor_id,
        )

    @classmethod
    def of_api_key(cls, key: ApiKey) -> Actor:
        """A key acts as its scopes allow; what it does is recorded as done by whoever made it."""
        table = API_DISTRIBUTOR_SCOPE_PERMISSIONS if key.distributor_id else API_SCOPE_PERMISSIONS
        permissions = frozenset().union(*(table.get(scope, frozenset()) for scope in key.scopes))
        return cls(
            user=key.created_by,
            brand=key.brand,
            role="api",
            permissions=permissions,
            distributor_id=key.distributor_id,
            api_key=key,
        )

    @classmethod
    def operator(cls, user, brand: Brand) -> Actor:
        """Platform staff acting on a brand from the Django admin: an owner's permissions, in any brand."""
        return cls(user=user, brand=brand, role=Role.OWNER, permissions=ROLE_PERMISSIONS[Role.OWNER])


def _memberships(request) -> list[Membership]:
    """Every membership of the signed-in user, read once per request (the actor and the second-factor rule)."""
    if not hasattr(request, "_memberships"):
        request._memberships = list(
            Membership.objects.filter(user=request.user).select_related("brand", "user").order_by("pk")
        )
    return request._memberships


def current_actor(request) -> Actor | None:
    """The actor for the brand chosen in the session, else the user's first membership; cached on the request."""
    if not hasattr(request, "_actor"):
        actor = None
        if request.user.is_authenticated:
            memberships = _memberships(request)
            wanted = request.session.get(SESSION_KEY)
            chosen = [m for m in memberships if wanted and m.brand_id == wanted] or memberships[:1]
            actor = Actor.of_membership(chosen[0]) if chosen else None
        request._actor = actor
    return request._actor


def require(permission: str, *, write: str | None = None):
    """Declare who may use a view: `permission` to use it at all, and `write` too for unsafe methods (POST …)."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            actor = current_actor(request)
            if actor is None:
                return redirect("brand_create")
            actor.check(permission, *([write] if write and request.method not in SAFE_METHODS else []), ids=kwargs)
            if needs_second_factor(request, actor):
                return redirect(second_factor_url(request.get_full_path()))
            request.actor, request.brand = actor, actor.brand
            return view(request, *args, **kwargs)

        wrapper.required_permissions = (permission, write)  # type: ignore[attr-defined]  # read by the URL-walking test
        return wrapper

    return decorator


def signed_in(view):
    """Declare a page for anyone signed in, whatever their brand or none (their own account, a new brand, the
    way in to their dashboard): it reads no brand's rows, so it needs no permission; nobody else sees it."""
    wrapper = login_required(view)
    wrapper.signed_in = True
    return wrapper


# Who must confirm a second factor when their brand requires it: whoever can change the brand's settings
# (owners and admins), and, when the brand says so, whoever can download PIN files (operators), asked as
# permissions like everything else. Platform staff (they approve prefix claims) always.
TWO_FACTOR_PERMISSION = "brand.settings"
TWO_FACTOR_OPERATOR_PERMISSION = "print.download_pins"
# A session confirming a new authenticator app keeps its secret here (brands.two_factor) until confirmed.
ENROLMENT_SESSION_KEY = "two_factor_enrolment"


def role_needs_second_factor(brand: Brand, permissions: frozenset[str]) -> bool:
    return brand.require_two_factor and (
        TWO_FACTOR_PERMISSION in permissions
        or (brand.two_factor_for_operators and TWO_FACTOR_OPERATOR_PERMISSION in permissions)
    )


def is_verified(request) -> bool:
    is_verified = getattr(request.user, "is_verified", None)  # set by django-otp's middleware
    return is_verified is not None and is_verified()


def needs_second_factor(request, actor: Actor) -> bool:
    return role_needs_second_factor(actor.brand, actor.permissions) and not is_verified(request)


def second_factor_required(request) -> bool:
    """Of staff always; of others when a brand of theirs requires it of their role."""
    if request.user.is_staff:
        return True
    return any(role_needs_second_factor(m.brand, ROLE_PERMISSIONS[m.role]) for m in _memberships(request))


def is_half_logged_in(request) -> bool:
    """Signed in with a password, but a second factor is owed (required of the user in any of their brands, or
    of staff) or an app is being confirmed: such a session reaches only the second-factor page and log-out."""
    if not request.user.is_authenticated or is_verified(request):
        return False
    return ENROLMENT_SESSION_KEY in request.session or second_factor_required(request)


def second_factor_url(next_url: str) -> str:
    return f"{reverse('two_factor')}?{urlencode({'next': next_url})}"


def get_for_actor(request, queryset_or_model, **lookup):
    """Fetch one object the request's actor may see, or 404."""
    queryset = getattr(queryset_or_model, "objects", queryset_or_model)
    return get_object_or_404(queryset.for_actor(request.actor), **lookup)
