"""Sign-in hardening: throttled log-in (site and admin), sign-up and reset; TOTP when a brand asks; a CSP."""

import re

import pytest
from django.core import mail
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from brands.access import ENROLMENT_SESSION_KEY
from brands.models import Brand
from tests.scans.test_verify import random_public_ip

PASSWORD = "correct horse battery"  # tests.factories.UserFactory's


def _log_in(client, email, password, url="/accounts/login/", ip="203.0.113.9"):
    return client.post(url, {"username": email, "password": password}, REMOTE_ADDR=ip)


def test_login_is_throttled_after_a_few_failures_even_with_the_right_password(owner):
    client = Client()
    statuses = [_log_in(client, owner.user.email, "wrong").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]  # the fifth failure locks
    locked = _log_in(client, owner.user.email, PASSWORD)
    assert locked.status_code == 429 and "Too many failed log-ins" in locked.content.decode()


def test_the_per_account_count_ignores_the_addresses_capitalisation_and_the_client(owner):
    for n in range(5):
        _log_in(Client(), owner.user.email.upper(), "wrong", ip=f"198.51.100.{n + 1}")
    assert _log_in(Client(), owner.user.email, PASSWORD, ip="192.0.2.200").status_code == 429


def test_admin_login_is_throttled_too(db):
    from tests.factories import UserFactory

    staff = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    for _ in range(5):
        _log_in(client, staff.email, "wrong", url="/admin/login/")
    assert _log_in(client, staff.email, PASSWORD, url="/admin/login/").status_code == 429


def test_a_successful_login_resets_the_count(owner):
    client = Client()
    for _ in range(4):
        _log_in(client, owner.user.email, "wrong")
    assert _log_in(client, owner.user.email, PASSWORD).status_code == 302
    for _ in range(4):
        _log_in(Client(), owner.user.email, "wrong")
    assert _log_in(Client(), owner.user.email, PASSWORD).status_code == 302


def test_password_reset_mails_an_address_a_few_times_an_hour_at_most(client, owner, settings):
    settings.PASSWORD_RESET_ADDRESS_RATE_LIMIT = "3/h"
    owner.user.email = f"reset-{random_public_ip()}@example.com"  # a fresh address: windows outlive tests
    owner.user.save()
    pages = {client.post("/accounts/password_reset/", {"email": owner.user.email}).status_code for _ in range(6)}
    assert pages == {302} and len(mail.outbox) == 3


def test_password_reset_is_throttled_per_client(client, db, settings):
    settings.PASSWORD_RESET_RATE_LIMIT = "2/h"
    ip = random_public_ip()  # throttle windows outlive a test in Redis
    statuses = [
        client.post("/accounts/password_reset/", {"email": f"{n}-{ip}@x.example"}, REMOTE_ADDR=ip).status_code
        for n in range(3)
    ]
    assert statuses == [302, 302, 429]


def test_signup_is_throttled_per_client(client, db, settings):
    settings.SIGNUP_RATE_LIMIT = "2/h"
    ip = random_public_ip()
    statuses = [
        client.post("/signup/", {"email": f"{n}-{ip}@x.example", "brand_name": "B"}, REMOTE_ADDR=ip).status_code
        for n in range(3)
    ]
    assert statuses == [200, 200, 429] and len(mail.outbox) == 2


def test_reset_links_use_only_a_configured_host(client, owner):
    assert (
        client.post("/accounts/password_reset/", {"email": owner.user.email}, HTTP_HOST="evil.example").status_code
        == 400
    )
    assert not mail.outbox


@pytest.fixture
def two_factor_brand(brand):
    Brand.objects.filter(pk=brand.pk).update(require_two_factor=True)
    return brand


