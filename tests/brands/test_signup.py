from django.core import mail
from django.test import Client

from brands.models import Brand, BrandKey, Membership, Role, User


def test_signup_creates_brand_with_its_owner_and_a_sealed_key(client, db, settings):
    response = client.post(
        "/signup/",
        {
            "email": "Ana@Example.com",
            "brand_name": "Nutri Labs",
            "password1": "a-long pass 123",
            "password2": "a-long pass 123",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    brand = Brand.objects.get(name="Nutri Labs")
    assert Membership.objects.get(brand=brand).role == Role.OWNER
    key = BrandKey.objects.get(brand=brand)
    assert len(key.secret()) == 32
    assert key.secret() not in bytes(key.sealed)
    assert client.get("/dashboard/").status_code == 200


def test_signup_with_mismatched_passwords_shows_form_error_and_creates_nothing(client, db):
    response = client.post(
        "/signup/", {"email": "a@example.com", "brand_name": "X", "password1": "a-long pass 123", "password2": "other"}
    )
    assert response.status_code == 200
    assert "password2" in response.context["form"].errors
    assert not User.objects.exists() and not Brand.objects.exists()


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
    data = {
        "email": "Ana@Example.com",
        "brand_name": "Nutri",
        "password1": "a-long pass 123",
        "password2": "a-long pass 123",
    }
    client.post("/signup/", data)
    assert User.objects.get().email == "ana@example.com"
    again = Client().post("/signup/", {**data, "email": "ANA@example.com", "brand_name": "Other"})
    assert "email" in again.context["form"].errors and User.objects.count() == 1
    assert (
        Client().post("/accounts/login/", {"username": "ANA@EXAMPLE.COM", "password": "a-long pass 123"}).status_code
        == 302
    )
