import pytest
from rest_framework.test import APIClient

from brands.apikeys import create_api_key


def key_client(brand, scopes="read,write,admin", **fields) -> APIClient:
    """A client of the brand's own system, sending a fresh key as `Authorization: Bearer`."""
    key, raw = create_api_key(brand=brand, name=fields.pop("name", "ERP"), scopes=scopes, **fields)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    client.key, client.raw_key = key, raw
    return client


@pytest.fixture
def api(brand):
    return key_client(brand)


@pytest.fixture
def read_api(brand):
    return key_client(brand, "read")


@pytest.fixture
def outsider_api(other_brand):
    return key_client(other_brand)


@pytest.fixture(autouse=True)
def _clear_api_counters():
    """Rate and quota counters live in the shared cache (Redis), which outlives the test database (whose ids
    start again each run): each test starts with none. Only these keys: the broker shares the database."""
    from django.core.cache import cache

    client = getattr(getattr(cache, "_cache", None), "get_client", None)
    if client is None:
        cache.clear()  # the embedded mode's in-process cache
        return
    redis = client(write=True)
    for pattern in ("*api-calls:*", "*rl:api-key:*"):
        for name in redis.scan_iter(pattern):
            redis.delete(name)