def test_owner_of_a_brand_requiring_two_factor_enrols_an_app_then_gets_in(two_factor_brand, owner_client, owner):
    response = owner_client.get("/dashboard/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/two-factor/")
    page = owner_client.get(response["Location"])
    assert "<svg" in page.content.decode()
    secret = bytes.fromhex(owner_client.session[ENROLMENT_SESSION_KEY])
    wrong = owner_client.post(
        "/accounts/two-factor/", {"token": "000000" if totp(secret) else "111111", "next": "/dashboard/"}
    )
    assert wrong.status_code == 200 and not TOTPDevice.objects.filter(user=owner.user).exists()
    ok = owner_client.post("/accounts/two-factor/", {"token": f"{totp(secret):06d}", "next": "/dashboard/"})
    assert ok.status_code == 302 and ok["Location"] == "/dashboard/"
    assert owner_client.get("/dashboard/").status_code == 200
    assert TOTPDevice.objects.get(user=owner.user).confirmed


def test_viewers_are_not_asked_for_a_second_factor(two_factor_brand, viewer_client):
    assert viewer_client.get("/dashboard/").status_code == 200


def test_no_template_has_an_inline_script_style_or_event_handler():
    """The CSP refuses every one of them, so a page using one is silently broken (an unstyled error page, a
    progress bar that never fills, a brand switcher that does nothing). E-mails are no pages: mail clients
    drop style sheets, so their HTML is styled inline and never served under the CSP."""
    from tests.processes import ROOT

    templates = sorted(ROOT.glob("templates/**/*.html")) + sorted(ROOT.glob("*/templates/**/*.html"))
    templates = [t for t in templates if "email" not in t.relative_to(ROOT).parts]
    found = []
    for template in templates:
        html = template.read_text()
        for pattern in (r"<script(?![^>]*\bsrc=)[^>]*>", r"<style\b", r"\sstyle=", r"\son[a-z]+="):
            found += [f"{template.relative_to(ROOT)}: {m}" for m in re.findall(pattern, html)]
    assert len(templates) > 50 and found == []


def test_pages_carry_a_csp_that_allows_no_inline_script(owner_client, client, db):
    from tests.factories import ProductFactory, ready_batch

    batch = ready_batch(
        ProductFactory(brand=Brand.objects.get(memberships__user__email__isnull=False)), quantity=2, activated=True
    )
    code = batch.codes.first()
    pages = [
        owner_client.get("/dashboard/"),
        owner_client.get(f"/batches/{batch.pk}/"),
        owner_client.get(f"/products/{batch.product_id}/batches/new/"),
        client.get("/accounts/login/"),
        client.get(f"/01/{batch.product.gtin}/21/{code.serial}"),
    ]
    for response in pages:
        csp = response["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        html = response.content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), response.request["PATH_INFO"]
        assert not re.search(r"\son[a-z]+=", html) and 'style="' not in html, response.request["PATH_INFO"]


def test_a_dotless_i_does_not_log_in_past_a_locked_account(db):
    """PostgreSQL's case-insensitive match folds ı to i, while the throttle counted `admın` as another name."""
    from django.db import connection

    from tests.factories import UserFactory

    assert connection.vendor == "postgresql"
    user = UserFactory(email="alpha-admin@example.com")
    for n in range(5):
        _log_in(Client(), user.email, "wrong", ip=f"198.51.100.{n + 1}")
    assert _log_in(Client(), user.email, PASSWORD, ip="192.0.2.201").status_code == 429
    sneaky = Client()
    response = _log_in(sneaky, "alpha-admın@example.com", PASSWORD, ip="192.0.2.202")
    assert response.status_code in (200, 429) and "_auth_user_id" not in sneaky.session


def test_full_width_letters_count_against_the_same_account(db):
    from tests.factories import UserFactory

    user = UserFactory(email="alpha-admin@example.com")
    for n in range(5):
        _log_in(Client(), "ＡＬＰＨＡ-admin@example.com", "wrong", ip=f"198.51.100.{n + 11}")
    assert _log_in(Client(), user.email, PASSWORD, ip="192.0.2.203").status_code == 429


def test_a_reset_for_an_address_without_account_mails_it_too(client, db):
    """The same work either way (74 ms against 30 ms told who has an account): a mail goes out for both."""
    assert client.post("/accounts/password_reset/", {"email": "nobody-here@example.com"}).status_code == 302
    assert [m.to for m in mail.outbox] == [["nobody-here@example.com"]]
    assert "no account" in mail.outbox[0].body and "/signup/" in mail.outbox[0].body
