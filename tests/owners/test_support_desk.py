"""The support desk looks a unit's owner up: members with `owners.view` (admins and owners) see the contact
decrypted, the consents and the warranty; a viewer is refused (403), another brand and a distributor never
learn the unit exists (404)."""

import pytest

from brands.models import Role
from codes import gs1
from tests.factories import DistributorFactory, MembershipFactory, distributor_member, logged_in_client

from .helpers import link_of, live_units, register

pytestmark = pytest.mark.django_db


@pytest.fixture
def registered(brand):
    code = live_units(brand, warranty_months=12)[0]
    register(link_of(code), phone="+60 12-345 6789", purchased_on="2026-03-31")
    return code


def test_an_admin_sees_the_registration_decrypted(brand, registered):
    admin = logged_in_client(MembershipFactory(brand=brand, role=Role.ADMIN))
    response = admin.get(f"/owners/units/{registered.pk}/")
    page = response.content.decode()
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    for shown in ("Siti Aminah", "siti@example.my", "+60 12-345 6789", "until 31 Mar 2027"):
        assert shown in page
    assert "Registration and warranty: <strong>given" in page and "Marketing: <strong>refused" in page


def test_an_unregistered_unit_says_so(brand, owner_client):
    code = live_units(brand)[1]
    assert "Nobody has registered this unit." in owner_client.get(f"/owners/units/{code.pk}/").content.decode()


def test_lookup_by_serial_or_verify_url_finds_the_unit(brand, owner_client, registered):
    url = gs1.digital_link_url("https://verify.example.com", gtin=registered.product.gtin, serial=registered.serial)
    for query in (registered.serial, url):
        response = owner_client.get("/owners/lookup/", {"q": query})
        assert response.status_code == 302 and response["Location"] == f"/owners/units/{registered.pk}/"


def test_a_viewer_and_an_operator_are_refused(brand, viewer_client, operator_client, registered):
    for client in (viewer_client, operator_client):
        assert client.get(f"/owners/units/{registered.pk}/").status_code == 403
        assert client.get("/owners/lookup/").status_code == 403


def test_another_brand_never_sees_it(outsider_client, registered):
    assert outsider_client.get(f"/owners/units/{registered.pk}/").status_code == 404
    response = outsider_client.get("/owners/lookup/", {"q": registered.serial})
    assert response.status_code == 200 and "Siti" not in response.content.decode()


def test_a_distributor_holding_the_unit_never_sees_it(brand, registered):
    from distributors import services as distributor_services

    distributor = DistributorFactory(brand=brand, code="HOLDER")
    distributor_services.assign_range(
        batch=registered.batch, distributor=distributor, first_position=1, last_position=2
    )
    client = logged_in_client(distributor_member(distributor))
    assert client.get(f"/owners/units/{registered.pk}/").status_code == 404
    assert client.get("/owners/lookup/", {"q": registered.serial}).status_code == 404


def test_the_nav_shows_owners_only_to_whom_may_use_it(owner_client, viewer_client):
    assert 'href="/owners/lookup/"' in owner_client.get("/scans/").content.decode()
    assert 'href="/owners/lookup/"' not in viewer_client.get("/scans/").content.decode()


def test_only_the_owners_api_scope_reads_an_owner():
    from brands.access import API_SCOPE_PERMISSIONS, ROLE_PERMISSIONS

    assert "owners.view" in ROLE_PERMISSIONS[Role.ADMIN] and "owners.view" not in ROLE_PERMISSIONS[Role.VIEWER]
    readers = [scope for scope, permissions in API_SCOPE_PERMISSIONS.items() if "owners.view" in permissions]
    assert readers == ["owners"]
