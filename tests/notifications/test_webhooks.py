import json
import time
from datetime import timedelta

import pytest

from notifications import services, signing
from notifications.models import DeliveryState, Webhook, WebhookAttempt, WebhookDelivery
from tests.factories import ProductFactory, email_subscription_of, ready_batch, webhook_of


def delivered_to(receiver, brand, event="batch.ready", data=None):
    webhook = webhook_of(brand, url=receiver.url)
    [delivery_id] = services.publish(brand_id=brand.pk, event=event, data=data or {"batch": 1})
    services.deliver(delivery_id)
    return webhook, WebhookDelivery.objects.get(pk=delivery_id)


def test_signature_verifies_with_the_documented_scheme(brand, receiver):
    import hashlib
    import hmac

    webhook, delivery = delivered_to(receiver, brand, data={"batch": 7})
    headers, body = receiver.requests[0]
    t, v1 = (part.split("=", 1)[1] for part in headers["Serialize-Signature"].split(","))
    expected = hmac.new(webhook.secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    assert v1 == expected and abs(int(t) - time.time()) < 60
    assert signing.verify(webhook.secret, headers["Serialize-Signature"], body, now=int(time.time()))
    assert not signing.verify("whsec_wrong", headers["Serialize-Signature"], body, now=int(time.time()))
    event = json.loads(body)
    assert event["type"] == "batch.ready" and event["data"] == {"batch": 7} and event["id"].startswith("evt_")
    assert headers["Content-Type"] == "application/json" and delivery.state == DeliveryState.DELIVERED


def test_every_attempt_is_logged_with_status_time_and_answer(brand, receiver):
    receiver.statuses = [503]
    _, delivery = delivered_to(receiver, brand)
    assert services.deliver(delivery.pk) is True  # the second attempt is accepted
    attempts = list(WebhookAttempt.objects.filter(delivery=delivery).order_by("pk"))
    assert [(a.status_code, a.response_excerpt) for a in attempts] == [(503, "try later"), (200, "ok")]
    assert all(a.milliseconds >= 0 for a in attempts)


def test_endpoint_is_disabled_after_repeated_failed_deliveries(brand, receiver, settings):
    settings.WEBHOOK_MAX_ATTEMPTS, settings.WEBHOOK_DISABLE_AFTER = 2, 2
    receiver.statuses = [500] * 10
    webhook = webhook_of(brand, url=receiver.url)
    for _ in range(2):
        [delivery_id] = services.publish(brand_id=brand.pk, event="batch.ready", data={})
        assert services.deliver(delivery_id) is False  # first attempt failed: retry
        assert services.deliver(delivery_id) is True  # second: given up
    webhook.refresh_from_db()
    assert not webhook.is_active and webhook.disabled_at is not None
    assert services.publish(brand_id=brand.pk, event="batch.ready", data={}) == []  # nothing more queued


def test_an_endpoint_gets_only_the_events_it_chose(brand):
    webhook_of(brand, url="https://a.example.com/", events=["recall.created"])
    everything = webhook_of(brand, url="https://b.example.com/")
    ids = services.publish(brand_id=brand.pk, event="batch.ready", data={})
    assert [d.webhook_id for d in WebhookDelivery.objects.filter(pk__in=ids)] == [everything.pk]


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://192.168.0.10/",
        "http://hooks.example.com/",  # not https
        "https://user:pw@hooks.example.com/",
        # IPv6 forms embedding IPv4 127.0.0.1 (issue 18: these passed the form)
        "https://[::7f00:1]/hook",  # IPv4-compatible
        "https://[::ffff:7f00:1]/hook",  # IPv4-mapped
        "https://[2002:7f00:1::]/hook",  # 6to4
        "https://[64:ff9b::7f00:1]/hook",  # NAT64
        "https://[64:ff9b:1::7f00:1]/hook",  # local-use NAT64
        "https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/hook",  # Teredo
    ],
)
def test_private_and_loopback_targets_are_refused(url):
    assert signing.target_problem(url, allow_private=False, resolve=lambda host, port: [host.strip("[]")])


def test_a_name_that_resolves_inside_is_refused_and_a_public_one_allowed():
    inside = {"intranet.example.com": ["10.0.0.5"], "hooks.example.com": ["93.184.216.34"]}
    resolve = lambda host, port: inside[host]  # noqa: E731 - DNS is the outside world
    assert signing.target_problem("https://intranet.example.com/x", allow_private=False, resolve=resolve)
    assert signing.target_problem("https://hooks.example.com/x", allow_private=False, resolve=resolve) is None


