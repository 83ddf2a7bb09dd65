"""A person deletes their own account; brands never end up without an owner."""

from django.test import Client

from brands.models import Invitation, Membership, Role, User
from codes.models import PrintDownload
from tests.factories import MembershipFactory, ProductFactory, ready_batch, ready_print_job

PASSWORD = "correct horse battery"


def logged_in(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def test_a_member_deletes_their_account_and_the_logs_keep_the_event_without_them(brand, owner):
    member = MembershipFactory(brand=brand, role=Role.OPERATOR)
    Invitation.objects.create(brand=brand, email=member.user.email)
    job = ready_print_job(ready_batch(ProductFactory(brand=brand), quantity=5))
    client = logged_in(member)
    client.get(f"/print-jobs/{job.pk}/files/1/")
    response = client.post("/account/delete/", {"password": PASSWORD})
    assert response.status_code == 200 and b"deleted" in response.content
    assert not User.objects.filter(pk=member.user.pk).exists()
    assert not Membership.objects.filter(pk=member.pk).exists()
    assert not Invitation.objects.filter(email=member.user.email).exists()
    assert PrintDownload.objects.get().user is None
    assert client.get("/dashboard/").status_code == 302  # logged out


def test_a_wrong_password_deletes_nothing(brand):
    member = MembershipFactory(brand=brand, role=Role.VIEWER)
    logged_in(member).post("/account/delete/", {"password": "wrong"})
    assert User.objects.filter(pk=member.user.pk).exists()


def test_the_only_owner_of_a_brand_is_told_what_to_do_first(brand, owner):
    response = logged_in(owner).post("/account/delete/", {"password": PASSWORD})
    assert response.status_code == 200 and "only owner of Acme Supplements" in response.content.decode()
    assert User.objects.filter(pk=owner.user.pk).exists()
    MembershipFactory(brand=brand, role=Role.OWNER)
    logged_in(owner).post("/account/delete/", {"password": PASSWORD})
    assert not User.objects.filter(pk=owner.user.pk).exists()
