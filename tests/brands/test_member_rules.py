"""The members rules live in the members service, so the dashboard and the Django admin keep them alike:
only owners make or remove owners, nobody removes themselves, a brand always keeps an owner."""

import pytest
from django.core import mail

from brands import services
from brands.access import Actor
from brands.models import Invitation, Membership, Role
from tests.factories import MembershipFactory, UserFactory, logged_in_client, verified_client


@pytest.fixture
def staff_user(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def staff(staff_user):
    return verified_client(staff_user)


def _actor(membership) -> Actor:
    return Actor.of_membership(membership)


def test_the_service_lets_only_owners_invite_owners(brand):
    admin = MembershipFactory(brand=brand, role=Role.ADMIN)
    with pytest.raises(services.InvitationError) as refused:
        services.invite_member(by=_actor(admin), email="boss@example.com", role=Role.OWNER, accept_url_base="/")
    assert refused.value.field == "role" and not Invitation.objects.exists()


def test_the_service_lets_only_owners_make_owners(brand, owner):
    admin = MembershipFactory(brand=brand, role=Role.ADMIN)
    viewer = MembershipFactory(brand=brand, role=Role.VIEWER)
    with pytest.raises(services.MembershipError):
        services.change_member_role(membership=viewer, role=Role.OWNER, by=_actor(admin))
    assert services.change_member_role(membership=viewer, role=Role.OWNER, by=_actor(owner)).role == Role.OWNER


def test_the_service_lets_only_owners_remove_owners(brand, owner):
    admin = MembershipFactory(brand=brand, role=Role.ADMIN)
    with pytest.raises(services.MembershipError) as refused:
        services.remove_member(membership=owner, by=_actor(admin))
    assert refused.value.message == "Only an owner can remove an owner."
    assert Membership.objects.filter(pk=owner.pk).exists()


def test_the_service_refuses_removing_yourself(brand, owner):
    MembershipFactory(brand=brand, role=Role.OWNER)
    with pytest.raises(services.MembershipError) as refused:
        services.remove_member(membership=owner, by=_actor(owner))
    assert refused.value.message == "You cannot remove yourself."


def test_the_service_never_leaves_a_brand_without_an_owner(brand, owner, staff_user):
    with pytest.raises(services.MembershipError):
        services.remove_member(membership=owner, by=Actor.operator(staff_user, brand))
    with pytest.raises(services.MembershipError):
        services.change_member_role(membership=owner, role=Role.ADMIN, by=Actor.operator(staff_user, brand))
    assert Membership.objects.get(pk=owner.pk).role == Role.OWNER


def test_an_admin_cannot_remove_an_owner_from_the_members_page(brand, owner):
    admin = MembershipFactory(brand=brand, role=Role.ADMIN)
    response = logged_in_client(admin).post(f"/members/{owner.pk}/remove/", follow=True)
    assert "Only an owner can remove an owner." in response.content.decode()
    assert Membership.objects.filter(pk=owner.pk).exists()


def test_an_owner_cannot_remove_themselves_from_the_members_page(owner_client, owner):
    response = owner_client.post(f"/members/{owner.pk}/remove/", follow=True)
    assert "You cannot remove yourself." in response.content.decode()
    assert Membership.objects.filter(pk=owner.pk).exists()


def test_the_admin_cannot_remove_a_brands_last_owner(staff, owner):
    response = staff.post(f"/admin/brands/membership/{owner.pk}/delete/", {"post": "yes"}, follow=True)
    assert "without an owner" in response.content.decode()
    assert Membership.objects.filter(pk=owner.pk).exists()


def test_the_admin_cannot_demote_a_brands_last_owner(staff, owner):
    response = staff.post(f"/admin/brands/membership/{owner.pk}/change/", {"role": Role.ADMIN}, follow=True)
    assert "without an owner" in response.content.decode()
    assert Membership.objects.get(pk=owner.pk).role == Role.OWNER


def test_the_admin_cannot_remove_its_own_membership(staff, staff_user, brand, owner):
    mine = MembershipFactory(brand=brand, user=staff_user, role=Role.ADMIN)
    response = staff.post(f"/admin/brands/membership/{mine.pk}/delete/", {"post": "yes"}, follow=True)
    assert "You cannot remove yourself." in response.content.decode()
    assert Membership.objects.filter(pk=mine.pk).exists()


def test_the_admin_makes_an_owner_as_an_operator_and_removes_the_old_one(staff, brand, owner):
    newcomer = UserFactory()
    data = {"user": newcomer.pk, "brand": brand.pk, "role": Role.OWNER, "distributor": ""}
    assert staff.post("/admin/brands/membership/add/", data).status_code == 302
    assert staff.post(f"/admin/brands/membership/{owner.pk}/delete/", {"post": "yes"}).status_code == 302
    assert list(Membership.objects.filter(brand=brand).values_list("user", "role")) == [(newcomer.pk, Role.OWNER)]


def test_the_admin_cannot_give_the_distributor_role_without_a_distributor(staff, brand):
    data = {"user": UserFactory().pk, "brand": brand.pk, "role": Role.DISTRIBUTOR, "distributor": ""}
    staff.post("/admin/brands/membership/add/", data)
    invitation = {"email": "d@example.com", "brand": brand.pk, "role": Role.DISTRIBUTOR, "distributor": ""}
    response = staff.post("/admin/brands/invitation/add/", invitation, follow=True)
    assert "needs a distributor" in response.content.decode()
    assert not Membership.objects.filter(role=Role.DISTRIBUTOR).exists() and not Invitation.objects.exists()


def test_the_admin_invites_through_the_service(staff, brand, django_capture_on_commit_callbacks):
    data = {"email": "New@Example.com", "brand": brand.pk, "role": Role.VIEWER, "distributor": ""}
    with django_capture_on_commit_callbacks(execute=True):
        assert staff.post("/admin/brands/invitation/add/", data).status_code == 302
    assert Invitation.objects.get().email == "new@example.com" and len(mail.outbox) == 1
