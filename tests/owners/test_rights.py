"""An owner's rights over what they registered: a link mailed to their address shows their registrations, exports
them as JSON, records a withdrawn consent and erases them; the brand exports and erases on request (owners.view);
a daily task removes registrations past what the consent words promised."""

import json
import logging
import re
import time
from datetime import date, timedelta

import pytest
from celery.exceptions import Retry
from django.test import Client
from django.utils import timezone

from brands.models import Role
from owners import services, tasks
from owners.models import Consent, Registration
from scans.models import Scan
from tests.factories import MembershipFactory, logged_in_client

from .helpers import link_of, live_units, register
from .test_recall_messages import BOUNCING, own

pytestmark = pytest.mark.django_db


@pytest.fixture
def registered(brand):
    """Two units of Siti (one with her purchase date) and one of Ahmad."""
    units = live_units(brand, quantity=3, warranty_months=12)
    register(link_of(units[0]), purchased_on="2026-03-31", phone="+60 12-345 6789")
    register(link_of(units[1]), email="SITI@Example.my ")
    register(link_of(units[2]), name="Ahmad", email="ahmad@example.my")
    return units


def ask_link(email, mailoutbox, django_capture_on_commit_callbacks) -> tuple[str, str]:
    """The page's answer to `email` and the link mailed (or "" when none was)."""
    before = len(mailoutbox)
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post("/my-registration/", {"email": email})
    assert response.status_code == 200
    mails = mailoutbox[before:]
    link = re.search(r"https?://[^/\s]+(/my-registration/[^\s]+/)", mails[0].body).group(1) if mails else ""
    return response.content.decode(), link


def test_the_request_page_answers_the_same_for_an_unknown_address_and_mails_only_the_owner(
    registered, mailoutbox, eager_tasks, django_capture_on_commit_callbacks
):
    known, link = ask_link("Siti@example.my", mailoutbox, django_capture_on_commit_callbacks)
    unknown, nothing = ask_link("nobody@example.my", mailoutbox, django_capture_on_commit_callbacks)
    assert link and not nothing
    assert re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", known) == re.sub(
        r'name="csrfmiddlewaretoken" value="[^"]+"', "", unknown
    )
    [mail] = mailoutbox
    assert mail.to == ["siti@example.my"] and "Your product registrations" in mail.subject
    assert "siti" not in link.lower()  # the link does not carry the address


def test_the_request_page_is_rate_limited_and_offered_after_registering(brand, settings):
    import secrets

    code = live_units(brand)[0]
    assert 'href="/my-registration/"' in register(link_of(code)).content.decode()
    settings.OWNER_LINK_RATE_LIMIT = "2/h"
    ip = f"198.18.{secrets.randbelow(256)}.{secrets.randbelow(256)}"  # counts from earlier runs stay in Redis an hour
    answers = [Client().post("/my-registration/", {"email": "x@example.my"}, REMOTE_ADDR=ip) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 429]


def test_an_address_gets_few_links_whoever_asks_and_the_page_says_the_same(
    registered, settings, mailoutbox, eager_tasks, django_capture_on_commit_callbacks
):
    import secrets

    settings.OWNER_LINK_ADDRESS_RATE_LIMIT = "2/h"
    Registration.objects.all().delete()  # a fresh address each run: counts stay in the cache an hour
    email = f"owner{secrets.randbelow(10**9)}@example.my"
    register(link_of(registered[0]), email=email)
    pages = [ask_link(email.upper(), mailoutbox, django_capture_on_commit_callbacks)[0] for _ in range(3)]
    assert len(mailoutbox) == 2 and 'id="link-sent"' in pages[2]


def test_the_link_lists_the_addresss_registrations_only(
    registered, mailoutbox, eager_tasks, django_capture_on_commit_callbacks
):
    _page, link = ask_link("siti@example.my", mailoutbox, django_capture_on_commit_callbacks)
    page = Client().get(link).content.decode()
    assert page.count('class="card registration"') == 2
    assert f"…{registered[0].serial[-4:]}" in page and f"…{registered[1].serial[-4:]}" in page
    assert registered[2].serial[-4:] not in page and "Ahmad" not in page
    assert "until 31 Mar 2027" in page  # the warranty from the purchase date


def test_a_link_expires_and_a_forged_one_opens_nothing(
    registered, mailoutbox, eager_tasks, django_capture_on_commit_callbacks, monkeypatch
):
    _page, link = ask_link("siti@example.my", mailoutbox, django_capture_on_commit_callbacks)
    assert Client().get(link).status_code == 200
    assert Client().get(link.replace(":", ";", 1)).status_code == 404
    later = time.time() + services.LINK_MAX_AGE + 5
    monkeypatch.setattr(time, "time", lambda: later)
    assert Client().get(link).status_code == 404
    assert Client().get(link + "export.json").status_code == 404


