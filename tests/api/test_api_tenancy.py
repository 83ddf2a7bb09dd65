"""Tenancy through the API. Every route under /api/v1/ is read from the URL resolver, so a resource is covered
the day its viewset is registered; an id its URL takes that `factories.one_of_everything` does not make fails
here, naming it, until it is added there.

For every route and every method (GET, and POST, PUT, PATCH, DELETE with an empty JSON body):
- without a key: 401;
- with a key of another brand (full scopes, or its distributor's): 404 for every URL naming brand A's objects;
- with a key of a sibling distributor in brand A: 404 for every URL naming objects that are not its own;
- with a read-only key of brand A (or of its distributor): every unsafe method refused, 403 when the route is
  of the key's world (404 when it is not: brands.access), 405 only where its permission allows the method;
- with keys of brand A that have the permission, GET of every id URL is a 200, so the 404s above are scoping.
No request here changes anything: every write is refused before it runs.
"""

import re
from types import SimpleNamespace

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from api.authentication import ApiKeyAuthentication
from api.base import ActorViewMixin
from api.permissions import ActorPermission
from brands.access import URL_IDS, WORLDS, Actor
from tests.factories import DistributorFactory, one_of_everything

from .conftest import key_client

pytestmark = pytest.mark.django_db

API = "api/v1/"
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


