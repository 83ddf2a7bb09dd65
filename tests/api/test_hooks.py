"""Webhook endpoints through the API: an admin key's, secrets shown once, the test button's limits, the log."""

import pytest
from rest_framework.test import APIClient

from notifications.models import DeliveryState, Webhook, WebhookDelivery
from tests.factories import webhook_attempt_of, webhook_of

from .conftest import key_client

pytestmark = pytest.mark.django_db
HOOK = "https://hooks.example.com/serialize"
PUBLIC = "https://93.184.215.14/serialize"  # a public address, checked without DNS (the outside world)


@pytest.fixture
def webhook(brand):
    return webhook_of(brand, url=HOOK, description="ERP")


def test_an_admin_key_adds_an_endpoint_and_sees_its_secret_once(api):
    made = api.post(
        "/api/v1/webhooks/", {"url": PUBLIC, "events": ["alert.opened"], "description": "SIEM"}, format="json"
    )
    assert made.status_code == 201, made.content
    stored = Webhook.objects.get(pk=made.json()["id"])
    assert made.json()["secret"] == stored.secret and stored.secret.startswith("whsec_")
    assert (stored.url, stored.events, stored.description) == (PUBLIC, ["alert.opened"], "SIEM")
    listed = api.get("/api/v1/webhooks/").json()["results"]
    assert [w["id"] for w in listed] == [stored.pk] and "secret" not in listed[0]
    shown = api.get(f"/api/v1/webhooks/{stored.pk}/")
    assert shown.json()["url"] == PUBLIC and stored.secret not in shown.content.decode()


def test_an_endpoint_inside_our_network_is_refused(api):
    response = api.post("/api/v1/webhooks/", {"url": "https://127.0.0.1/hook"}, format="json")
    assert response.status_code == 400 and "url" in response.json()["errors"]
    assert not Webhook.objects.exists()


def test_an_unknown_event_is_a_400(api):
    response = api.post("/api/v1/webhooks/", {"url": PUBLIC, "events": ["scan.made"]}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"events": ['"scan.made" is not a valid choice.']}


