from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from core.queueing import RETRY_ON_LOST_DATABASE

from .idempotency import forget_idempotency_keys


@shared_task(acks_late=True, **RETRY_ON_LOST_DATABASE)
def forget_idempotency_keys_task() -> int:
    """Beat, daily: idempotency keys older than IDEMPOTENCY_KEY_DAYS (idempotent: a repeat finds nothing)."""
    return forget_idempotency_keys(before=timezone.now() - timedelta(days=settings.IDEMPOTENCY_KEY_DAYS))
