"""Events out to the brand: signed webhooks (retried with backoff, every attempt logged) and e-mail.

Nothing here runs inside the transaction that caused an event: `publish` stores the deliveries with it and
hands them to workers once it commits, so a rolled-back recall tells nobody, and no request waits on a
receiver.
"""

import contextlib
import http.client
import json
import logging
import socket
import threading
import time
import urllib.parse
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing as django_signing
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from brands.models import Brand
from core.errors import ServiceError
from core.queueing import enqueue_on_commit

from . import signing
from .models import (
    EVENTS,
    DeliveryState,
    EmailDigest,
    EmailFrequency,
    EmailSubscription,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
    new_secret,
)

log = logging.getLogger(__name__)
TEST_EVENT = "webhook.test"
EVENT_TEMPLATE = "notifications/email/event"


def publish(*, brand_id: int, event: str, data: dict, email: bool = True) -> list[int]:
    """Queue `event` for every endpoint and e-mail subscriber of the brand that wants it; sent after commit.
    `email=False`: the publisher writes its own e-mails (alerts: scans.alert_mail)."""
    envelope: dict[str, Any] = {
        "id": f"evt_{uuid.uuid4().hex}",
        "type": event,
        "created": int(time.time()),
        "data": data,
    }
    body = json.dumps(envelope, separators=(",", ":"), sort_keys=True, default=str)
    hooks = [w for w in Webhook.objects.filter(brand_id=brand_id, is_active=True) if w.wants(event)]
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(webhook=w, event=event, event_id=envelope["id"], body=body) for w in hooks
    )
    ids = [d.pk for d in deliveries]
    from .tasks import deliver_webhook_task, send_event_email_task

    for delivery_id in ids:
        enqueue_on_commit(deliver_webhook_task, delivery_id)
    confirmed = EmailSubscription.objects.filter(brand_id=brand_id, confirmed_at__isnull=False)
    if email and any(s.wants(event) for s in confirmed):
        enqueue_on_commit(send_event_email_task, brand_id, event, body)
    return ids


class WebhookError(ServiceError):
    """An endpoint the brand's events must not be sent to, or events that do not exist."""


def check_webhook(*, url: str, events) -> None:
    """A public https endpoint (unless private targets are allowed: on-premises receivers), so that nobody
    points the platform's requests inside its own network; and events that exist. Checked at send time too."""
    problem = signing.target_problem(url, allow_private=settings.WEBHOOK_ALLOW_PRIVATE)
    if problem:
        raise WebhookError("url", problem)
    check_events(events, error=WebhookError)


def check_events(events, *, error: type[ServiceError]) -> None:
    unknown = sorted(set(events) - set(EVENTS))
    if unknown:
        raise error("events", f"No such event: {unknown[0]}.")


def add_webhook(*, brand: Brand, url: str, description: str = "", events=()) -> Webhook:
    """A new endpoint for the brand's events (`events` empty: every event)."""
    check_webhook(url=url, events=events)
    return Webhook.objects.create(brand=brand, url=url, description=description, events=list(events))


def update_webhook(
    *, webhook: Webhook, description: str | None = None, events=None, enabled: bool | None = None
) -> Webhook:
    """Change what an endpoint is called, which events it gets, or switch it on or off (None: left as it is).
    Switched on, it starts again with no failures counted (as `enable`); its URL is not editable: a new
    address is a new endpoint, with a secret of its own."""
    changes: dict[str, Any] = {}
    if description is not None:
        changes["description"] = description
    if events is not None:
        check_events(events, error=WebhookError)
        changes["events"] = list(events)
    if enabled is True and not webhook.is_active:
        changes.update(is_active=True, disabled_at=None, consecutive_failures=0)
    elif enabled is False and webhook.is_active:
        changes.update(is_active=False, disabled_at=timezone.now())
    if changes:
        Webhook.objects.filter(pk=webhook.pk).update(**changes)
    return Webhook.objects.get(pk=webhook.pk)


def delete_webhook(*, webhook: Webhook) -> None:
    """The endpoint and its delivery log; events already queued for it are dropped (their rows go with it)."""
    Webhook.objects.filter(pk=webhook.pk).delete()


class SubscriptionError(ServiceError):
    """An e-mail subscription that cannot be added."""


