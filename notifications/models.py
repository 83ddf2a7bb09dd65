import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from brands.models import Brand, BrandOwnedQuerySet

EVENTS = ("alert.opened", "alert.updated", "recall.created", "batch.ready", "print_job.ready")
EVENT_CHOICES = [(e, e) for e in EVENTS]


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def _wants(events: list, event: str) -> bool:
    return not events or event in events  # no event list: every event


class Webhook(models.Model):
    """An HTTPS endpoint of a brand that receives signed JSON events."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=80, default=new_secret)
    # After a rotation the previous secret signs too, as a second v1, until `previous_secret_until`: receivers
    # switch to the new one without a window where they refuse every event.
    previous_secret = models.CharField(max_length=80, blank=True)
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    events = models.JSONField(default=list, blank=True, help_text="Empty: every event")
    description = models.CharField(max_length=120, blank=True)
    is_active = models.BooleanField(default=True)
    # Failed deliveries in a row (each after all its retries); at WEBHOOK_DISABLE_AFTER the endpoint is disabled.
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    brand_path = "brand"
    url_id = "webhook_id"
    objects = BrandOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return self.url

    def wants(self, event: str) -> bool:
        return self.is_active and _wants(self.events, event)

    def overlapping_secret(self) -> str:
        """The previous secret while its overlap lasts, else ""."""
        live = self.previous_secret_until is not None and self.previous_secret_until > timezone.now()
        return self.previous_secret if live else ""


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    """One event for one endpoint: the exact body that is signed and sent, tried until it is accepted."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40)
    event_id = models.CharField(max_length=40)
    body = models.TextField()
    state = models.CharField(max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # When its next attempt is due at the broker (sent, or retried with backoff): a pending delivery past it by
    # WORK_RESEND_SECONDS lost its message and is sent again.
    enqueued_at = models.DateTimeField(default=timezone.now)

    brand_path = "webhook__brand"
    objects = BrandOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.event} → {self.webhook_id} ({self.state})"


class WebhookAttempt(models.Model):
    """One POST of a delivery: status, time taken and the start of the answer, for the brand to debug with."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    attempted_at = models.DateTimeField(auto_now_add=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    milliseconds = models.PositiveIntegerField(default=0)
    response_excerpt = models.CharField(max_length=500, blank=True)
    error = models.CharField(max_length=300, blank=True)

    brand_path = "delivery__webhook__brand"
    objects = BrandOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-attempted_at"]

    def __str__(self):
        return f"{self.delivery_id} at {self.attempted_at}: {self.status_code or self.error}"

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class EmailFrequency(models.TextChoices):
    IMMEDIATE = "immediate", "At once, one e-mail per alert"
    DAILY = "daily", "Once a day, a digest of the day's alerts"


class EmailSubscription(models.Model):
    """An address that gets e-mail for some (or every) event of a brand, in its reader's language; alerts at
    once or as one daily digest (the other events are rare and always sent at once)."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="email_subscriptions")
    email = models.EmailField()
    events = models.JSONField(default=list, blank=True, help_text="Empty: every event")
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")
    frequency = models.CharField(max_length=10, choices=EmailFrequency.choices, default=EmailFrequency.IMMEDIATE)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when the address's owner followed the link mailed to it (or subscribed it as their own account's
    # address): a brand admin cannot make the platform mail just any address.
    confirmed_at = models.DateTimeField(null=True, blank=True)

    brand_path = "brand"
    url_id = "subscription_id"
    erased_with_account = ("email",)  # brands.services.delete_account
    objects = BrandOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["email"]
        constraints = [models.UniqueConstraint(fields=["brand", "email"], name="email_subscription_unique")]

    def __str__(self):
        return self.email

    def wants(self, event: str) -> bool:
        return _wants(self.events, event)


class EmailDigest(models.Model):
    """One subscriber's digest of one day: claimed (inserted) before it is sent, so a repeated or concurrent
    task finds the claim and sends nothing twice."""

    subscription = models.ForeignKey(EmailSubscription, on_delete=models.CASCADE, related_name="digests")
    day = models.DateField()
    alerts = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)

    brand_path = "subscription__brand"
    objects = BrandOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["subscription", "day"], name="email_digest_once_a_day")]

    def __str__(self):
        return f"{self.subscription_id}: {self.day}"
