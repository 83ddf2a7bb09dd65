"""Tenancy is sacred. The URLconf is walked, so a view with an id is covered the day it is added; an id kind
that `factories.one_of_everything` does not know fails these tests until it is added there.

- Every actor of another brand (owner, viewer, a distributor's login) gets 404 for every id URL of brand A.
- A distributor's login gets 404 for every id URL of a sibling distributor's objects in the same brand.
- Every write route answers 403 to a role of its own world that lacks the write permission.
- The same URLs work for an actor that has the permissions, so a 404 above means scoping, not a typo.
- Platform operators' pages (staff only) are 404 for every brand member and work for staff.
- Every other route declares who may use it too: a permission (`require`), anyone signed in (`signed_in`),
  operators only (`staff_only`) or anyone (`.public = True`); an anonymous visitor gets no signed-in page.
"""

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from brands.access import ROLE_PERMISSIONS, URL_IDS, WORLDS
from brands.models import Role
from tests.factories import DistributorFactory, MembershipFactory, distributor_member
from tests.factories import logged_in_client as client_of

# Public URLs whose argument is a capability or a public identifier, not a brand-owned row id.
# The REST API's routes are walked with API keys by tests/api/test_api_tenancy.py.
PUBLIC_PREFIXES = ("admin/", "accounts/", "invite/", "api/")
BRAND_ROLES = [Role.VIEWER, Role.OPERATOR, Role.ADMIN, Role.OWNER]


