import re

from django.core import mail
from django.test import Client

from brands.models import Membership, Role
from tests.factories import MembershipFactory


def test_members_page_works(owner_client, owner):
    response = owner_client.get("/members/")
    assert response.status_code == 200 and owner.user.email in response.content.decode()


def test_viewer_cannot_invite(viewer_client, brand):
    response = viewer_client.post("/members/", {"email": "x@example.com", "role": "viewer"})
    assert response.status_code == 403
    assert not brand.invitations.exists()


def test_invited_person_signs_up_and_joins_with_the_role(owner_client, brand, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post("/members/", {"email": "new@example.com", "role": "operator"})
    link = re.search(r"/invite/[\w-]+/", mail.outbox[0].body).group(0)
    newcomer = Client()
    page = newcomer.get(link)
    assert page.status_code == 200 and "new@example.com" in page.content.decode()
    response = newcomer.post(link, {"password1": "a-long pass 123", "password2": "a-long pass 123"})
    assert response.status_code == 302
    assert Membership.objects.get(brand=brand, user__email="new@example.com").role == Role.OPERATOR
    assert newcomer.post(link).status_code == 404  # used once


def test_invitation_for_another_address_is_refused(
    owner_client, brand, outsider_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post("/members/", {"email": "someone@example.com", "role": "admin"})
    link = re.search(r"/invite/[\w-]+/", mail.outbox[0].body).group(0)
    outsider_client.post(link)
    assert not Membership.objects.filter(brand=brand, role=Role.ADMIN).exists()


def test_admin_cannot_invite_an_owner(brand):
    admin = MembershipFactory(brand=brand, role=Role.ADMIN)
    client = Client()
    client.force_login(admin.user)
    response = client.post("/members/", {"email": "boss@example.com", "role": "owner"})
    assert response.status_code == 200 and "role" in response.context["form"].errors


def test_owner_removes_member(owner_client, brand):
    member = MembershipFactory(brand=brand, role=Role.VIEWER)
    assert owner_client.post(f"/members/{member.pk}/remove/").status_code == 302
    assert not Membership.objects.filter(pk=member.pk).exists()


def test_brand_switcher_changes_the_current_brand(owner, other_brand):
    MembershipFactory(user=owner.user, brand=other_brand, role=Role.VIEWER)
    client = Client()
    client.force_login(owner.user)
    client.post("/brands/switch/", {"brand": other_brand.pk})
    assert other_brand.name in client.get("/dashboard/").content.decode()


def test_switching_to_a_brand_you_are_not_in_is_404(owner_client, other_brand):
    assert owner_client.post("/brands/switch/", {"brand": other_brand.pk}).status_code == 404


def test_brand_name_with_a_line_break_is_a_form_error_not_a_broken_mail(
    owner_client, brand, django_capture_on_commit_callbacks
):
    response = owner_client.post(
        "/settings/", {"name": "Rival\nBcc: victim@example.com", "colour": "#112233", "clone_scan_threshold": "5"}
    )
    assert response.status_code == 200 and "name" in response.context["form"].errors
    with django_capture_on_commit_callbacks(execute=True):
        assert owner_client.post("/members/", {"email": "x@example.com", "role": "viewer"}).status_code == 302
    assert len(mail.outbox) == 1 and "\n" not in mail.outbox[0].subject


def test_malformed_invitation_links_are_a_friendly_404(client, db):
    for token in ("%00", "x" * 500, "abc"):
        assert client.get(f"/invite/{token}/").status_code == 404


def test_switching_to_a_malformed_brand_id_is_404(owner_client):
    for value in ("abc", "", "1.5"):
        assert owner_client.post("/brands/switch/", {"brand": value}).status_code == 404


def test_settings_page_shows_branding_preview_team_and_pending_invitations(owner_client, brand):
    owner_client.post("/members/", {"email": "new.hire@example.com", "role": "viewer"})
    page = owner_client.get("/settings/").content.decode()
    assert 'id="brand-preview"' in page and "new.hire@example.com" in page and "/settings/detection/" in page
    assert "new.hire@example.com" in owner_client.get("/members/").content.decode()


def test_settings_save_the_consumer_message_and_colour(owner_client, brand):
    data = {
        "name": brand.name,
        "colour": "#aa3300",
        "consumer_message": "Genuine since 1990.",
    }
    assert owner_client.post("/settings/", data).status_code == 302
    brand.refresh_from_db()
    assert (brand.consumer_message, brand.colour) == ("Genuine since 1990.", "#aa3300")


def test_form_errors_stand_beside_their_field_and_are_announced(owner_client):
    page = owner_client.post("/members/", {"email": "not-an-address", "role": "viewer"}).content.decode()
    assert 'aria-invalid="true"' in page and 'aria-describedby="id_email_error"' in page
    assert 'id="id_email_error" role="alert"' in page
