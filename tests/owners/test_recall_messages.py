"""A recall e-mails the registered owners of its units who agreed to recall and safety messages: exactly them,
once each however often the recall or its tasks run, in their language, with the product, lot and what to do;
the recall's report counts who was reached and whose address bounced; no address or name reaches a log."""

import logging
import smtplib
from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.core.mail.backends.locmem import EmailBackend
from django.urls import reverse
from django.utils import timezone

from codes import recalls
from codes.models import StatusChange
from owners import services, tasks
from owners.models import NoticeStatus, Purpose, RecallNotice, Registration
from owners.sealing import Contact
from tests.api.conftest import key_client
from tests.notifications.test_mail_languages import LANGUAGES, UNFILLED

from .helpers import live_units

pytestmark = pytest.mark.django_db

SAFETY_YES = {"warranty": True, "safety": True, "marketing": False}
SAFETY_NO = {"warranty": True, "safety": False, "marketing": True}
BOUNCING = "@gone.example"


class RefusingBackend(EmailBackend):
    """The owner's mail server as SMTP answers it: addresses at gone.example do not exist (550), for good."""

    def send_messages(self, messages):
        for message in messages:
            refused = {to: (550, b"5.1.1 No such user") for to in message.to if to.endswith(BOUNCING)}
            if refused:
                raise smtplib.SMTPRecipientsRefused(refused)
        return super().send_messages(messages)


def own(code, email, consents=SAFETY_YES, *, name="Siti Aminah", phone="", language="en"):
    contact = Contact(name=name, email=email, phone=phone)
    return services.register_unit(code=code, scan_id=None, contact=contact, consents=consents, language=language)


def recall_lot(brand, code, **words) -> StatusChange:
    return recalls.recall(brand=brand, lot=code.batch.lot, reason="Glass fragments found in lot", **words)


@pytest.fixture
def lot(brand):
    """Five live units of one lot: three owners told, one who said no to safety messages, one phone-only."""
    units = live_units(brand, quantity=6)
    own(units[0], "siti@example.my", language="ms")
    own(units[1], "ahmad@example.my")
    own(units[2], "lim@example.my", name="Lim Wei")
    own(units[3], "no-thanks@example.my", SAFETY_NO)
    own(units[4], "", phone="+60 12-345 6789")
    return units


def applied(brand, code, django_capture_on_commit_callbacks, **words) -> StatusChange:
    with django_capture_on_commit_callbacks(execute=True):
        change = recall_lot(brand, code, **words)
    change.refresh_from_db()
    return change


def test_a_recall_emails_exactly_the_owners_who_agreed(
    brand, other_brand, lot, mailoutbox, eager_tasks, django_capture_on_commit_callbacks
):
    elsewhere = live_units(brand, quantity=1)[0]  # the brand's other product: not recalled
    own(elsewhere, "other-product@example.my")
    others = live_units(other_brand, quantity=1)[0]
    own(others, "other-brand@example.my")
    applied(brand, lot[0], django_capture_on_commit_callbacks, consumer_message="Return it to the shop.")
    assert sorted(mail.to[0] for mail in mailoutbox) == ["ahmad@example.my", "lim@example.my", "siti@example.my"]


def test_an_owner_who_withdrew_safety_messages_is_not_emailed(
    brand, lot, mailoutbox, eager_tasks, django_capture_on_commit_callbacks
):
    siti = Registration.objects.get(code=lot[0])
    services.withdraw_consent(registration=siti, purpose=Purpose.SAFETY)
    applied(brand, lot[0], django_capture_on_commit_callbacks)
    assert sorted(mail.to[0] for mail in mailoutbox) == ["ahmad@example.my", "lim@example.my"]