def walk(patterns, prefix=""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern


def api_routes() -> list[tuple[str, URLPattern]]:
    routes = [(route, pattern) for route, pattern in walk(get_resolver().url_patterns) if route.startswith(API)]
    assert routes, "no route under /api/v1/"
    return routes


def ids_of(pattern: URLPattern) -> list[str]:
    """The URL's ids by name; each must be an id kind a model declares (its `url_id`) or a plain number."""
    names = list(pattern.pattern.regex.groupindex)
    for name in names:
        assert name in URL_IDS, f"{pattern.pattern}: `{name}` is no model's url_id: declare it (brands.access)"
    return names


def fill(route: str, pattern: URLPattern, objects: dict) -> str:
    """The route's URL with brand A's ids, checked to reach the very view it was made from."""

    def value(match):
        name = match.group(1)
        assert name in objects, f"{route}: add a `{name}` of brand A to factories.one_of_everything"
        return str(objects[name])

    path = GROUP.sub(value, route.replace("^", "").replace("$", ""))
    url = "/" + path.replace("/?", "/")
    assert resolve(url).func is pattern.callback, f"{route}: filled as {url}, which reaches another view"
    return url


def methods_of(pattern: URLPattern) -> set[str]:
    """The methods the route answers: a viewset's mapped actions, or an API view's handlers."""
    actions = getattr(pattern.callback, "actions", None)
    if actions is not None:
        return {method.upper() for method in actions}
    view = pattern.callback.cls
    return {m.upper() for m in view.http_method_names if m not in ("head", "options") and hasattr(view, m)}


def needed(pattern: URLPattern, method: str, key) -> set[str]:
    """The permissions the view asks of `method` from this key's actor, as ActorPermission asks them (the
    action's, or read/write; a view may ask a distributor's key the portal's)."""
    view = pattern.callback.cls(**pattern.callback.initkwargs)
    view.action = (getattr(pattern.callback, "actions", None) or {}).get(method.lower())
    view.request = SimpleNamespace(method=method, actor=Actor.of_api_key(key))
    return set(view.permissions_for(view.request))


def granted(key) -> frozenset[str]:
    return Actor.of_api_key(key).permissions


def send(client, method: str, url: str):
    return client.generic(method, url, data="{}" if method in UNSAFE else "", content_type="application/json")


@pytest.fixture(autouse=True)
def _no_rate_limit(settings):
    settings.API_KEY_RATE = "1000000/m"  # each key here calls every route several times; throttling has its tests


@pytest.fixture
def objects(brand):
    return one_of_everything(brand)


@pytest.fixture
def holder(objects):
    """Brand A's distributor: its range and carton hold every code of one_of_everything."""
    from distributors.models import Distributor

    return Distributor.objects.get(pk=objects["distributor_id"])


def id_urls(objects) -> list[tuple[str, URLPattern]]:
    return [(fill(route, p, objects), p) for route, p in api_routes() if ids_of(p)]


def test_every_api_view_is_built_on_the_access_layer(brand, holder):
    known = WORLDS[False] | WORLDS[True]
    keys = [key_client(brand).key, key_client(brand, "read,write", distributor=holder).key]
    for route, pattern in api_routes():
        view = pattern.callback.cls
        assert issubclass(view, ActorViewMixin), f"{route}: {view.__name__} must derive from api.base.ActorViewMixin"
        assert ActorPermission in view.permission_classes, f"{route}: {view.__name__} replaced ActorPermission"
        assert view.authentication_classes == [ApiKeyAuthentication], f"{route}: {view.__name__}'s authentication"
        for method in methods_of(pattern) | set(UNSAFE):
            for key in keys:
                assert needed(pattern, method, key) <= known, f"{method} {route}: a permission no key or role has"


def test_every_route_and_method_is_401_without_a_key(objects):
    from rest_framework.test import APIClient

    anonymous = APIClient()
    for route, pattern in api_routes():
        url = fill(route, pattern, objects)
        for method in ("GET", *UNSAFE):
            assert send(anonymous, method, url).status_code == 401, f"{method} {url} without a key"


def assert_every_id_url_is_404(client, objects, who: str) -> None:
    for url, pattern in id_urls(objects):
        accepted = methods_of(pattern)
        for method in ("GET", *UNSAFE):
            status = send(client, method, url).status_code
            # A method the route does not take is a 405 whatever the id, which admits nothing.
            assert status == 404 or (status == 405 and method not in accepted), f"{method} {url} as {who}: {status}"


@pytest.mark.parametrize("kind", ["full", "distributor"])
def test_every_id_url_of_brand_a_is_404_for_keys_of_brand_b(objects, other_brand, kind):
    if kind == "full":
        client = key_client(other_brand, "read,write,admin")
    else:
        client = key_client(other_brand, "read,write", distributor=DistributorFactory(brand=other_brand))
    assert_every_id_url_is_404(client, objects, f"a {kind} key of brand B")


def test_every_id_url_of_brand_a_is_404_for_a_sibling_distributors_key(brand, objects):
    sibling = DistributorFactory(brand=brand, code="SIBLING")
    assert_every_id_url_is_404(key_client(brand, "read,write", distributor=sibling), objects, "a sibling's key")


@pytest.mark.parametrize("kind", ["brand", "distributor"])
def test_a_read_only_key_is_refused_every_unsafe_method(brand, objects, holder, kind):
    distributor = holder if kind == "distributor" else None
    client = key_client(brand, "read", distributor=distributor)
    world = WORLDS[distributor is not None]
    for route, pattern in api_routes():
        url = fill(route, pattern, objects)
        for method in UNSAFE:
            wanted = needed(pattern, method, client.key)
            if not wanted <= world:
                expected = 404  # a route of the other world does not exist for this key
            elif not wanted <= granted(client.key):
                expected = 403
            else:
                assert method not in methods_of(pattern), f"{method} {url}: a read-only key may write"
                expected = 405
            status = send(client, method, url).status_code
            assert status == expected, f"{method} {url} with a read-only {kind} key: {status}, not {expected}"


def test_the_same_urls_work_for_keys_allowed_to_use_them(brand, objects, holder):
    clients = [
        key_client(brand, "read,write,admin"),
        key_client(brand, "read,write", distributor=holder),
        key_client(brand, "vrs", partner_gln="9506000000005"),
        key_client(brand, "owners"),  # registered owners are this scope's alone
    ]
    for url, pattern in id_urls(objects):
        client = next((c for c in clients if needed(pattern, "GET", c.key) <= granted(c.key)), None)
        assert client is not None, f"GET {url}: no key of brand A may read it"
        status = client.get(url).status_code
        assert status == (200 if "GET" in methods_of(pattern) else 405), f"GET {url}: {status}"


@pytest.mark.parametrize("method", ["GET", *UNSAFE])
def test_a_url_no_route_matches_is_a_404_problem_for_every_method(api, method):
    api.handler.enforce_csrf_checks = True  # as a real server does: the API takes keys, never cookies
    response = send(api, method, "/api/v1/no.such/route/")
    assert response.status_code == 404 and response["Content-Type"] == "application/problem+json"