def subscribe(
    *, brand: Brand, email: str, added_by, events=(), frequency: str = "", language: str = ""
) -> EmailSubscription:
    """Send the brand's events to an address, once its owner agrees (see add_subscription: at once when it is
    the adder's own, else after the mailed link; `confirmed_at` says which)."""
    email = email.strip().lower()
    if EmailSubscription.objects.for_brand(brand).filter(email=email).exists():
        raise SubscriptionError("email", "That address already gets notifications.")
    check_events(events, error=SubscriptionError)
    subscription = EmailSubscription.objects.create(
        brand=brand,
        email=email,
        events=list(events),
        frequency=frequency or EmailFrequency.IMMEDIATE,
        language=language or "en",
    )
    add_subscription(subscription=subscription, added_by=added_by)
    subscription.refresh_from_db(fields=["confirmed_at"])
    return subscription


class TestSendRefused(ServiceError):
    """Too many test sends: the button is limited so that one brand cannot keep the webhook workers busy."""


def send_test_event(webhook: Webhook) -> WebhookDelivery:
    """The "send test event" button: a signed ping to one endpoint, even one that was disabled. At most one per
    endpoint per WEBHOOK_TEST_INTERVAL_SECONDS and WEBHOOK_TEST_PER_BRAND per brand in that time: two clicks at a
    slow receiver could otherwise hold every webhook worker (refused with TestSendRefused)."""
    with transaction.atomic():
        # The brand's row lock serialises its clicks: two at once cannot both see room for one more.
        Brand.objects.select_for_update().filter(pk=webhook.brand_id).first()
        _check_test_send_allowed(webhook)
        return _queue_test_event(webhook)


def _check_test_send_allowed(webhook: Webhook) -> None:
    interval = settings.WEBHOOK_TEST_INTERVAL_SECONDS
    since = timezone.now() - timedelta(seconds=interval)
    recent = WebhookDelivery.objects.filter(webhook__brand_id=webhook.brand_id, event=TEST_EVENT, created_at__gt=since)
    if recent.filter(webhook=webhook).exists():
        raise TestSendRefused("webhook", f"A test event was sent to this endpoint less than {interval} s ago.")
    if recent.count() >= settings.WEBHOOK_TEST_PER_BRAND:
        raise TestSendRefused(
            "webhook", f"At most {settings.WEBHOOK_TEST_PER_BRAND} test events every {interval} s: try again soon."
        )


def _queue_test_event(webhook: Webhook) -> WebhookDelivery:
    envelope: dict[str, Any] = {
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


# What the delivery log says of a request that got no HTTP answer: one class, whatever the network did, so the
# log never tells a closed port from an open or a silent one.
NO_ANSWER = "No HTTP answer: the connection failed, was closed or timed out."


def _post(webhook: Webhook, delivery: WebhookDelivery) -> tuple[int | None, str, str, int]:
    # Checked at send time too (DNS may have changed since the endpoint was saved), and the request goes to the
    # very addresses checked: a second lookup could answer otherwise (DNS rebinding).
    problem, addresses = signing.checked_target(webhook.url, allow_private=settings.WEBHOOK_ALLOW_PRIVATE)
    if problem:
        return None, "", problem, 0
    body = delivery.body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Serialize-Webhooks/1",
        signing.HEADER: signing.header_value(
            webhook.secret, int(time.time()), body, previous=webhook.overlapping_secret()
        ),
        "Serialize-Event": delivery.event,
        "Serialize-Delivery": str(delivery.pk),
    }
    started = time.monotonic()
    try:
        with _Deadline(webhook.url, settings.WEBHOOK_DEADLINE_SECONDS, address=addresses[0]) as connection:
            # http.client follows no redirect: one could point anywhere, including inside our network.
            connection.request("POST", connection.target, body=body, headers=headers)
            response = connection.getresponse()
            status, excerpt, error = response.status, response.read(500).decode("utf-8", "replace"), ""
    except (OSError, ValueError, http.client.HTTPException):
        status, excerpt, error = None, "", NO_ANSWER
    seconds = time.monotonic() - started
    if status is None and seconds >= settings.WEBHOOK_DEADLINE_SECONDS:
        error = f"No answer within {settings.WEBHOOK_DEADLINE_SECONDS:g} s (the deadline of a whole delivery)"
    return status, excerpt, error, int(seconds * 1000)


