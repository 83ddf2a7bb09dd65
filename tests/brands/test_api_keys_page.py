"""API keys in Settings: owners and admins make keys (the secret shown once, on the answer to the POST that made
it), list them and revoke them; nobody else, and never another brand's key."""

import re

import pytest
from rest_framework.test import APIClient

from brands.apikeys import create_api_key
from brands.models import ApiKey, Role
from tests.factories import DistributorFactory, MembershipFactory, logged_in_client

PAGE = "/settings/api-keys/"
RAW_KEY = re.compile(r"srz_[0-9a-f]{8}_[\w-]{20,}")


def api_status(raw: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client.get("/api/v1/account/").status_code


def test_a_new_key_is_shown_once_on_the_answer_to_its_post_and_never_again(owner_client):
    made = owner_client.post(PAGE, {"name": "ERP", "scopes": ["read", "write"], "expires_days": "90"})
    assert made.status_code == 200 and "Location" not in made  # shown here, not carried through a redirect
    assert made["Cache-Control"] == "private, no-store"
    [raw] = RAW_KEY.findall(made.content.decode())
    assert api_status(raw) == 200
    key = ApiKey.objects.get()
    assert key.name == "ERP" and key.scopes == ["read", "write"] and key.expires_at is not None
    later = owner_client.get(PAGE).content.decode()
    assert f"srz_{key.prefix}_" in later and raw not in later and not RAW_KEY.search(later)
    assert raw not in repr(dict(owner_client.session.items()))  # not kept in the session (messages) either


def test_an_admin_makes_a_distributors_key_that_the_list_shows(brand):
    admin = logged_in_client(MembershipFactory(brand=brand, role=Role.ADMIN))
    holder = DistributorFactory(brand=brand, name="KL Traders")
    made = admin.post(PAGE, {"name": "Portal sync", "scopes": ["read"], "distributor": holder.pk})
    assert made.status_code == 200 and RAW_KEY.search(made.content.decode())
    assert ApiKey.objects.get().distributor == holder
    rows = admin.get(PAGE).content.decode()
    assert "Portal sync" in rows and "KL Traders" in rows and "never" in rows


def test_the_services_refusal_is_shown_beside_its_field(owner_client):
    refused = owner_client.post(PAGE, {"name": "Partner", "scopes": ["vrs"]})
    assert refused.status_code == 400
    assert re.search(r'id="id_partner_gln_error" role="alert">[^<]*give its GLN', refused.content.decode())
    assert not ApiKey.objects.exists() and not RAW_KEY.search(refused.content.decode())


def test_another_brands_distributor_cannot_be_chosen(owner_client, other_brand):
    theirs = DistributorFactory(brand=other_brand)
    refused = owner_client.post(PAGE, {"name": "Sync", "scopes": ["read"], "distributor": theirs.pk})
    assert refused.status_code == 400 and not ApiKey.objects.exists()
    assert theirs.name not in owner_client.get(PAGE).content.decode()


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OPERATOR])
def test_viewers_and_operators_may_not_see_make_or_revoke_keys(brand, role):
    member = logged_in_client(MembershipFactory(brand=brand, role=role))
    key, raw = create_api_key(brand=brand, name="ERP", scopes="read")
    assert member.get(PAGE).status_code == 403
    assert member.post(PAGE, {"name": "Mine", "scopes": ["admin"]}).status_code == 403
    assert member.post(f"{PAGE}{key.pk}/revoke/").status_code == 403
    assert ApiKey.objects.count() == 1 and api_status(raw) == 200


def test_another_brands_key_is_404_on_revoke(owner_client, other_brand):
    theirs, raw = create_api_key(brand=other_brand, name="Their ERP", scopes="read")
    assert owner_client.post(f"{PAGE}{theirs.pk}/revoke/").status_code == 404
    assert api_status(raw) == 200
    assert "Their ERP" not in owner_client.get(PAGE).content.decode()


def test_a_revoked_key_is_refused_by_the_api_at_once(owner_client, brand):
    key, raw = create_api_key(brand=brand, name="Line 2", scopes="read,write")
    assert api_status(raw) == 200
    revoked = owner_client.post(f"{PAGE}{key.pk}/revoke/")
    assert revoked.status_code == 302 and revoked.url == PAGE
    assert api_status(raw) == 401
    page = owner_client.get(PAGE).content.decode()
    assert "revoked" in page and f'action="{PAGE}{key.pk}/revoke/"' not in page


def test_settings_links_to_the_keys_and_shows_todays_api_calls(owner_client):
    page = owner_client.get("/settings/").content.decode()
    assert f'href="{PAGE}"' in page and "API calls today" in page


def test_the_list_issues_the_same_number_of_queries_whatever_its_length(owner_client, brand):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def make_keys(count):
        for n in range(count):
            distributor = DistributorFactory(brand=brand)
            create_api_key(brand=brand, name=f"Sync {n}", scopes="read", distributor=distributor)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert owner_client.get(PAGE).status_code == 200
        return len(captured)

    make_keys(2)
    owner_client.get(PAGE)  # warms per-process caches
    few = queries()
    make_keys(8)
    assert queries() == few