def test_patch_changes_description_events_and_switches_it_off_and_on(api, webhook):
    url = f"/api/v1/webhooks/{webhook.pk}/"
    changed = api.patch(
        url, {"description": "Data lake", "events": ["recall.created"], "enabled": False}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["enabled"] is False
    webhook.refresh_from_db()
    assert (webhook.description, webhook.events, webhook.is_active) == ("Data lake", ["recall.created"], False)
    Webhook.objects.filter(pk=webhook.pk).update(consecutive_failures=5)
    assert api.patch(url, {"enabled": True}, format="json").json()["enabled"] is True
    webhook.refresh_from_db()
    assert webhook.is_active and webhook.consecutive_failures == 0 and webhook.description == "Data lake"


def test_patch_does_not_change_the_url_and_put_is_not_offered(api, webhook):
    api.patch(f"/api/v1/webhooks/{webhook.pk}/", {"url": "https://elsewhere.example.com/"}, format="json")
    assert Webhook.objects.get(pk=webhook.pk).url == HOOK
    assert api.put(f"/api/v1/webhooks/{webhook.pk}/", {"url": HOOK}, format="json").status_code == 405


def test_delete_removes_the_endpoint(api, webhook):
    assert api.delete(f"/api/v1/webhooks/{webhook.pk}/").status_code == 204
    assert not Webhook.objects.filter(pk=webhook.pk).exists()
    assert api.get(f"/api/v1/webhooks/{webhook.pk}/").status_code == 404


def test_rotating_shows_the_new_secret_once_and_the_old_one_keeps_signing_a_while(api, webhook):
    old = webhook.secret
    rotated = api.post(f"/api/v1/webhooks/{webhook.pk}/rotate-secret/")
    assert rotated.status_code == 200
    webhook.refresh_from_db()
    assert rotated.json()["secret"] == webhook.secret != old
    assert webhook.overlapping_secret() == old and rotated.json()["secret_overlap_until"]
    assert webhook.secret not in api.get(f"/api/v1/webhooks/{webhook.pk}/").content.decode()


def test_a_test_event_is_queued_and_a_second_at_once_is_a_429_with_the_reason(api, webhook):
    sent = api.post(f"/api/v1/webhooks/{webhook.pk}/test/")
    assert sent.status_code == 202 and sent.json()["event"] == "webhook.test"
    assert WebhookDelivery.objects.get(pk=sent.json()["id"]).webhook_id == webhook.pk
    again = api.post(f"/api/v1/webhooks/{webhook.pk}/test/")
    assert again.status_code == 429 and int(again["Retry-After"]) > 0
    assert "less than 60 s ago" in again.json()["detail"]
    assert WebhookDelivery.objects.filter(webhook=webhook).count() == 1


def test_the_brands_test_sends_are_limited_across_its_endpoints(api, brand, settings):
    settings.WEBHOOK_TEST_PER_BRAND = 2
    hooks = [webhook_of(brand, url=f"https://h{n}.example.com/") for n in range(3)]
    statuses = [api.post(f"/api/v1/webhooks/{hook.pk}/test/").status_code for hook in hooks]
    assert statuses == [202, 202, 429]


def test_the_delivery_log_pages_by_cursor_with_each_attempt(api, webhook):
    for n in range(3):
        WebhookDelivery.objects.create(webhook=webhook, event="batch.ready", event_id=f"evt_{n}", body="{}")
    attempt = webhook_attempt_of(webhook)
    WebhookDelivery.objects.filter(pk=attempt.delivery_id).update(state=DeliveryState.DELIVERED, attempts=1)
    first = api.get(f"/api/v1/webhooks/{webhook.pk}/deliveries/", {"page_size": 2}).json()
    assert [d["event_id"] for d in first["results"]] == ["evt_2", "evt_1"]
    assert first["results"][0]["attempt_log"][0]["status_code"] == 200
    assert [d["event_id"] for d in api.get(first["next"]).json()["results"]] == ["evt_0"]
    delivered = api.get(f"/api/v1/webhooks/{webhook.pk}/deliveries/", {"state": "delivered"}).json()["results"]
    assert [d["event_id"] for d in delivered] == ["evt_2"]


def test_another_brands_endpoint_is_a_404(outsider_api, webhook):
    base = f"/api/v1/webhooks/{webhook.pk}/"
    assert outsider_api.get(base).status_code == 404
    assert outsider_api.get(base + "deliveries/").status_code == 404
    assert outsider_api.patch(base, {"description": "x"}, format="json").status_code == 404
    assert outsider_api.post(base + "rotate-secret/").status_code == 404
    assert outsider_api.post(base + "test/").status_code == 404
    assert outsider_api.delete(base).status_code == 404
    assert outsider_api.get("/api/v1/webhooks/").json()["results"] == []
    assert Webhook.objects.get(pk=webhook.pk).description == "ERP"


@pytest.mark.parametrize("scopes", ["read", "read,write"])
def test_keys_without_admin_scope_are_refused_endpoints_and_secrets(brand, webhook, scopes):
    client = key_client(brand, scopes)
    base = f"/api/v1/webhooks/{webhook.pk}/"
    assert client.post("/api/v1/webhooks/", {"url": HOOK}, format="json").status_code == 403
    assert client.post(base + "rotate-secret/").status_code == 403
    assert client.patch(base, {"enabled": False}, format="json").status_code == 403
    assert client.delete(base).status_code == 403
    assert client.get(base).status_code == 403  # it would show who gets the brand's events
    assert Webhook.objects.get(pk=webhook.pk).secret == webhook.secret and Webhook.objects.count() == 1


def test_webhooks_without_a_key_are_a_401(webhook):
    assert APIClient().get("/api/v1/webhooks/").status_code == 401
    assert APIClient().post(f"/api/v1/webhooks/{webhook.pk}/test/").status_code == 401


def test_a_test_event_reaches_the_receiver_and_its_attempt_shows_in_the_log(
    api, brand, receiver, eager_tasks, django_capture_on_commit_callbacks
):
    webhook = webhook_of(brand, url=receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(f"/api/v1/webhooks/{webhook.pk}/test/").status_code == 202
    [(headers, body)] = receiver.requests
    assert headers["Serialize-Event"] == "webhook.test"
    [delivery] = api.get(f"/api/v1/webhooks/{webhook.pk}/deliveries/").json()["results"]
    assert delivery["state"] == "delivered" and delivery["event_id"] in body.decode()
    assert [a["status_code"] for a in delivery["attempt_log"]] == [200]
