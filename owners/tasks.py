from celery import shared_task

from core.queueing import LOST_DATABASE, RETRY_ON_LOST_DATABASE

from . import services


@shared_task(acks_late=True, autoretry_for=(OSError, *LOST_DATABASE), retry_backoff=30, max_retries=5)
def send_owner_link_task(registration_ids: list[int], language: str) -> int:
    """After an owner asked on "My registration": mail the link to the address of these registrations."""
    return services.send_owner_link(registration_ids=registration_ids, language=language)


@shared_task(acks_late=True, **RETRY_ON_LOST_DATABASE)
def erase_expired_registrations_task() -> int:
    """Beat, daily: erase registrations past the time their consent words promise (idempotent)."""
    return services.erase_expired_registrations()
