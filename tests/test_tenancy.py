"""Tenancy is sacred: a member of another brand gets 404 for every brand-owned URL that takes an id.

The URLconf is walked, so a new view with an id is covered the day it is added; an id kind that the
`brand_a_objects` fixture does not know fails the test until it is added there.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from brands.access import ROLE_PERMISSIONS
from brands.models import Role
from tests.factories import MembershipFactory

# Public URLs whose argument is a capability or a public identifier, not a brand-owned row id.
PUBLIC_PREFIXES = ("admin/", "accounts/", "invite/", "api/schema")


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
        if pattern.pattern.converters and not public:
            yield route, pattern


@pytest.fixture
def brand_a_objects(brand):
    """One object of each kind that dashboard URLs take ids of, all owned by `brand`."""
    from tests import factories

    return factories.one_of_everything(brand)


def fill(route: str, objects: dict) -> str:
    url = route
    for name in list(_names(route)):
        assert name in objects, f"{route}: add a `{name}` of brand A to factories.one_of_everything"
        url = url.replace(_placeholder(route, name), str(objects[name]))
    return "/" + url.lstrip("^").rstrip("$")


def _names(route):
    import re

    return re.findall(r"<(?:\w+:)?(\w+)>", route)


def _placeholder(route, name):
    import re

    return re.search(rf"<(?:\w+:)?{name}>", route).group(0)


def test_every_id_url_of_brand_a_is_404_for_brand_b(brand_a_objects, outsider_client):
    routes = list(id_routes())
    assert routes, "the walk found no URL with an id"
    for route, _pattern in routes:
        url = fill(route, brand_a_objects)
        # A POST-only view answers GET with 405 whatever the id, which admits nothing.
        assert outsider_client.get(url).status_code in (404, 405), f"GET {url}"
        assert outsider_client.post(url).status_code == 404, f"POST {url}"


def test_the_same_urls_work_for_brand_a(brand_a_objects, owner_client):
    """Guards the test above: the ids it uses are real, so a 404 there means scoping, not a typo."""
    for route, _pattern in id_routes():
        url = fill(route, brand_a_objects)
        response = owner_client.get(url)
        assert response.status_code in (200, 302, 405), f"GET {url} gave {response.status_code}"


def test_viewer_cannot_reach_admin_only_actions(brand, brand_a_objects, viewer_client):
    for route, pattern in id_routes():
        needed = [p for p in getattr(pattern.callback, "required_permissions", ()) if p]
        if not all(p in ROLE_PERMISSIONS[Role.VIEWER] for p in needed):
            url = fill(route, brand_a_objects)
            assert viewer_client.post(url).status_code == 403, url
    for url in ("/settings/",):
        assert viewer_client.get(url).status_code == 403


def test_member_of_two_brands_sees_only_the_current_ones_objects(brand, other_brand, brand_a_objects):
    from django.test import Client

    both = MembershipFactory(brand=other_brand, role=Role.OWNER)
    MembershipFactory(user=both.user, brand=brand, role=Role.OWNER)
    client = Client()
    client.force_login(both.user)
    client.post("/brands/switch/", {"brand": other_brand.pk})
    url = fill("members/<int:membership_id>/remove/", brand_a_objects)
    assert client.post(url).status_code == 404