def walk(patterns, prefix=""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern


def id_routes():
    for route, pattern in walk(get_resolver().url_patterns):
        public = route.startswith(PUBLIC_PREFIXES) or getattr(pattern.callback, "public", False)
        staff = getattr(pattern.callback, "staff_only", False)  # operators' pages: see their own test
        if pattern.pattern.converters and not public and not staff:
            for name in pattern.pattern.converters:
                assert name in URL_IDS, f"{route}: declare `url_id = {name!r}` on its model (brands.access)"
            yield route, pattern


def permissions_of(pattern) -> tuple[str | None, str | None]:
    read, write = getattr(pattern.callback, "required_permissions", (None, None))
    assert read, f"{pattern.pattern}: every id view declares its permission with brands.access.require"
    return read, write


@pytest.fixture
def brand_a_objects(brand):
    """One object of each kind that dashboard URLs take ids of, all owned by `brand`."""
    from tests import factories

    return factories.one_of_everything(brand)


def fill(route: str, objects: dict) -> str:
    url = route
    for name in re.findall(r"<(?:\w+:)?(\w+)>", route):
        assert name in objects, f"{route}: add a `{name}` of brand A to factories.one_of_everything"
        url = re.sub(rf"<(?:\w+:)?{name}>", str(objects[name]), url)
    return "/" + url.lstrip("^").rstrip("$")


def assert_every_id_url_is_404(client, objects, who):
    for route, _pattern in id_routes():
        url = fill(route, objects)
        # A POST-only view answers GET with 405 whatever the id, which admits nothing.
        assert client.get(url).status_code in (404, 405), f"GET {url} as {who}"
        assert client.post(url).status_code == 404, f"POST {url} as {who}"


@pytest.mark.parametrize("role", [Role.OWNER, Role.VIEWER, Role.DISTRIBUTOR])
def test_every_id_url_of_brand_a_is_404_for_every_actor_of_brand_b(brand_a_objects, other_brand, role):
    if role == Role.DISTRIBUTOR:
        actor = distributor_member(DistributorFactory(brand=other_brand))
    else:
        actor = MembershipFactory(brand=other_brand, role=role)
    assert_every_id_url_is_404(client_of(actor), brand_a_objects, f"{role} of brand B")


def test_every_id_url_of_a_sibling_distributor_is_404(brand, brand_a_objects):
    sibling = DistributorFactory(brand=brand, code="SIBLING")
    assert_every_id_url_is_404(client_of(distributor_member(sibling)), brand_a_objects, "a sibling distributor")


@pytest.mark.parametrize("role", [*BRAND_ROLES, Role.DISTRIBUTOR])
def test_write_routes_are_403_for_roles_of_their_world_below_them(brand, brand_a_objects, role):
    holder = brand_a_objects["distributor_id"]
    actor = (
        MembershipFactory(brand=brand, role=role, distributor_id=holder)
        if role == Role.DISTRIBUTOR
        else MembershipFactory(brand=brand, role=role)
    )
    client, granted, world = client_of(actor), ROLE_PERMISSIONS[role], WORLDS[role == Role.DISTRIBUTOR]
    checked = 0
    for route, pattern in id_routes():
        needed = {p for p in permissions_of(pattern) if p}
        if needed <= world and not needed <= granted:
            url = fill(route, brand_a_objects)
            assert client.post(url).status_code == 403, f"POST {url} as {role}"
            checked += 1
    assert checked or role in (Role.ADMIN, Role.OWNER, Role.DISTRIBUTOR), f"no write route checked for {role}"


def test_the_same_urls_work_for_an_actor_allowed_to_use_them(brand, brand_a_objects, owner_client):
    portal_client = client_of(
        MembershipFactory(brand=brand, role=Role.DISTRIBUTOR, distributor_id=brand_a_objects["distributor_id"])
    )
    for route, pattern in id_routes():
        read, _write = permissions_of(pattern)
        client = portal_client if read in WORLDS[True] else owner_client
        url = fill(route, brand_a_objects)
        response = client.get(url)
        assert response.status_code in (200, 302, 405), f"GET {url} gave {response.status_code}"


def test_operator_pages_are_404_for_members_and_work_for_staff(brand_a_objects, owner_client):

    from tests.factories import UserFactory, verified_client

    staff = verified_client(UserFactory(is_staff=True))
    routes = [(r, p) for r, p in walk(get_resolver().url_patterns) if getattr(p.callback, "staff_only", False)]
    assert routes, "no operator pages found"
    for route, _pattern in routes:
        url = fill(route, brand_a_objects)
        assert owner_client.get(url).status_code == 404, url
        assert staff.get(url).status_code == 200, url


def declaration_of(callback) -> str | None:
    """How a view declares who may use it, or None if it does not."""
    read, _write = getattr(callback, "required_permissions", (None, None))
    if read:
        return "require"
    return next((kind for kind in ("public", "signed_in", "staff_only") if getattr(callback, kind, False)), None)


def routes_without_an_id():
    for route, pattern in walk(get_resolver().url_patterns):
        if not pattern.pattern.converters and not route.startswith(PUBLIC_PREFIXES):
            yield route, pattern


def test_every_route_without_an_id_declares_who_may_use_it():
    undeclared = [route for route, pattern in routes_without_an_id() if declaration_of(pattern.callback) is None]
    assert not undeclared, "declare each with brands.access.require or signed_in, staff_only, or `.public = True`"
    known = WORLDS[False] | WORLDS[True]
    for route, pattern in routes_without_an_id():
        for permission in getattr(pattern.callback, "required_permissions", ()):
            assert permission is None or permission in known, f"{route}: no role has `{permission}`"


@pytest.mark.django_db
def test_an_anonymous_visitor_gets_no_page_that_is_not_public(client):
    checked = 0
    for route, pattern in routes_without_an_id():
        if declaration_of(pattern.callback) in ("public", None):
            continue
        url = "/" + route
        response = client.get(url)
        assert response.status_code in (302, 404, 405), f"GET {url} gave {response.status_code}"
        assert response.status_code != 302 or response.url.startswith("/accounts/login/"), f"GET {url}"
        checked += 1
    assert checked, "no signed-in route without an id found"


def test_member_of_two_brands_sees_only_the_current_ones_objects(brand, other_brand, brand_a_objects):
    both = MembershipFactory(brand=other_brand, role=Role.OWNER)
    MembershipFactory(user=both.user, brand=brand, role=Role.OWNER)
    client = Client()
    client.force_login(both.user)
    client.post("/brands/switch/", {"brand": other_brand.pk})
    url = fill("members/<int:membership_id>/remove/", brand_a_objects)
    assert client.post(url).status_code == 404


def test_viewer_is_refused_the_settings_page(viewer_client):
    assert viewer_client.get("/settings/").status_code == 403


def test_distributor_login_lands_on_its_portal_and_never_sees_the_back_office(brand, brand_a_objects):
    client = client_of(
        MembershipFactory(brand=brand, role=Role.DISTRIBUTOR, distributor_id=brand_a_objects["distributor_id"])
    )
    assert client.get("/dashboard/").url == "/portal/"
    for url in ("/products/", "/batches/", "/scans/", "/reports/", "/members/", "/settings/", "/distributors/"):
        assert client.get(url).status_code == 404, url
    assert client.get("/portal/").status_code == 200
