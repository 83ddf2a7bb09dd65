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
