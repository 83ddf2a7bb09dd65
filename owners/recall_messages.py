"""Recall messages: once a recall is applied, each owner of a recalled unit who agreed to safety messages and gave
an e-mail address gets one e-mail (through notifications' mail), in their language, naming the product, the lot
and what to do (the recall's own words to consumers).

Each owner's e-mail is a RecallNotice row, claimed by a conditional UPDATE before it is sent: a repeated recall
task, a redelivered message or two workers at once send it at most once. Addresses are unsealed only here, in the
worker, outside any transaction, and never reach a log line: log records carry the notice's id alone.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from functools import reduce
from operator import or_

from django.db.models import Count, F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext

from codes import recalls
from codes.models import ChangeScope, ChangeState, StatusChange
from core.queueing import enqueue_on_commit
from notifications import services as notifications

from .models import NoticeStatus, Purpose, RecallNotice, Registration
from .queries import current_answers
from .sealing import SealError

log = logging.getLogger(__name__)
TEMPLATE = "owners/email/recall"
SENT, BOUNCED, RETRY = NoticeStatus.SENT, NoticeStatus.BOUNCED, "retry"


def owners_to_tell(change: StatusChange) -> list[Registration]:
    """The registrations of the recall's units whose owner agreed to safety messages (the purpose's one answer,
    the latest: a withdrawal replaces it), of the recall's own brand."""
    of_product = Registration.objects.filter(brand_id=change.brand_id, code__product_id=change.product_id)
    agreed = current_answers(of_product).filter(purpose=Purpose.SAFETY, given=True).values("registration_id")
    registrations = of_product.filter(pk__in=agreed).select_related("key", "code")
    if change.scope == ChangeScope.SERIALS:  # few registrations per product: matched here, not a 10^6-long IN
        serials = set(change.serials)
        return [r for r in registrations if r.code.serial in serials]
    ranges = recalls.ordinal_ranges(change)
    if not ranges:
        return []
    in_scope = reduce(or_, (Q(code__ordinal__gte=first, code__ordinal__lt=end) for first, end in ranges))
    return list(registrations.filter(in_scope))


def queue_recall_notices(change_id: int) -> int:
    """A finished recall's notices, one per owner to tell who gave an e-mail, each handed to a sending task; a
    repeat adds none (the unique constraint) and hands on only those still waiting. The number waiting."""
    change = StatusChange.objects.filter(pk=change_id).first()
    if change is None or not change.is_recall or change.state != ChangeState.DONE:
        return 0
    with_email = [r for r in owners_to_tell(change) if _email_of(r)]
    RecallNotice.objects.bulk_create(
        [RecallNotice(brand_id=change.brand_id, change=change, registration=r) for r in with_email],
        ignore_conflicts=True,
    )
    waiting = list(RecallNotice.objects.filter(change=change, status=NoticeStatus.PENDING).values_list("pk", flat=True))
    from .tasks import send_recall_notice_task

    for notice_id in waiting:
        enqueue_on_commit(send_recall_notice_task, notice_id)
    log.info("recall notices queued", extra={"change": change.pk, "notices": len(waiting)})
    return len(waiting)


def _email_of(registration: Registration) -> str:
    try:
        return registration.contact().email
    except SealError:  # not ours to open (a tampered row): nobody to write to, and nothing about them logged
        log.warning("registration contact does not open", extra={"registration": registration.pk})
        return ""


def send_recall_notice(notice_id: int) -> str:
    """Send one notice if it is still waiting: SENT, BOUNCED (the server refused the address for good), RETRY
    (a passing failure: the notice waits again) or, when it was not waiting, the status it has."""
    claimed = RecallNotice.objects.filter(pk=notice_id, status=NoticeStatus.PENDING).update(
        status=NoticeStatus.SENDING, attempts=F("attempts") + 1
    )
    notice = RecallNotice.objects.select_related(
        "brand", "change__product", "change__lot", "registration__key", "registration__code__batch__lot"
    ).get(pk=notice_id)
    if not claimed:
        return notice.status
    registration = notice.registration
    if registration is None or registration.erased_at is not None:  # erased since it was queued: nobody to write to
        _finish(notice_id, NoticeStatus.FAILED)
        return NoticeStatus.FAILED
    email = _email_of(registration)
    if not email:  # its contact no longer opens: nobody to write to
        _finish(notice_id, NoticeStatus.FAILED)
        return NoticeStatus.FAILED
    language = registration.language or "en"
    try:
        notifications.send_templated_email(
            to=email, language=language, template=TEMPLATE, context=_context(notice, language)
        )
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _reply in exc.recipients.values()]
        if codes and all(code >= 500 for code in codes):  # a permanent refusal (5xx): a bounce, not retried
            _finish(notice_id, NoticeStatus.BOUNCED, smtp_code=codes[0])
            log.info("recall notice bounced", extra={"notice": notice_id, "smtp_code": codes[0]})
            return BOUNCED
        return _wait_again(notice_id)
    except OSError:  # the mail server away or busy (smtplib's errors are OSErrors): retried like other mail
        return _wait_again(notice_id)
    _finish(notice_id, NoticeStatus.SENT)
    return SENT


def _wait_again(notice_id: int) -> str:
    # No exception text is logged: an SMTP error may quote the address.
    log.info("recall notice not sent yet", extra={"notice": notice_id})
    RecallNotice.objects.filter(pk=notice_id, status=NoticeStatus.SENDING).update(status=NoticeStatus.PENDING)
    return RETRY


def retry_in(notice_id: int, seconds: int) -> None:
    """The notice's next try is due in `seconds`: the stalled-notice sweep counts from then."""
    RecallNotice.objects.filter(pk=notice_id).update(enqueued_at=timezone.now() + timedelta(seconds=seconds))


def give_up(notice_id: int) -> None:
    """Retries used up: the notice counts as failed on the recall's report."""
    RecallNotice.objects.filter(pk=notice_id, status=NoticeStatus.PENDING).update(
        status=NoticeStatus.FAILED, finished_at=timezone.now()
    )


def _finish(notice_id: int, status: str, *, smtp_code: int | None = None) -> None:
    RecallNotice.objects.filter(pk=notice_id).update(status=status, smtp_code=smtp_code, finished_at=timezone.now())


def _context(notice: RecallNotice, language: str) -> dict:
    change, registration = notice.change, notice.registration
    assert registration is not None
    lot = change.lot or registration.code.batch.lot
    with translation.override(language):
        what_to_do = (
            change.consumer_messages.get(language)
            or change.consumer_message
            or gettext("Stop using this product and contact %(brand)s for what to do next.") % {"brand": notice.brand}
        )
    return {
        "brand": notice.brand,
        "product": change.product,
        "lot": lot.number if lot else "",
        "serial": registration.code.serial,
        "what_to_do": what_to_do,
    }


def report(change: StatusChange) -> dict[str, int]:
    """For the recall's page and API report: owners e-mailed (reached), bounced, failed and still waiting."""
    counts = RecallNotice.objects.filter(change=change).aggregate(
        reached=Count("pk", filter=Q(status=NoticeStatus.SENT)),
        bounced=Count("pk", filter=Q(status=NoticeStatus.BOUNCED)),
        failed=Count("pk", filter=Q(status=NoticeStatus.FAILED)),
        waiting=Count("pk", filter=Q(status__in=[NoticeStatus.PENDING, NoticeStatus.SENDING])),
    )
    return {name: counts[name] or 0 for name in ("reached", "bounced", "failed", "waiting")}
