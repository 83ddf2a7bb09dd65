"""A second factor nobody else can hold: a secret per enrolling session, staff always asked, and a session that
owes its second factor reaching nothing but the second-factor page and log-out."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import get_resolver
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from brands.access import ENROLMENT_SESSION_KEY
from brands.models import Brand, Role
from tests.factories import MembershipFactory, UserFactory, logged_in_client, verified_client
from tests.test_tenancy import fill, walk

PASSWORD = "correct horse battery"


@pytest.fixture
def two_factor_brand(brand):
    Brand.objects.filter(pk=brand.pk).update(require_two_factor=True)
    return brand


def _enrolment_secret(client) -> bytes:
    page = client.get("/accounts/two-factor/")
    assert "<svg" in page.content.decode()
    return bytes.fromhex(client.session[ENROLMENT_SESSION_KEY])


def test_each_session_enrolling_gets_its_own_secret_and_no_device_exists_until_confirmed(two_factor_brand, owner):
    victim, attacker = logged_in_client(owner), logged_in_client(owner)
    attackers_secret = _enrolment_secret(attacker)
    victims_secret = _enrolment_secret(victim)
    assert attackers_secret != victims_secret
    assert not TOTPDevice.objects.filter(user=owner.user).exists()

    victim.post("/accounts/two-factor/", {"token": f"{totp(victims_secret):06d}", "next": "/dashboard/"})
    assert victim.get("/dashboard/").status_code == 200
    # The attacker's secret opens nothing: the confirmed app is the victim's.
    attempt = attacker.post("/accounts/two-factor/", {"token": f"{totp(attackers_secret):06d}"})
    assert attacker.get("/dashboard/").status_code == 302
    assert attempt.status_code in (200, 302) and TOTPDevice.objects.filter(user=owner.user).count() == 1


def test_enrolling_forgets_stale_unconfirmed_devices_and_mails_the_user(
    two_factor_brand, owner_client, owner, django_capture_on_commit_callbacks
):
    TOTPDevice.objects.create(user=owner.user, name="old", confirmed=False)
    secret = _enrolment_secret(owner_client)
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post("/accounts/two-factor/", {"token": f"{totp(secret):06d}"})
    assert list(TOTPDevice.objects.filter(user=owner.user).values_list("confirmed", flat=True)) == [True]
    assert [m.to for m in mail.outbox] == [[owner.user.email]] and "turned on" in mail.outbox[0].subject


def test_removing_the_app_asks_the_password_and_mails_the_user(owner, django_capture_on_commit_callbacks):
    client = verified_client(owner.user)
    assert client.post("/accounts/two-factor/remove/", {"password": "wrong"}).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/accounts/two-factor/remove/", {"password": PASSWORD}).status_code == 302
    assert not TOTPDevice.objects.filter(user=owner.user).exists()
    assert "removed" in mail.outbox[0].subject and mail.outbox[0].to == [owner.user.email]


def test_staff_without_an_app_are_sent_to_enrol_before_any_staff_page(db):
    staff = Client()
    staff.force_login(UserFactory(is_staff=True, is_superuser=True))
    for url in ("/staff/claims/", "/admin/"):
        response = staff.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/two-factor/"), url
    assert "<svg" in staff.get("/accounts/two-factor/").content.decode()  # enrolment


def test_the_admin_asks_for_a_code_as_well_as_the_password(db):
    user = UserFactory(is_staff=True, is_superuser=True)
    TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    client = Client()
    response = client.post("/admin/login/?next=/admin/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 200  # the form again, asking for the token
    assert client.get("/admin/").status_code == 302
    assert verified_client(UserFactory(is_staff=True, is_superuser=True)).get("/admin/").status_code == 200


def test_operators_are_asked_too_when_the_brand_says_so(two_factor_brand, operator_client):
    assert operator_client.get("/dashboard/").status_code == 200
    Brand.objects.filter(pk=two_factor_brand.pk).update(two_factor_for_operators=True)
    assert operator_client.get("/dashboard/")["Location"].startswith("/accounts/two-factor/")


@pytest.mark.parametrize("has_app", [False, True], ids=["confirming-an-app", "code-not-given-yet"])
def test_a_half_logged_in_session_reaches_only_the_second_factor_page_and_log_out(two_factor_brand, owner, has_app):
    from tests.factories import one_of_everything

    objects = one_of_everything(two_factor_brand)
    if has_app:
        TOTPDevice.objects.create(user=owner.user, name="app", confirmed=True)
    client = logged_in_client(owner)
    client.get("/accounts/two-factor/")  # enrolling (a device being confirmed), or asked for the code
    checked = 0
    for route, pattern in walk(get_resolver().url_patterns):
        if getattr(pattern.callback, "public", False) or pattern.name in ("two_factor", "logout"):
            continue
        if route.startswith("api/"):
            continue  # the API reads no session, only keys (its schema and docs are public): tests/api
        names = re.findall(r"<(?:\w+:)?(\w+)>", route)
        url = fill(route, {**objects, **{n: 1 for n in names if n not in objects}})
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 302, f"{method.__name__} {url}: {response.status_code}"
            assert response["Location"].startswith("/accounts/two-factor/"), f"{method.__name__} {url}"
        checked += 1
    assert checked > 50
    owner.user.refresh_from_db()
    assert owner.user.check_password(PASSWORD)  # the password change was refused, the account is still there
    assert client.post("/accounts/logout/").status_code == 302


def test_a_viewer_of_a_brand_requiring_two_factor_is_not_half_logged_in(two_factor_brand):
    client = logged_in_client(MembershipFactory(brand=two_factor_brand, role=Role.VIEWER))
    assert client.get("/account/delete/").status_code == 200


def test_someone_not_asked_for_an_app_may_stop_enrolling_one(two_factor_brand):
    client = logged_in_client(MembershipFactory(brand=two_factor_brand, role=Role.VIEWER))
    assert "Not now" in client.get("/accounts/two-factor/").content.decode()
    assert client.get("/account/delete/").status_code == 302  # while confirming an app: half logged in
    client.post("/accounts/two-factor/", {"stop": "1", "next": "/dashboard/"})
    assert client.get("/account/delete/").status_code == 200


def test_a_person_owing_a_second_factor_still_reaches_the_verify_pages_requests(two_factor_brand, owner):
    client = logged_in_client(owner)
    assert client.post("/verify/confirm/", {"token": "nonsense"}).status_code != 302