def test_a_link_is_bound_to_the_address_it_was_mailed_to(registered, brand):
    """Re-sealed to another address (its blind index changes), a registration leaves the old address's link."""
    siti = Registration.objects.get(code=registered[0])
    token = services.link_token([siti])
    assert Client().get(f"/my-registration/{token}/").content.decode().count('class="card registration"') == 1
    Registration.objects.filter(pk=siti.pk).update(contact_lookup="0" * 64)
    assert "No registration left under this link." in Client().get(f"/my-registration/{token}/").content.decode()


def test_export_holds_the_contact_purchase_and_consent_history(
    registered, mailoutbox, eager_tasks, django_capture_on_commit_callbacks
):
    _page, link = ask_link("siti@example.my", mailoutbox, django_capture_on_commit_callbacks)
    response = Client().get(link + "export.json")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    first = json.loads(response.content)["registrations"][0]
    assert first["contact"] == {"name": "Siti Aminah", "email": "siti@example.my", "phone": "+60 12-345 6789"}
    assert first["serial"] == registered[0].serial and first["purchased_on"] == "2026-03-31"
    assert first["warranty_ends_on"] == "2027-03-31" and first["removed_after"] == "2028-03-31"
    assert {(c["purpose"], c["given"]) for c in first["consents"]} == {
        ("warranty", True),
        ("safety", True),
        ("marketing", False),
    }


def test_a_withdrawal_is_a_new_answer_with_its_time(
    registered, mailoutbox, eager_tasks, django_capture_on_commit_callbacks
):
    _page, link = ask_link("siti@example.my", mailoutbox, django_capture_on_commit_callbacks)
    siti = Registration.objects.get(code=registered[0])
    response = Client().post(link, {"registration": siti.pk, "action": "withdraw", "purpose": "safety"})
    assert response.status_code == 302
    answers = list(Consent.objects.filter(registration=siti, purpose="safety").order_by("at", "pk"))
    assert [a.given for a in answers] == [True, False] and answers[1].at > answers[0].at
    assert {c.purpose: c.given for c in siti.current_consents()} == {
        "warranty": True,
        "safety": False,
        "marketing": False,
    }
    refused = Client().post(link, {"registration": siti.pk, "action": "withdraw", "purpose": "warranty"})
    assert refused.status_code == 400 and Consent.objects.filter(registration=siti, given=False).count() == 2


def test_the_owner_erases_a_registration_the_scans_stay_and_the_unit_stays_registered(
    registered, mailoutbox, eager_tasks, django_capture_on_commit_callbacks
):
    _page, link = ask_link("siti@example.my", mailoutbox, django_capture_on_commit_callbacks)
    code = registered[0]
    siti = Registration.objects.get(code=code)
    scans = Scan.objects.filter(code_id=code.pk).count()
    assert scans
    Client().post(link, {"registration": siti.pk, "action": "erase"})  # unconfirmed: nothing happens
    assert not Registration.objects.get(pk=siti.pk).erased
    Client().post(link, {"registration": siti.pk, "action": "erase", "confirm": "yes"})
    tombstone = Registration.objects.get(pk=siti.pk)
    assert tombstone.erased and tombstone.erased_by == "owner"
    assert bytes(tombstone.sealed_contact) == b"" and tombstone.contact_lookup == "" and not tombstone.purchased_on
    assert not Consent.objects.filter(registration=siti).exists()
    assert Scan.objects.filter(code_id=code.pk).count() == scans
    assert Client().get(link).content.decode().count('class="card registration"') == 1
    # Registering the unit again is a second person: nobody starts over silently on a copied label.
    again = register(link_of(code)).content.decode()
    assert 'id="second-registration"' in again


def test_the_brand_exports_and_erases_on_request(brand, registered):
    admin = logged_in_client(MembershipFactory(brand=brand, role=Role.ADMIN))
    code = registered[0]
    exported = admin.get(f"/owners/units/{code.pk}/export/")
    assert exported.status_code == 200 and exported["Cache-Control"] == "no-store"
    assert json.loads(exported.content)["contact"]["email"] == "siti@example.my"
    assert 'id="erase"' in admin.get(f"/owners/units/{code.pk}/").content.decode()
    admin.post(f"/owners/units/{code.pk}/erase/", {"confirm": "wrong"})
    assert not Registration.objects.get(code=code).erased
    response = admin.post(f"/owners/units/{code.pk}/erase/", {"confirm": code.serial}, follow=True)
    page = response.content.decode()
    assert Registration.objects.get(code=code).erased_by == "brand"
    assert 'id="erased"' in page and "Siti" not in page
    assert admin.get(f"/owners/units/{code.pk}/export/").status_code == 404


