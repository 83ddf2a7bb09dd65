"""API keys as actors: made once, stored hashed, refused when revoked or expired, metered by plan."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from brands.apikeys import hash_key, revoke_api_key
from brands.models import ApiKey

from .conftest import key_client

pytestmark = pytest.mark.django_db


def test_a_key_is_stored_only_as_a_hash_with_a_visible_prefix(brand):
    client = key_client(brand, "read")
    stored = ApiKey.objects.get(pk=client.key.pk)
    assert client.raw_key.startswith(f"srz_{stored.prefix}_")
    assert stored.hashed == hash_key(client.raw_key) and client.raw_key not in repr(vars(stored))
    assert client.get("/api/v1/account/").json()["key"]["prefix"] == stored.prefix


def test_no_key_is_a_401_problem_naming_the_scheme():
    response = APIClient().get("/api/v1/account/")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["status"] == 401 and response.json()["title"] == "Unauthorized"


def test_an_unknown_key_is_a_401(brand):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer srz_deadbeef_not-a-real-key")
    assert client.get("/api/v1/account/").status_code == 401


def test_a_revoked_key_is_refused_on_the_next_request(api):
    assert api.get("/api/v1/account/").status_code == 200
    assert revoke_api_key(key=api.key)
    assert api.get("/api/v1/account/").status_code == 401


def test_an_expired_key_is_refused(brand):
    client = key_client(brand, "read", expires_days=1)
    assert client.get("/api/v1/account/").status_code == 200
    ApiKey.objects.filter(pk=client.key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get("/api/v1/account/").status_code == 401


def test_last_used_time_is_recorded(api):
    assert ApiKey.objects.get(pk=api.key.pk).last_used_at is None
    api.get("/api/v1/account/")
    assert ApiKey.objects.get(pk=api.key.pk).last_used_at is not None


def test_the_command_prints_the_key_as_its_last_line(brand):
    out = io.StringIO()
    call_command("create_api_key", "--brand", brand.slug, "--scopes", "read,write", "--expires-days", "30", stdout=out)
    raw = out.getvalue().strip().splitlines()[-1]
    key = ApiKey.objects.get(hashed=hash_key(raw))
    assert key.scopes == ["read", "write"] and key.expires_at is not None
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/account/").json()["brand"] == brand.slug


def test_the_command_refuses_an_unknown_scope(brand):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="scopes"):
        call_command("create_api_key", "--brand", brand.slug, "--scopes", "read,root", stdout=io.StringIO())


def test_an_unknown_route_is_a_404_problem(api):
    response = api.get("/api/v1/no-such-thing/")
    assert response.status_code == 404 and response["Content-Type"] == "application/problem+json"


def test_the_rate_limit_answers_429_with_retry_after(api, settings):
    settings.API_KEY_RATE = "3/m"
    assert [api.get("/api/v1/account/").status_code for _ in range(3)] == [200, 200, 200]
    refused = api.get("/api/v1/account/")
    assert refused.status_code == 429 and 1 <= int(refused["Retry-After"]) <= 60
    assert refused["Content-Type"] == "application/problem+json"


def test_the_daily_quota_names_the_plan(brand, monkeypatch):
    from brands import plans

    monkeypatch.setitem(plans.PLANS, "trial", plans.Plan("trial", "Trial", 1, 1, 1, 1, 2, 1))
    brand.plan = "trial"
    brand.save(update_fields=["plan"])
    client = key_client(brand, "read")
    assert [client.get("/api/v1/account/").status_code for _ in range(2)] == [200, 200]
    refused = client.get("/api/v1/account/")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert refused.json()["plan"] == "Trial" and "2 API calls a day" in refused.json()["detail"]


def test_calls_today_are_shown_beside_the_other_quotas(api, owner_client):
    for _ in range(3):
        api.get("/api/v1/account/")
    usage = {line["label"]: line["used"] for line in api.get("/api/v1/account/").json()["usage"]}
    assert usage["API calls today"] == 4
    page = owner_client.get("/settings/").content.decode()
    assert "API calls today" in page


def test_with_redis_down_the_api_still_answers(api, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    assert api.get("/api/v1/account/").status_code == 200


def test_a_read_key_cannot_write_and_a_distributor_key_sees_no_brand_pages(brand, read_api):
    from tests.factories import DistributorFactory

    distributor = DistributorFactory(brand=brand)
    portal = key_client(brand, "read", distributor=distributor)
    assert portal.get("/api/v1/account/").status_code == 404  # the brand's pages are not its world