class _Deadline:
    """A connection to a webhook URL that is cut once `seconds` have passed since it was opened, whatever the
    receiver does: WEBHOOK_TIMEOUT_SECONDS bounds each connect and read, but a receiver trickling a byte at a time
    would hold a worker for ever; the deadline bounds the whole request."""

    def __init__(self, url: str, seconds: float, *, address: str):
        parts = urllib.parse.urlsplit(url)
        kind = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
        self.connection = kind(parts.hostname or "", parts.port, timeout=min(settings.WEBHOOK_TIMEOUT_SECONDS, seconds))
        self.connection.address = address
        self.connection.target = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
        self.timer = threading.Timer(seconds, self._cut)
        self.timer.daemon = True

    def _cut(self) -> None:
        sock = self.connection.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes a blocked recv/send: it fails at once

    def __enter__(self) -> "_PinnedHTTPConnection | _PinnedHTTPSConnection":
        self.timer.start()
        return self.connection

    def __exit__(self, *exc) -> None:
        self.timer.cancel()
        self.connection.close()


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to `address` (the one checked), while the Host header names the URL's host."""

    address = target = ""

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to `address` (the one checked); TLS still verifies the certificate of the URL's host name."""

    address = target = ""

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        context = self._context  # type: ignore[attr-defined]  # HTTPSConnection's own, undeclared in typeshed
        self.sock = context.wrap_socket(sock, server_hostname=self.host)


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


def rotate_secret(webhook: Webhook) -> Webhook:
    """A new signing secret; the current one keeps signing alongside (a second v1) for
    WEBHOOK_SECRET_OVERLAP_HOURS, so the receiver can switch without refusing events meanwhile."""
    until = timezone.now() + timedelta(hours=settings.WEBHOOK_SECRET_OVERLAP_HOURS)
    Webhook.objects.filter(pk=webhook.pk).update(
        previous_secret=webhook.secret, previous_secret_until=until, secret=new_secret()
    )
    return Webhook.objects.get(pk=webhook.pk)


def enable(webhook: Webhook) -> None:
    Webhook.objects.filter(pk=webhook.pk).update(is_active=True, disabled_at=None, consecutive_failures=0)


# What an event e-mail says, per event: its title, and the dashboard page it links to (URL name, data key).
EVENT_WORDS = {
    "batch.ready": (gettext_lazy("Your codes are ready"), "batch_detail", "batch"),
    "print_job.ready": (gettext_lazy("Your print files are ready"), "batch_detail", "batch"),
    "recall.created": (gettext_lazy("A recall was started"), "recall_detail", "recall"),
}
FACT_LABELS = {
    "gtin": gettext_lazy("GTIN"),
    "lot": gettext_lazy("Lot"),
    "quantity": gettext_lazy("Codes"),
    "codes_in_scope": gettext_lazy("Units in scope"),
    "format": gettext_lazy("Format"),
    "first_position": gettext_lazy("From position"),
    "last_position": gettext_lazy("To position"),
    "reason": gettext_lazy("Reason"),
    "consumer_message": gettext_lazy("Message to consumers"),
}


def send_event_email(*, brand_id: int, event: str, body: str) -> int:
    """E-mail an event (a batch or print files ready, a recall) to the subscribers who want it, each in their
    language: what happened in words, its facts by name (no database ids), and a link to its page."""
    brand = Brand.objects.get(pk=brand_id)
    recipients = subscribers(brand_id=brand_id, event=event)
    if not recipients:
        return 0
    data = json.loads(body)["data"]
    title, url_name, key = EVENT_WORDS.get(event, (event, "", ""))
    url = f"{settings.SITE_URL}{reverse(url_name, args=[data[key]])}" if data.get(key) else ""
    sent = 0
    for subscription in recipients:
        with translation.override(subscription.language):
            facts = [
                (str(label), data[name]) for name, label in FACT_LABELS.items() if data.get(name) not in (None, "")
            ]
            context = {
                "brand": brand,
                "title": str(title),
                "facts": facts,
                "url": url,
                "subscription": subscription,
                "settings_url": f"{settings.SITE_URL}{reverse('notification_settings')}",
            }
            sent += send_templated_email(
                to=subscription.email, language=subscription.language, template=EVENT_TEMPLATE, context=context
            )
    return sent