def test_during_a_secret_rotation_receivers_verify_with_the_old_or_the_new_secret():
    body, now = b'{"id":"evt_1"}', 1_700_000_000
    header = signing.header_value("new-secret", now, body, previous="old-secret")
    assert signing.verify("new-secret", header, body, now) and signing.verify("old-secret", header, body, now)
    assert not signing.verify("other", header, body, now)
    assert not signing.verify("new-secret", header, body, now + signing.DEFAULT_TOLERANCE_SECONDS + 1)  # a replay


def test_webhook_allow_private_lets_on_premises_receivers_through():
    assert signing.target_problem("http://127.0.0.1:8080/hook", allow_private=True) is None


def test_a_private_target_is_not_posted_to_at_send_time_either(brand, settings, receiver):
    settings.WEBHOOK_ALLOW_PRIVATE = False  # saved while allowed, then the setting changed
    webhook, delivery = delivered_to(receiver, brand)
    assert receiver.requests == [] and WebhookAttempt.objects.get().error == "Use an https:// URL."


def test_settings_form_refuses_a_private_url(owner_client):
    response = owner_client.post("/settings/notifications/", {"url": "https://127.0.0.1/x"})
    assert response.status_code == 200 and "private or local" in response.content.decode()
    assert not Webhook.objects.exists()


def test_send_test_event_button_posts_a_signed_ping(brand, owner_client, receiver, django_capture_on_commit_callbacks):
    webhook = webhook_of(brand, url=receiver.url)
    with django_capture_on_commit_callbacks() as callbacks:
        assert owner_client.post(f"/settings/webhooks/{webhook.pk}/test/").status_code == 302
    delivery = WebhookDelivery.objects.get()
    services.deliver(delivery.pk)  # what the queued task does
    assert len(callbacks) == 1 and json.loads(receiver.requests[0][1])["type"] == "webhook.test"
    page = owner_client.get(f"/settings/webhooks/{webhook.pk}/").content.decode()
    assert webhook.secret in page and "200" in page


def test_webhook_pages_are_for_admins(brand, viewer_client, operator_client):
    webhook = webhook_of(brand)
    assert viewer_client.get(f"/settings/webhooks/{webhook.pk}/").status_code == 403
    assert operator_client.get("/settings/notifications/").status_code == 403


