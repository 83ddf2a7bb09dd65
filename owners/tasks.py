import logging

from celery import shared_task

from core.queueing import RETRY_ON_LOST_DATABASE

from . import recall_messages, services

logger = logging.getLogger(__name__)

MAIL_RETRIES = 5  # as the other mail tasks (notifications, scans): 30 s, 1, 2, 4, 8 min apart
MAIL_RETRY_SECONDS = 30


@shared_task(bind=True, acks_late=True, max_retries=MAIL_RETRIES, **RETRY_ON_LOST_DATABASE)
def send_owner_link_task(self, registration_ids: list[int], language: str) -> int:
    """After an owner asked on "My registration": mail the link to the address of these registrations. A mail
    server's refusal may quote the address, and Celery logs what a retry carries: the retry carries no
    exception, and a link never sent is logged by the failure's kind only."""
    try:
        return services.send_owner_link(registration_ids=registration_ids, language=language)
    except OSError as error:  # smtplib's errors among them
        failure = type(error).__name__
    if self.request.retries >= MAIL_RETRIES:
        logger.warning("owner link not sent", extra={"failure": failure, "registrations": len(registration_ids)})
        return 0
    raise self.retry(countdown=MAIL_RETRY_SECONDS * 2**self.request.retries)


@shared_task(acks_late=True, **RETRY_ON_LOST_DATABASE)
def erase_expired_registrations_task() -> int:
    """Beat, daily: erase registrations past the time their consent words promise (idempotent)."""
    return services.erase_expired_registrations()


@shared_task(acks_late=True, **RETRY_ON_LOST_DATABASE)
def queue_recall_notices_task(change_id: int) -> int:
    """After a recall is applied (codes' RECALL_FOLLOW_UP_TASKS): one notice per owner to tell, each sent by its
    own task; a repeat queues nothing twice."""
    return recall_messages.queue_recall_notices(change_id)


@shared_task(bind=True, acks_late=True, max_retries=MAIL_RETRIES, **RETRY_ON_LOST_DATABASE)
def send_recall_notice_task(self, notice_id: int) -> str:
    """One owner's recall e-mail; a passing failure is retried with backoff, then counted as failed. The retry
    carries no exception: an SMTP error may quote the owner's address, and Celery logs what a retry carries."""
    status = recall_messages.send_recall_notice(notice_id)
    if status != recall_messages.RETRY:
        return status
    if self.request.retries >= MAIL_RETRIES:
        recall_messages.give_up(notice_id)
        return "failed"
    countdown = MAIL_RETRY_SECONDS * 2**self.request.retries
    recall_messages.retry_in(notice_id, countdown)
    raise self.retry(countdown=countdown)


@shared_task(acks_late=True, **RETRY_ON_LOST_DATABASE)
def resend_stalled_notices_task() -> int:
    """Beat, every minute: recall e-mails still waiting long after their try was due (the message was lost) are
    sent again; the notice's claim keeps a late duplicate from mailing the owner twice."""
    from core.queueing import resend_stalled

    from .models import NoticeStatus, RecallNotice

    return len(resend_stalled(RecallNotice.objects.filter(status=NoticeStatus.PENDING), send_recall_notice_task))