def subscribers(*, brand_id: int, event: str, frequency: str | None = None) -> list[EmailSubscription]:
    """The brand's e-mail subscribers who want `event` (and, if given, get their e-mail at that frequency)."""
    subscriptions = EmailSubscription.objects.filter(brand_id=brand_id, confirmed_at__isnull=False)
    if frequency:
        subscriptions = subscriptions.filter(frequency=frequency)
    return [s for s in subscriptions if s.wants(event)]


def send_templated_email(*, to: str, language: str, template: str, context: dict) -> int:
    """A multipart e-mail (plain text and HTML) from `<template>_subject.txt`, `.txt` and `.html`, rendered in
    `language`. Context values that are words should be made under the same language (translation.override).
    A mail to a subscription carries its one-click unsubscribe link, in the text and in the headers (RFC 8058)."""
    headers = {}
    subscription = context.get("subscription")
    if subscription is not None and subscription.pk and "unsubscribe_url" not in context:
        unsubscribe = absolute(
            reverse("subscription_unsubscribe", args=[subscription_token(subscription, UNSUBSCRIBE)])
        )
        context = {**context, "unsubscribe_url": unsubscribe}
        headers = {"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    with translation.override(language):
        subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
        text = render_to_string(f"{template}.txt", context)
        html = render_to_string(f"{template}.html", context)
    message = EmailMultiAlternatives(subject, text, None, [to], headers=headers)
    message.attach_alternative(html, "text/html")
    return message.send()


# --- Subscriptions the address's owner agreed to, and can leave with one click --------------------------

CONFIRM, UNSUBSCRIBE = "notifications.subscription.confirm", "notifications.subscription.unsubscribe"
CONFIRM_MAX_AGE = 7 * 24 * 3600
CONFIRM_TEMPLATE = "notifications/email/confirm_subscription"


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def subscription_token(subscription: EmailSubscription, purpose: str) -> str:
    """A signed capability for one subscription (its id and address: a re-added address gets a new one)."""
    return django_signing.dumps([subscription.pk, subscription.email], salt=purpose, compress=True)


def subscription_of(token: str, purpose: str) -> EmailSubscription | None:
    max_age = CONFIRM_MAX_AGE if purpose == CONFIRM else None
    try:
        pk, email = django_signing.loads(token, salt=purpose, max_age=max_age)
    except (django_signing.BadSignature, ValueError, TypeError):
        return None
    return EmailSubscription.objects.select_related("brand").filter(pk=pk, email=email).first()


def add_subscription(*, subscription: EmailSubscription, added_by) -> bool:
    """A saved subscription starts getting mail once its address's owner agrees: at once when it is the adder's
    own (verified) account address, else after the link mailed to it. True when it is confirmed now."""
    own = getattr(added_by, "email", "") or ""
    if own.strip().lower() == subscription.email:
        EmailSubscription.objects.filter(pk=subscription.pk).update(confirmed_at=timezone.now())
        return True
    context = {
        "brand": subscription.brand,
        "subscription": subscription,
        "added_by": own,
        "confirm_url": absolute(reverse("subscription_confirm", args=[subscription_token(subscription, CONFIRM)])),
        "unsubscribe_url": "",  # nothing to leave yet: without a click, nothing more is ever sent
    }
    send_templated_email(
        to=subscription.email, language=subscription.language, template=CONFIRM_TEMPLATE, context=context
    )
    return False


def confirm_subscription(subscription: EmailSubscription) -> None:
    EmailSubscription.objects.filter(pk=subscription.pk, confirmed_at__isnull=True).update(confirmed_at=timezone.now())


def claim_digest(*, subscription: EmailSubscription, day, alerts: int) -> EmailDigest | None:
    """Claim the digest of `day` for a subscriber: the claim, or None when it was claimed before (sent, or being
    sent by another worker). The unique constraint decides a race between two workers."""
    try:
        with transaction.atomic():
            return EmailDigest.objects.create(subscription=subscription, day=day, alerts=alerts)
    except IntegrityError:
        return None


def digest_sent(digest: EmailDigest) -> None:
    EmailDigest.objects.filter(pk=digest.pk).update(sent_at=timezone.now())


def release_digest(digest: EmailDigest) -> None:
    """Sending failed: give the claim back, so the next run tries again."""
    EmailDigest.objects.filter(pk=digest.pk, sent_at__isnull=True).delete()
