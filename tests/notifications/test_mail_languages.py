"""Every e-mail the platform sends reads in every language its readers choose: no placeholder left unfilled, no
template tag shown, and the words of each translated language its own (not the English ones)."""

import re

import pytest
from django.conf import settings
from django.utils import timezone

from notifications import services as notifications
from notifications.models import EmailSubscription
from scans import alert_mail
from scans.models import AlertKind
from tests.factories import LotFactory, ProductFactory, alert_of, email_subscription_of, ready_batch

LANGUAGES = [code for code, _name in settings.LANGUAGES]
UNFILLED = re.compile(r"%\(\w+\)|\{\{|\{%|%[ds]\b")


@pytest.fixture
def batch(brand):
    product = ProductFactory(brand=brand, name="Vitamin C 1000 mg", gtin="09506000134352")
    return ready_batch(product, quantity=3, lot=LotFactory(product=product, number="L2026A"), activated=True)


def subscribe_every_language(brand, **fields):
    for language in LANGUAGES:
        email_subscription_of(brand, f"{language}@example.com", language=language, **fields)


def read_in_every_language(mails) -> None:
    by_language = {mail.to[0].split("@")[0]: mail for mail in mails}
    assert set(by_language) == set(LANGUAGES), sorted(by_language)
    english = by_language["en"]
    for language, mail in by_language.items():
        html = mail.alternatives[0][0]
        for part in (mail.subject, mail.body, html):
            assert part and not UNFILLED.search(part), (language, part)
        assert "/notifications/unsubscribe/" in mail.body, language  # every mail can be left with one click
        if language != "en":
            assert mail.subject != english.subject and mail.body != english.body, language


@pytest.mark.parametrize("kind", AlertKind.values)
def test_every_alert_email_reads_in_every_language(
    kind, brand, batch, mailoutbox, eager_tasks, django_capture_on_commit_callbacks
):
    subscribe_every_language(brand)
    with django_capture_on_commit_callbacks(execute=True):
        alert_of(batch, kind=kind)
    read_in_every_language(mailoutbox)


def test_the_daily_digest_reads_in_every_language(brand, batch, mailoutbox, eager_tasks):
    subscribe_every_language(brand, frequency="daily")
    for kind in (AlertKind.LIKELY_COPY, AlertKind.GREY_MARKET):
        alert_of(batch, kind=kind)
    assert alert_mail.send_alert_digests(day=timezone.localdate()) == len(LANGUAGES)
    read_in_every_language(mailoutbox)


def test_event_emails_read_in_every_language(brand, mailoutbox, eager_tasks, django_capture_on_commit_callbacks):
    from tests.factories import applied_recall

    subscribe_every_language(brand)
    with django_capture_on_commit_callbacks(execute=True):
        batch = ready_batch(ProductFactory(brand=brand), quantity=3)
    read_in_every_language(mailoutbox)  # batch.ready
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        applied_recall(batch)
    read_in_every_language([m for m in mailoutbox if "@example.com" in m.to[0]])  # recall.created


def test_the_confirmation_request_reads_in_every_language(brand, owner, mailoutbox):
    for language in LANGUAGES:
        subscription = EmailSubscription.objects.create(brand=brand, email=f"{language}@example.com", language=language)
        notifications.add_subscription(subscription=subscription, added_by=owner.user)
    by_language = {mail.to[0].split("@")[0]: mail for mail in mailoutbox}
    assert set(by_language) == set(LANGUAGES)
    for language, mail in by_language.items():
        for part in (mail.subject, mail.body, mail.alternatives[0][0]):
            assert not UNFILLED.search(part), (language, part)
        assert "/notifications/confirm/" in mail.body
        if language != "en":
            assert mail.body != by_language["en"].body and mail.subject != by_language["en"].subject, language
