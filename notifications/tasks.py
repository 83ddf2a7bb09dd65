from datetime import timedelta

from celery import shared_task
from django.db.models.functions import Now

from core.queueing import LOST_DATABASE, RETRY_ON_LOST_DATABASE

from . import services


@shared_task(bind=True, acks_late=True, max_retries=None, **RETRY_ON_LOST_DATABASE)
def deliver_webhook_task(self, delivery_id: int) -> None:
    """One attempt; a failed one is retried with exponential backoff until the delivery gives up."""
    if not services.deliver(delivery_id):
        from .models import WebhookDelivery

        attempts = WebhookDelivery.objects.filter(pk=delivery_id).values_list("attempts", flat=True).first() or 1
        countdown = services.backoff_seconds(attempts)
        # The retry is due then: the stalled-delivery sweep counts from there, not from the first send.
        WebhookDelivery.objects.filter(pk=delivery_id).update(enqueued_at=Now() + timedelta(seconds=countdown))
        raise self.retry(countdown=countdown)


@shared_task(acks_late=True, autoretry_for=(OSError, *LOST_DATABASE), retry_backoff=30, max_retries=5)
def send_event_email_task(brand_id: int, event: str, body: str) -> int:
    return services.send_event_email(brand_id=brand_id, event=event, body=body)


@shared_task(acks_late=True, **RETRY_ON_LOST_DATABASE)
def resend_stalled_deliveries_task() -> int:
    """Beat, every minute: pending deliveries whose attempt is overdue (the message was lost) are sent again."""
    from core.queueing import resend_stalled

    from .models import DeliveryState, WebhookDelivery

    return len(resend_stalled(WebhookDelivery.objects.filter(state=DeliveryState.PENDING), deliver_webhook_task))
