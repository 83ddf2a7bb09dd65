"""E-mail goes only where its reader agreed to it, stops with one click, and ends with the reader's account."""

import re
from datetime import timedelta

from django.test import Client
from django.utils import timezone

from brands.models import Role
from notifications.models import EmailSubscription
from tests.factories import MembershipFactory, ProductFactory, email_subscription_of, ready_batch


def link(mail, name: str) -> str:
    return re.search(rf"https?://[^/\s]+(/notifications/{name}/[^/\s]+/)", mail.body).group(1)


def test_an_address_of_someone_else_gets_nothing_until_its_owner_confirms(
    brand, owner_client, mailoutbox, eager_tasks, django_capture_on_commit_callbacks
):
    owner_client.post("/settings/notifications/email/", {"email": "stranger@example.com", "language": "ms"})
    subscription = EmailSubscription.objects.get(brand=brand)
    [ask] = mailoutbox
    assert ask.to == ["stranger@example.com"] and subscription.confirmed_at is None
    assert brand.name in ask.subject and "Sahkan" in ask.subject  # in the language chosen for the address
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        ready_batch(ProductFactory(brand=brand), quantity=2)
    assert mailoutbox == []  # not confirmed: the platform mails nobody on a brand admin's say-so

    confirm = link(ask, "confirm")
    assert Client().get(confirm).status_code == 200  # a mail scanner's GET confirms nothing
    assert EmailSubscription.objects.get().confirmed_at is None
    assert 'id="confirmed"' in Client().post(confirm).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        ready_batch(ProductFactory(brand=brand), quantity=2)
    assert [m.to for m in mailoutbox] == [["stranger@example.com"]]


def test_subscribing_your_own_address_needs_no_confirmation(brand, owner, owner_client, mailoutbox):
    owner_client.post("/settings/notifications/email/", {"email": owner.user.email})
    assert EmailSubscription.objects.get(brand=brand).confirmed_at is not None and mailoutbox == []


def test_a_forged_or_foreign_link_confirms_nothing(brand, other_brand):
    subscription = email_subscription_of(other_brand, "x@example.com", confirmed=False)
    assert Client().post("/notifications/confirm/not-a-token/").status_code == 404
    assert Client().post(f"/notifications/confirm/{subscription.pk}/").status_code == 404
    assert EmailSubscription.objects.get().confirmed_at is None


def test_every_mail_to_a_subscriber_unsubscribes_with_one_click(
    brand, mailoutbox, eager_tasks, django_capture_on_commit_callbacks
):
    email_subscription_of(brand, "ops@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        ready_batch(ProductFactory(brand=brand), quantity=2)
    [mail] = mailoutbox
    leave = link(mail, "unsubscribe")
    assert mail.extra_headers["List-Unsubscribe"].endswith(f"{leave}>")
    assert mail.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert leave in mail.alternatives[0][0]  # the HTML part too
    assert Client().get(leave).status_code == 200 and EmailSubscription.objects.exists()  # GET asks, nothing more
    # RFC 8058: the mail client POSTs with no form of ours (no CSRF token)
    one_click = Client(enforce_csrf_checks=True).post(leave, {"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200 and not EmailSubscription.objects.exists()
    assert Client().post(leave).status_code == 200  # a second click: still a calm answer


def test_a_deleted_accounts_address_is_unsubscribed_everywhere(brand, other_brand):
    member = MembershipFactory(brand=brand, role=Role.VIEWER)
    email_subscription_of(brand, member.user.email)
    email_subscription_of(other_brand, member.user.email.upper())
    email_subscription_of(brand, "someone-else@example.com")
    client = Client()
    client.force_login(member.user)
    client.post("/account/delete/", {"password": "correct horse battery"})
    assert list(EmailSubscription.objects.values_list("email", flat=True)) == ["someone-else@example.com"]


def test_login_records_with_client_addresses_are_kept_only_for_their_retention(db, settings):
    from axes.models import AccessAttempt, AccessLog

    from scans.retention import apply_retention

    settings.RETENTION_LOGIN_LOG_DAYS = 30
    for model, extra in ((AccessAttempt, {"failures_since_start": 1}), (AccessLog, {})):
        fields = {"ip_address": "203.0.113.9", "user_agent": "x", "path_info": "/", **extra}
        old = model.objects.create(username="a@example.com", **fields)
        model.objects.filter(pk=old.pk).update(attempt_time=timezone.now() - timedelta(days=31))
        model.objects.create(username="b@example.com", **fields)
    done = apply_retention()
    assert done["logins"] == 2
    assert set(AccessLog.objects.values_list("username", flat=True)) == {"b@example.com"}
    assert set(AccessAttempt.objects.values_list("username", flat=True)) == {"b@example.com"}


def test_an_erased_report_does_not_survive_in_a_stored_export(
    brand, owner, eager_tasks, django_capture_on_commit_callbacks
):
    import io
    import zipfile

    from django.core.files.storage import default_storage

    from brands import offboarding
    from brands.models import BrandDeletion
    from scans.models import CounterfeitReport
    from scans.retention import erase_report

    report = CounterfeitReport.objects.create(brand=brand, where_bought="Pasar malam Siti", notes="call 012-3456789")
    offboarding.request_deletion(brand=brand, requested_by=owner.user, confirm_slug=brand.slug, enqueue=False)
    offboarding.export_brand(brand.pk)
    first = BrandDeletion.objects.get().export_name
    with django_capture_on_commit_callbacks(execute=True):
        erase_report(report=report)
    deletion = BrandDeletion.objects.get()
    assert not default_storage.exists(first) and deletion.exported_at is not None and deletion.export_name != first
    with default_storage.open(deletion.export_name, "rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    everything = b"".join(archive.read(name) for name in archive.namelist())
    assert b"Pasar malam Siti" not in everything and b"012-3456789" not in everything