def test_the_email_names_the_product_lot_and_what_to_do_in_the_owners_language(
    brand, lot, mailoutbox, eager_tasks, django_capture_on_commit_callbacks
):
    words = {"consumer_message": "Return it to the shop for a refund.", "consumer_messages": {"ms": "Pulangkan kedai."}}
    applied(brand, lot[0], django_capture_on_commit_callbacks, **words)
    by_owner = {mail.to[0]: mail for mail in mailoutbox}
    lot_number = lot[0].batch.lot.number
    for address, what_to_do in (("siti@example.my", "Pulangkan kedai."), ("ahmad@example.my", "Return it to")):
        mail = by_owner[address]
        html = mail.alternatives[0][0]
        for part in (mail.body, html):
            assert "Vitamin C 1000" in part and lot_number in part and what_to_do in part
    assert by_owner["ahmad@example.my"].subject == "Safety recall: Acme Supplements Vitamin C 1000"
    assert by_owner["siti@example.my"].subject == "Penarikan balik keselamatan: Acme Supplements Vitamin C 1000"
    assert "Apa yang perlu dilakukan" in by_owner["siti@example.my"].body
    assert "Pulangkan" not in by_owner["ahmad@example.my"].body


def test_a_rerun_of_the_recall_or_its_tasks_sends_nothing_twice(
    brand, lot, mailoutbox, eager_tasks, django_capture_on_commit_callbacks
):
    change = applied(brand, lot[0], django_capture_on_commit_callbacks)
    assert len(mailoutbox) == 3
    with django_capture_on_commit_callbacks(execute=True):
        recalls.apply_change(change.pk)
        tasks.queue_recall_notices_task.delay(change.pk)
        tasks.queue_recall_notices_task.delay(change.pk)
    assert len(mailoutbox) == 3


def test_a_second_recall_of_the_same_units_tells_the_owners_again(
    brand, lot, mailoutbox, eager_tasks, django_capture_on_commit_callbacks
):
    """Once per owner per recall: a later recall (a wider lot recall after a recall by serial) is news."""
    with django_capture_on_commit_callbacks(execute=True):
        recalls.recall(brand=brand, product=lot[0].product, serials=[lot[0].serial], reason="First unit found")
    assert [mail.to[0] for mail in mailoutbox] == ["siti@example.my"]
    applied(brand, lot[0], django_capture_on_commit_callbacks)
    assert len(mailoutbox) == 4


