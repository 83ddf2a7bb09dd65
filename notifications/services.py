"""Events out to the brand: signed webhooks (retried with backoff, every attempt logged) and e-mail.

Nothing here runs inside the transaction that caused an event: `publish` stores the deliveries with it and
hands them to workers once it commits, so a rolled-back recall tells nobody, and no request waits on a
receiver.
"""

import json
import logging
import time
import urllib.error
import urllib.request
import uuid

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from brands.models import Brand
from serialize_saas.celery import enqueue_on_commit

from . import signing
from .models import DeliveryState, EmailSubscription, Webhook, WebhookAttempt, WebhookDelivery

log = logging.getLogger(__name__)
TEST_EVENT = "webhook.test"


def publish(*, brand_id: int, event: str, data: dict) -> list[int]:
    """Queue `event` for every endpoint and e-mail subscriber of the brand that wants it; sent after commit."""
    envelope = {"id": f"evt_{uuid.uuid4().hex}", "type": event, "created": int(time.time()), "data": data}
    body = json.dumps(envelope, separators=(",", ":"), sort_keys=True, default=str)
    hooks = [w for w in Webhook.objects.filter(brand_id=brand_id, is_active=True) if w.wants(event)]
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(webhook=w, event=event, event_id=envelope["id"], body=body) for w in hooks
    )
    ids = [d.pk for d in deliveries]
    from .tasks import deliver_webhook_task, send_event_email_task

    for delivery_id in ids:
        enqueue_on_commit(deliver_webhook_task, delivery_id)
    if any(s.wants(event) for s in EmailSubscription.objects.filter(brand_id=brand_id)):
        enqueue_on_commit(send_event_email_task, brand_id, event, body)
    return ids


def send_test_event(webhook: Webhook) -> WebhookDelivery:
    """The "send test event" button: a signed ping to one endpoint, even one that was disabled."""
    envelope = {
        "id": f"evt_{uuid.uuid4().hex}",
        "type": TEST_EVENT,
        "created": int(time.time()),
        "data": {"webhook": webhook.pk, "message": "Test event from Serialize"},
    }
    body = json.dumps(envelope, separators=(",", ":"), sort_keys=True)
    delivery = WebhookDelivery.objects.create(webhook=webhook, event=TEST_EVENT, event_id=envelope["id"], body=body)
    from .tasks import deliver_webhook_task

    enqueue_on_commit(deliver_webhook_task, delivery.pk)
    return delivery


def backoff_seconds(attempts: int) -> int:
    """Exponential backoff before the next try: base, 2×base, 4×base … at most an hour."""
    return min(3600, settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1))


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect could point anywhere, including inside our network: treat it as an answer, not follow it."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def deliver(delivery_id: int) -> bool:
    """Make one attempt at a delivery. True when done (accepted, or given up on); False when to retry.
    A delivery that is not pending any more is done: a repeated task sends nothing twice."""
    delivery = WebhookDelivery.objects.select_related("webhook").filter(pk=delivery_id).first()
    if delivery is None or delivery.state != DeliveryState.PENDING:
        return True
    webhook = delivery.webhook
    if not webhook.is_active and delivery.event != TEST_EVENT:
        _finish(delivery, DeliveryState.FAILED)
        return True
    status, excerpt, error, ms = _post(webhook, delivery)
    # The attempt, its count and the outcome are recorded together (after the POST, never around it): a worker
    # killed in between leaves no attempt logged but uncounted. Killed during the POST, it leaves nothing, and
    # the redelivered task sends the same body again: at least once, receivers dedupe by the event's id.
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery, status_code=status, milliseconds=ms, response_excerpt=excerpt[:500], error=error[:300]
        )
        attempts = delivery.attempts + 1
        WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=attempts)
        if status is not None and 200 <= status < 300:
            _finish(delivery, DeliveryState.DELIVERED)
            Webhook.objects.filter(pk=webhook.pk).update(consecutive_failures=0)
            return True
        if attempts < settings.WEBHOOK_MAX_ATTEMPTS and delivery.event != TEST_EVENT:
            return False
        _finish(delivery, DeliveryState.FAILED)
        _count_failure(webhook)
    return True


def _post(webhook: Webhook, delivery: WebhookDelivery) -> tuple[int | None, str, str, int]:
    problem = signing.target_problem(webhook.url, allow_private=settings.WEBHOOK_ALLOW_PRIVATE)
    if problem:  # checked at send time too: DNS may have changed since the endpoint was saved
        return None, "", problem, 0
    body = delivery.body.encode()
    request = urllib.request.Request(  # noqa: S310 - scheme and address checked above
        webhook.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Serialize-Webhooks/1",
            signing.HEADER: signing.header_value(webhook.secret, int(time.time()), body),
            "Serialize-Event": delivery.event,
            "Serialize-Delivery": str(delivery.pk),
        },
    )
    started = time.monotonic()
    try:
        with _opener.open(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:
            status, excerpt, error = response.status, response.read(500).decode("utf-8", "replace"), ""
    except urllib.error.HTTPError as answer:
        status, excerpt, error = answer.code, answer.read(500).decode("utf-8", "replace"), ""
    except (OSError, ValueError) as exc:
        status, excerpt, error = None, "", f"{type(exc).__name__}: {exc}"
    return status, excerpt, error, int((time.monotonic() - started) * 1000)


def _finish(delivery: WebhookDelivery, state: str) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(state=state, finished_at=timezone.now())


def _count_failure(webhook: Webhook) -> None:
    """A delivery given up on; after WEBHOOK_DISABLE_AFTER of them in a row the endpoint is switched off."""
    Webhook.objects.filter(pk=webhook.pk).update(consecutive_failures=F("consecutive_failures") + 1)
    disabled = Webhook.objects.filter(
        pk=webhook.pk, is_active=True, consecutive_failures__gte=settings.WEBHOOK_DISABLE_AFTER
    ).update(is_active=False, disabled_at=timezone.now())
    if disabled:
        log.warning("webhook disabled after repeated failures", extra={"webhook": webhook.pk})


def enable(webhook: Webhook) -> None:
    Webhook.objects.filter(pk=webhook.pk).update(is_active=True, disabled_at=None, consecutive_failures=0)


def send_event_email(*, brand_id: int, event: str, body: str) -> int:
    brand = Brand.objects.get(pk=brand_id)
    recipients = [s.email for s in EmailSubscription.objects.filter(brand=brand) if s.wants(event)]
    if not recipients:
        return 0
    data = json.loads(body)["data"]
    lines = [f"{key}: {value}" for key, value in data.items() if value not in (None, "", [])]
    text = f"{brand.name}: {event}\n\n" + "\n".join(lines) + "\n\nSerialize"
    return send_mail(f"[Serialize] {brand.name}: {event}", text, None, recipients)
