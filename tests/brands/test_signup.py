from django.core import mail
from django.test import Client

from brands.models import Brand, BrandKey, Membership, Role, User
from tests.factories import sign_up


def test_signup_creates_brand_with_its_owner_and_a_sealed_key(client, db, settings):
    response = sign_up(client, "Ana@Example.com", "Nutri Labs")
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    brand = Brand.objects.get(name="Nutri Labs")
    assert Membership.objects.get(brand=brand).role == Role.OWNER
    assert Membership.objects.get(brand=brand).user.email == "ana@example.com"
    key = BrandKey.objects.get(brand=brand)
    assert len(key.secret()) == 32
    assert key.secret() not in bytes(key.sealed)
    assert client.get("/dashboard/").status_code == 200


def test_signup_answers_the_same_whether_or_not_the_address_has_an_account(client, owner):
    new = Client().post("/signup/", {"email": "new@example.com", "brand_name": "X"})
    taken = Client().post("/signup/", {"email": owner.user.email.upper(), "brand_name": "X"})
    assert new.status_code == taken.status_code == 200
    assert new.content.decode().replace("new@example.com", "@") == taken.content.decode().replace(owner.user.email, "@")
    assert "already has an account" in mail.outbox[1].body and "/signup/finish/" not in mail.outbox[1].body
    assert User.objects.count() == 1 and Brand.objects.count() == 1


def test_signup_link_with_mismatched_passwords_shows_form_error_and_creates_nothing(client, db):
    client.post("/signup/", {"email": "a@example.com", "brand_name": "X"})
    link = "/signup/" + mail.outbox[0].body.split("/signup/")[1].split()[0]
    response = client.post(link, {"password1": "a-long pass 123", "password2": "other"})
    assert response.status_code == 200
    assert "password2" in response.context["form"].errors
    assert not User.objects.exists() and not Brand.objects.exists()


def test_a_forged_signup_link_is_404(client, db):
    assert client.get("/signup/finish/not-a-token/").status_code == 404


def test_login_logout_round_trip(client, owner):
    assert (
        client.post("/accounts/login/", {"username": owner.user.email, "password": "correct horse battery"}).status_code
        == 302
    )
    assert client.get("/dashboard/").status_code == 200
    client.post("/accounts/logout/")
    assert client.get("/dashboard/").status_code == 302


def test_password_reset_sends_a_link(client, owner):
    client.post("/accounts/password_reset/", {"email": owner.user.email})
    assert len(mail.outbox) == 1 and "/accounts/reset/" in mail.outbox[0].body


def test_dashboard_requires_login(client, db):
    response = client.get("/dashboard/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_email_is_case_insensitive_for_sign_up_and_log_in(client, db):
    sign_up(client, "Ana@Example.com", "Nutri")
    assert User.objects.get().email == "ana@example.com"
    Client().post("/signup/", {"email": "ANA@example.com", "brand_name": "Other"})
    assert "already has an account" in mail.outbox[-1].body and User.objects.count() == 1
    assert (
        Client().post("/accounts/login/", {"username": "ANA@EXAMPLE.COM", "password": "a-long pass 123"}).status_code
        == 302
    )