def test_the_report_counts_owners_reached_and_bounced(
    brand, lot, settings, mailoutbox, owner_client, eager_tasks, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.owners.test_recall_messages.RefusingBackend"
    own(lot[5], "moved-away" + BOUNCING)
    change = applied(brand, lot[0], django_capture_on_commit_callbacks)
    assert len(mailoutbox) == 3
    page = owner_client.get(reverse("recall_detail", args=[change.pk])).content.decode()
    assert "3 owners e-mailed · 1 bounced · 0 failed" in page
    report = key_client(brand).get(f"/api/v1/recalls/{change.pk}/report/").json()
    assert report["owner_messages"] == {"reached": 3, "bounced": 1, "failed": 0, "waiting": 0}


def test_a_status_change_that_is_no_recall_emails_nobody(
    brand, lot, mailoutbox, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        change = recalls.plan_change(brand=brand, lot=lot[0].batch.lot, to_status="locked", reason="Quality hold")
    assert mailoutbox == []
    report = key_client(brand).get(f"/api/v1/recalls/{change.pk}/report/").json()
    assert report["owner_messages"] is None


def test_no_owners_contact_reaches_a_log(
    brand, lot, settings, caplog, mailoutbox, eager_tasks, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.owners.test_recall_messages.RefusingBackend"
    own(lot[5], "moved-away" + BOUNCING, name="Nur Hidayah")
    caplog.set_level(logging.DEBUG)
    applied(brand, lot[0], django_capture_on_commit_callbacks)
    assert len(mailoutbox) == 3 and caplog.records  # it did log: its records name no one
    logged = caplog.text + " ".join(str(value) for record in caplog.records for value in vars(record).values())
    for secret in ("siti@", "ahmad@", "lim@", "moved-away", "Siti Aminah", "Lim Wei", "Nur Hidayah", "345 6789"):
        assert secret not in logged


class AwayBackend(EmailBackend):
    """A mail server that is away (connection refused) for the first `away_for` sends."""

    away_for = 0

    def send_messages(self, messages):
        if AwayBackend.away_for:
            AwayBackend.away_for -= 1
            raise ConnectionRefusedError("Connection refused")
        return super().send_messages(messages)


def sent_later(*, retries: int) -> None:
    """The retries the worker would run later (at 30 s, 1 min …), run now: `retries` is the try's number."""
    for notice in RecallNotice.objects.filter(status=NoticeStatus.PENDING):
        tasks.send_recall_notice_task.apply(args=[notice.pk], retries=retries)


def test_a_mail_server_that_is_away_is_tried_again(
    brand, lot, settings, mailoutbox, eager_tasks, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.owners.test_recall_messages.AwayBackend"
    AwayBackend.away_for = 1
    with pytest.raises(Retry):  # the task asks Celery to retry it in 30 s
        applied(brand, lot[0], django_capture_on_commit_callbacks)
    assert RecallNotice.objects.filter(status=NoticeStatus.PENDING).count() == 3 and mailoutbox == []
    sent_later(retries=1)
    assert sorted(mail.to[0] for mail in mailoutbox) == ["ahmad@example.my", "lim@example.my", "siti@example.my"]


def test_an_owner_not_reached_after_every_retry_counts_as_failed(
    brand, lot, settings, mailoutbox, eager_tasks, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.owners.test_recall_messages.AwayBackend"
    AwayBackend.away_for = 100
    with pytest.raises(Retry):
        applied(brand, lot[0], django_capture_on_commit_callbacks)
    sent_later(retries=tasks.MAIL_RETRIES)
    AwayBackend.away_for = 0
    change = StatusChange.objects.get(brand=brand, to_status="recalled")
    report = key_client(brand).get(f"/api/v1/recalls/{change.pk}/report/").json()
    assert report["owner_messages"] == {"reached": 0, "bounced": 0, "failed": 3, "waiting": 0}
    sent_later(retries=1)  # given up on: a late retry sends nothing
    assert mailoutbox == []


def test_the_email_reads_in_every_language_an_owner_registers_in(
    brand, mailoutbox, eager_tasks, django_capture_on_commit_callbacks
):
    units = live_units(brand, quantity=len(LANGUAGES))
    for code, language in zip(units, LANGUAGES, strict=True):
        own(code, f"{language}@example.my", language=language)
    applied(brand, units[0], django_capture_on_commit_callbacks)
    by_language = {mail.to[0].split("@")[0]: mail for mail in mailoutbox}
    assert set(by_language) == set(LANGUAGES)
    for language, mail in by_language.items():
        for part in (mail.subject, mail.body, mail.alternatives[0][0]):
            assert not UNFILLED.search(part), (language, part)
        if language != "en":
            assert mail.subject != by_language["en"].subject, language
            assert "What to do" not in mail.body and "Stop using" not in mail.body, language


def test_a_waiting_email_whose_message_was_lost_is_sent_by_the_sweep_once(
    brand, lot, settings, mailoutbox, eager_tasks, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.owners.test_recall_messages.AwayBackend"
    AwayBackend.away_for = 1
    with pytest.raises(Retry):  # one tried (due again in 30 s), the others' messages never ran: as if lost
        applied(brand, lot[0], django_capture_on_commit_callbacks)
    assert tasks.resend_stalled_notices_task.apply().get() == 0  # not overdue yet
    overdue = timezone.now() - timedelta(seconds=settings.WORK_RESEND_SECONDS + 60)
    RecallNotice.objects.update(enqueued_at=overdue)
    assert tasks.resend_stalled_notices_task.apply().get() == 3
    assert tasks.resend_stalled_notices_task.apply().get() == 0
    assert sorted(mail.to[0] for mail in mailoutbox) == ["ahmad@example.my", "lim@example.my", "siti@example.my"]


def test_an_owner_erased_while_the_email_waited_is_not_written_to(
    brand, lot, settings, caplog, mailoutbox, eager_tasks, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.owners.test_recall_messages.AwayBackend"
    AwayBackend.away_for = 100
    with pytest.raises(Retry):
        applied(brand, lot[0], django_capture_on_commit_callbacks)
    AwayBackend.away_for = 0
    services.erase_registration(registration=Registration.objects.get(code=lot[0]), by="owner")
    caplog.set_level(logging.WARNING)
    sent_later(retries=1)
    assert sorted(mail.to[0] for mail in mailoutbox) == ["ahmad@example.my", "lim@example.my"]
    assert "does not open" not in caplog.text  # an erased owner is no tampered row