def test_brand_side_export_and_erasure_need_owners_view_in_the_brand(
    registered, viewer_client, operator_client, outsider_client
):
    code = registered[0]
    for client in (viewer_client, operator_client):
        assert client.get(f"/owners/units/{code.pk}/export/").status_code == 403
        assert client.post(f"/owners/units/{code.pk}/erase/", {"confirm": code.serial}).status_code == 403
    assert outsider_client.get(f"/owners/units/{code.pk}/export/").status_code == 404
    assert outsider_client.post(f"/owners/units/{code.pk}/erase/", {"confirm": code.serial}).status_code == 404
    assert not Registration.objects.get(code=code).erased


def test_retention_removes_only_registrations_past_what_the_consent_promised(brand):
    with_warranty = live_units(brand, quantity=2, warranty_months=12)
    without = live_units(brand, quantity=2, warranty_months=None)
    for code in (*with_warranty, *without):
        register(link_of(code), email=f"{code.serial}@example.my")
    rows = {code.pk: Registration.objects.get(code=code) for code in (*with_warranty, *without)}
    # Warranty bought 2024-01-10, ends 2025-01-10, kept until 2026-01-10; the other bought a day later.
    Registration.objects.filter(pk=rows[with_warranty[0].pk].pk).update(purchased_on=date(2024, 1, 10))
    Registration.objects.filter(pk=rows[with_warranty[1].pk].pk).update(purchased_on=date(2024, 1, 11))
    # No warranty: kept two years from registration.
    now = timezone.now()
    Registration.objects.filter(pk=rows[without[0].pk].pk).update(registered_at=now - timedelta(days=2 * 366 + 1))
    Registration.objects.filter(pk=rows[without[1].pk].pk).update(registered_at=now - timedelta(days=700))
    on = timezone.make_aware(timezone.datetime(2026, 1, 11, 12, 0))
    erased = services.erase_expired_registrations(now=on)
    assert {r.code_id for r in Registration.objects.filter(erased_at__isnull=False)} == {with_warranty[0].pk}
    assert erased == 1
    assert services.erase_expired_registrations(now=now) == 2  # today: the rest of the warranty ones and one old
    assert set(Registration.objects.filter(erased_at__isnull=True).values_list("code_id", flat=True)) == {without[1].pk}
    assert Registration.objects.filter(erased_by="retention").count() == 3
    assert services.erase_expired_registrations(now=now) == 0


def test_retention_runs_daily_on_the_housekeeping_queue():
    from django.conf import settings

    from tests.test_task_queues import queue_of

    [entry] = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"].startswith("owners.tasks.erase_expired")]
    assert entry["schedule"] == 24 * 60 * 60
    assert queue_of(entry["task"]) == "housekeeping" and queue_of("owners.tasks.send_owner_link_task") == "mail"


def test_the_owners_pages_and_mail_read_in_malay(
    registered, mailoutbox, eager_tasks, django_capture_on_commit_callbacks
):
    assert "Pendaftaran saya" in Client().get("/my-registration/", HTTP_ACCEPT_LANGUAGE="ms").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        Client().post("/my-registration/", {"email": "siti@example.my"}, HTTP_ACCEPT_LANGUAGE="ms")
    [mail] = mailoutbox
    assert "Pendaftaran produk anda" in mail.subject and "60 minit" in mail.body


def test_a_refused_link_mail_names_no_one_in_the_logs(brand, settings, caplog, mailoutbox, eager_tasks):
    """A mail server's refusal quotes the address, and Celery logs what a retry carries: the link's task gives
    up after its tries, logging the failure by kind only."""
    settings.EMAIL_BACKEND = "tests.owners.test_recall_messages.RefusingBackend"
    registration = own(live_units(brand)[0], "moved-away" + BOUNCING, name="Nur Hidayah").registration
    caplog.set_level(logging.DEBUG)
    with pytest.raises(Retry):  # the first try asks Celery to retry in 30 s
        tasks.send_owner_link_task.apply(args=[[registration.pk], "en"]).get()
    last = tasks.send_owner_link_task.apply(args=[[registration.pk], "en"], retries=tasks.MAIL_RETRIES)
    assert last.get() == 0 and mailoutbox == []
    assert any(record.getMessage() == "owner link not sent" for record in caplog.records)
    logged = caplog.text + " ".join(str(value) for record in caplog.records for value in vars(record).values())
    assert "moved-away" not in logged and "Nur Hidayah" not in logged
