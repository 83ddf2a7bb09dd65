"""Alert e-mails as their readers get them: written for people in each subscriber's language, at once or as one
daily digest that a repeated beat run never sends twice."""

import pytest
from django.conf import settings
from django.utils import timezone

from notifications.models import EmailDigest, EmailSubscription
from scans import alert_mail
from scans.models import Alert
from tests.factories import LotFactory, ProductFactory, alert_of, email_subscription_of, ready_batch


@pytest.fixture
def batch(brand):
    product = ProductFactory(brand=brand, name="Vitamin C 1000 mg", gtin="09506000134352")
    return ready_batch(product, quantity=3, lot=LotFactory(product=product, number="L2026A"), activated=True)


def subscribe(brand, email="ops@example.com", **fields):
    return email_subscription_of(brand, email, **fields)


def test_an_alert_email_tells_people_what_happened_where_with_a_link(
    brand, batch, mailoutbox, eager_tasks, django_capture_on_commit_callbacks
):
    subscribe(brand)
    with django_capture_on_commit_callbacks(execute=True):
        alert = alert_of(batch, kind="grey_market")
    [mail] = mailoutbox
    text, (html, mimetype) = mail.body, mail.alternatives[0]
    assert mimetype == "text/html" and mail.to == ["ops@example.com"]
    assert "outside its distributor's territory" in mail.subject and alert.serial in mail.subject
    for body in (text, html):
        assert "Vitamin C 1000 mg" in body and "L2026A" in body and alert.serial in body
        assert "Kuala Lumpur, Malaysia" in body  # place names, not MY-14 / MY
        assert f"{settings.SITE_URL}/alerts/{alert.pk}/" in body
        assert "MY-14" not in body and f"alert: {alert.pk}" not in body and "code:" not in body  # no key: value dump


def test_alert_emails_are_in_each_subscribers_language(
    brand, batch, mailoutbox, eager_tasks, django_capture_on_commit_callbacks
):
    subscribe(brand, "ops@example.com", language="ms")
    subscribe(brand, "boss@example.com", language="zh-hans")
    with django_capture_on_commit_callbacks(execute=True):
        alert_of(batch, kind="likely_copy")
    mails = {m.to[0]: m for m in mailoutbox}
    assert "Kemungkinan tiruan" in mails["ops@example.com"].subject
    assert "Lihat" in mails["ops@example.com"].body
    assert "可能是仿冒" in mails["boss@example.com"].subject


def test_daily_subscribers_get_one_digest_of_the_days_alerts_and_a_repeat_sends_nothing(
    brand, batch, other_brand, mailoutbox, eager_tasks, django_capture_on_commit_callbacks
):
    subscribe(brand, "daily@example.com", frequency="daily")
    subscribe(brand, "now@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        copy = alert_of(batch, kind="likely_copy")
    assert [m.to for m in mailoutbox] == [["now@example.com"]]  # the daily reader waits for the digest
    mailoutbox.clear()
    today = timezone.localdate()
    assert alert_mail.send_alert_digests(day=today) == 1
    [digest] = mailoutbox
    assert digest.to == ["daily@example.com"] and "1 alert" in digest.subject
    assert copy.serial in digest.body and f"/alerts/{copy.pk}/" in digest.alternatives[0][0]
    assert alert_mail.send_alert_digests(day=today) == 0  # the beat runs again: nothing twice
    assert len(mailoutbox) == 1 and EmailDigest.objects.get().alerts == 1
    assert alert_mail.send_alert_digests(day=today - timezone.timedelta(days=1)) == 0  # no alerts that day


def test_the_digest_is_on_the_beat_schedule():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "scans.tasks.send_alert_digests_task" in tasks


def test_the_subscription_form_offers_frequency_and_language_defaulting_to_the_readers(brand, owner_client):
    page = owner_client.get("/settings/notifications/", HTTP_ACCEPT_LANGUAGE="ms").content.decode()
    assert '<option value="ms" selected>' in page and 'value="daily"' in page
    owner_client.post(
        "/settings/notifications/email/", {"email": "Team@Example.com", "frequency": "daily", "language": "ta"}
    )
    subscription = EmailSubscription.objects.get(brand=brand)
    assert (subscription.email, subscription.frequency, subscription.language) == ("team@example.com", "daily", "ta")


def test_alert_email_of_a_recall_names_the_product_and_every_late_unit_stays_in_one_alert(
    brand, batch, mailoutbox, eager_tasks, django_capture_on_commit_callbacks
):
    from codes.models import Code
    from scans import alerts
    from scans.models import Scan
    from tests.factories import applied_recall

    change = applied_recall(batch)
    subscribe(brand)
    for code in Code.objects.filter(batch=batch):
        scan = Scan.objects.create(
            brand=brand,
            product=batch.product,
            code=code,
            gtin=batch.product.gtin,
            serial=code.serial,
            outcome="inactive",
            country_code="MY",
        )
        finding = {"kind": "late_scan", "severity": "high", "params": {"status": "recalled", "recall": change.pk}}
        with django_capture_on_commit_callbacks(execute=True):
            alerts.record_findings(scan_id=scan.pk, findings=[finding])
    alert = Alert.objects.get()
    assert alert.count == 3
    assert "Vitamin C 1000 mg" in mailoutbox[0].body and "recall" in mailoutbox[0].body