def test_email_subscribers_get_the_events_they_chose(
    brand, mailoutbox, eager_tasks, django_capture_on_commit_callbacks
):
    email_subscription_of(brand, "ops@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        batch = ready_batch(ProductFactory(brand=brand), quantity=3)
    assert [m.to for m in mailoutbox] == [["ops@example.com"]]
    mail = mailoutbox[0]
    assert "Your codes are ready" in mail.subject and mail.alternatives[0][1] == "text/html"
    assert f"Lot: {batch.lot.number}" in mail.body and f"/batches/{batch.pk}/" in mail.body
    assert f"batch: {batch.pk}" not in mail.body  # words, not a key: value dump of ids


def test_batch_ready_and_recall_created_are_published(brand, receiver):
    from tests.factories import applied_recall

    webhook_of(brand, url=receiver.url)
    batch = ready_batch(ProductFactory(brand=brand), quantity=4)
    applied_recall(batch, first=2, last=3)
    events = [json.loads(d.body) for d in WebhookDelivery.objects.order_by("pk")]
    assert [e["type"] for e in events] == ["batch.ready", "recall.created"]
    assert events[1]["data"]["first_position"] == 2 and events[1]["data"]["codes_in_scope"] == 2


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_failing_receiver_is_retried_by_the_worker_with_backoff():
    from tests.conftest import Receiver
    from tests.factories import BrandFactory
    from tests.processes import Worker, env_for_test_database, purge_queue, wait_for

    receiver = Receiver(statuses=[500, 502])
    brand = BrandFactory()
    webhook = webhook_of(brand, url=receiver.url)
    purge_queue(env_for_test_database())
    worker = Worker(WEBHOOK_ALLOW_PRIVATE=1, WEBHOOK_RETRY_BASE_SECONDS=1).start()
    try:
        services.publish(brand_id=brand.pk, event="alert.opened", data={"alert": 1})  # autocommit: sent at once
        delivery = wait_for(
            lambda: WebhookDelivery.objects.filter(webhook=webhook, state=DeliveryState.DELIVERED).first(), 60
        )
    finally:
        worker.stop()
        receiver.close()
    attempts = list(WebhookAttempt.objects.filter(delivery=delivery).order_by("attempted_at"))
    assert [a.status_code for a in attempts] == [500, 502, 200] and delivery.attempts == 3
    assert (attempts[2].attempted_at - attempts[1].attempted_at) > (attempts[1].attempted_at - attempts[0].attempted_at)
    assert len({body for _, body in receiver.requests}) == 1  # the same signed body each time


class TricklingReceiver:
    """A receiver that answers a byte every `gap` seconds for as long as it is let: each read gets data well
    within WEBHOOK_TIMEOUT_SECONDS, so only a deadline on the whole request ends it."""

    def __init__(self, gap=0.3, limit=60):
        import socketserver
        import threading

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                self.request.recv(65536)
                started = time.monotonic()
                for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 10_000:
                    if time.monotonic() - started > limit:
                        return
                    try:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                    except OSError:
                        return
                    time.sleep(gap)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_a_trickling_receiver_is_cut_off_at_the_deadline_of_the_whole_delivery(brand, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    settings.WEBHOOK_TIMEOUT_SECONDS, settings.WEBHOOK_DEADLINE_SECONDS = 10, 2
    receiver = TricklingReceiver()
    try:
        webhook_of(brand, url=receiver.url)
        [delivery_id] = services.publish(brand_id=brand.pk, event="batch.ready", data={"batch": 1})
        started = time.monotonic()
        assert services.deliver(delivery_id) is False  # to be retried later, as for any failed attempt
        seconds = time.monotonic() - started
    finally:
        receiver.close()
    assert 1.5 < seconds < 4
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None and "within 2 s" in attempt.error


def test_send_test_event_is_limited_per_endpoint_and_per_brand(brand, owner_client, settings):
    settings.WEBHOOK_TEST_INTERVAL_SECONDS, settings.WEBHOOK_TEST_PER_BRAND = 60, 2
    first, second, third = (webhook_of(brand, url=f"https://hooks.example.com/{n}") for n in range(3))
    assert owner_client.post(f"/settings/webhooks/{first.pk}/test/").status_code == 302
    page = owner_client.post(f"/settings/webhooks/{first.pk}/test/", follow=True).content.decode()
    assert "sent to this endpoint less than 60 s ago" in page
    assert owner_client.post(f"/settings/webhooks/{second.pk}/test/").status_code == 302
    page = owner_client.post(f"/settings/webhooks/{third.pk}/test/", follow=True).content.decode()
    assert "At most 2 test events every 60 s" in page
    assert WebhookDelivery.objects.filter(event=services.TEST_EVENT).count() == 2
    WebhookDelivery.objects.update(created_at=WebhookDelivery.objects.first().created_at - timedelta(seconds=61))
    assert owner_client.post(f"/settings/webhooks/{first.pk}/test/").status_code == 302
    assert WebhookDelivery.objects.filter(event=services.TEST_EVENT).count() == 3


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_slow_receiver_of_one_brand_does_not_delay_another_brands_batch_and_recall(settings):
    """Two test sends at a receiver that never answers keep the outbound worker busy; the other brand's batch
    and recall, on the work worker of the default set-up, finish meanwhile."""
    from codes import recalls
    from codes import services as code_services
    from codes.models import BatchState, ChangeState, CodeBatch, StatusChange
    from tests.conftest import Receiver
    from tests.factories import BrandFactory, LotFactory
    from tests.processes import Worker, env_for_test_database, purge_queue, wait_for

    settings.WEBHOOK_ALLOW_PRIVATE = True
    receiver = Receiver(held=2)
    slow = BrandFactory()
    hooks = [webhook_of(slow, url=receiver.url) for _ in range(2)]
    product = ProductFactory()
    batch = ready_batch(product, quantity=10)
    purge_queue(env_for_test_database())
    outbound = Worker(settings.OUTBOUND_QUEUES, WEBHOOK_ALLOW_PRIVATE=1, WEBHOOK_DEADLINE_SECONDS=50).start()
    work = Worker(settings.WORK_QUEUES).start()
    try:
        for hook in hooks:
            services.send_test_event(hook)
        wait_for(lambda: len(receiver.requests) == 1, 60)  # the outbound worker is stuck on the slow receiver
        ordered = code_services.order_batch(product=product, lot=LotFactory(product=product), quantity=1_000)
        recall = recalls.recall(brand=product.brand, batch=batch, reason="Seal defect")
        started = time.monotonic()
        wait_for(lambda: CodeBatch.objects.get(pk=ordered.pk).state == BatchState.READY, 60)
        wait_for(lambda: StatusChange.objects.get(pk=recall.pk).state == ChangeState.DONE, 60)
        assert time.monotonic() - started < 30
        assert not receiver.release.is_set() and len(receiver.requests) == 1  # still held meanwhile
    finally:
        receiver.release.set()
        work.stop()
        outbound.stop()
        receiver.close()


def test_the_request_goes_to_the_address_checked_not_to_a_second_dns_answer(brand, settings, monkeypatch):
    """DNS rebinding: the name answers a public address when checked, then an internal one when the sender looks
    it up again. The request must go to the address that was checked, with no second lookup. The network is
    the outside world here: DNS answers are faked and the connection is recorded, never made."""
    import socket

    settings.WEBHOOK_ALLOW_PRIVATE = False
    real, answers, connected = socket.getaddrinfo, iter(["93.184.216.34", "127.0.0.1"]), []

    def dns(host, port, *args, **kwargs):
        if host != "hooks.example.com":
            return real(host, port, *args, **kwargs)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    def connect(address, *args, **kwargs):
        connected.append(address)
        raise ConnectionRefusedError("recorded, not made")

    monkeypatch.setattr(socket, "getaddrinfo", dns)
    monkeypatch.setattr(socket, "create_connection", connect)
    webhook_of(brand, url="https://hooks.example.com/hook")
    [delivery_id] = services.publish(brand_id=brand.pk, event="batch.ready", data={"batch": 1})
    services.deliver(delivery_id)
    assert connected == [("93.184.216.34", 443)]  # before: ("hooks.example.com", 443), looked up again


def test_the_delivery_log_says_the_same_of_every_network_failure(brand, settings):
    import socket

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # nothing listens once it is closed
    settings.WEBHOOK_ALLOW_PRIVATE = True
    webhook_of(brand, url=f"http://127.0.0.1:{port}/hook")
    [delivery_id] = services.publish(brand_id=brand.pk, event="batch.ready", data={"batch": 1})
    services.deliver(delivery_id)
    assert WebhookAttempt.objects.get().error == services.NO_ANSWER  # not "ConnectionRefusedError: [Errno 111] …"


def test_rotating_the_secret_signs_with_both_until_the_overlap_ends(brand, owner_client, receiver):
    import time

    from django.utils import timezone

    webhook = webhook_of(brand, url=receiver.url)
    old = webhook.secret
    assert owner_client.post(f"/settings/webhooks/{webhook.pk}/rotate/").status_code == 302
    webhook.refresh_from_db()
    assert webhook.secret != old and webhook.previous_secret == old
    [delivery_id] = services.publish(brand_id=brand.pk, event="batch.ready", data={"batch": 1})
    services.deliver(delivery_id)
    headers, body = receiver.requests[-1]
    now = int(time.time())
    assert signing.verify(webhook.secret, headers[signing.HEADER], body, now)
    assert signing.verify(old, headers[signing.HEADER], body, now)  # a receiver that has not switched yet
    Webhook.objects.filter(pk=webhook.pk).update(previous_secret_until=timezone.now())
    [delivery_id] = services.publish(brand_id=brand.pk, event="batch.ready", data={"batch": 2})
    services.deliver(delivery_id)
    headers, body = receiver.requests[-1]
    assert not signing.verify(old, headers[signing.HEADER], body, int(time.time()))


def test_only_the_brands_admins_rotate_its_secret(brand, viewer_client, outsider_client):
    webhook = webhook_of(brand)
    assert viewer_client.post(f"/settings/webhooks/{webhook.pk}/rotate/").status_code == 403
    assert outsider_client.post(f"/settings/webhooks/{webhook.pk}/rotate/").status_code == 404
    webhook.refresh_from_db()
    assert webhook.previous_secret == ""
