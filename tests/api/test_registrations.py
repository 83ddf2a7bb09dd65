"""/api/v1/registrations/ under the `owners` scope alone: a list with consents (cursor pages, product and time
filters), one registration with its owner's contact decrypted, and the counts; read, write and admin keys are
refused (403), another brand's key finds nothing (404), a distributor's key never reaches the routes."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from owners.models import Registration
from owners.sealing import Contact
from owners.services import register_unit
from tests.factories import DistributorFactory, ProductFactory, ready_batch
from tests.owners.helpers import link_of, live_units, register

from .conftest import key_client

pytestmark = pytest.mark.django_db

LIST, STATS = "/api/v1/registrations/", "/api/v1/registrations/stats/"


@pytest.fixture
def owners_api(brand):
    return key_client(brand, "owners")


@pytest.fixture
def registered(brand):
    """Two units of one product registered from their pages, a third of another product a month ago."""
    codes = live_units(brand, quantity=2)
    register(link_of(codes[0]), name="Aisyah", email="aisyah@example.my", consent_marketing="yes")
    register(link_of(codes[1]), name="Ben", email="", phone="+60 12-345 6789")
    oil = ready_batch(ProductFactory(brand=brand, name="Fish Oil"), quantity=1, activated=True).codes.get()
    register_unit(
        code=oil,
        scan_id=None,
        contact=Contact(name="Chong", email="chong@example.my"),
        consents={"warranty": True, "safety": True, "marketing": False},
        now=timezone.now() - timedelta(days=31),
    )
    return {"first": Registration.objects.get(code=codes[0]), "vitamins": codes[0].product, "oil": oil}


def test_the_list_gives_each_registration_with_its_consents_and_no_contact(owners_api, registered):
    body = owners_api.get(LIST).json()
    assert [r["serial"] for r in body["results"]][-1] == registered["oil"].serial  # newest first
    first = next(r for r in body["results"] if r["id"] == registered["first"].pk)
    consents = {c["purpose"]: c["given"] for c in first["consents"]}
    assert consents == {"warranty": True, "safety": True, "marketing": True}
    assert "contact" not in first and "aisyah" not in str(body)


def test_the_list_filters_by_product_and_time_and_pages_by_cursor(owners_api, registered):
    vitamins = owners_api.get(LIST, {"product": registered["vitamins"].pk}).json()["results"]
    assert len(vitamins) == 2 and {r["product"] for r in vitamins} == {registered["vitamins"].pk}
    week_ago = (timezone.now() - timedelta(days=7)).isoformat()
    assert len(owners_api.get(LIST, {"since": week_ago}).json()["results"]) == 2
    assert [r["serial"] for r in owners_api.get(LIST, {"until": week_ago}).json()["results"]] == [
        registered["oil"].serial
    ]
    page = owners_api.get(LIST, {"page_size": 2}).json()
    assert len(page["results"]) == 2 and page["next"]
    assert len(owners_api.get(page["next"]).json()["results"]) == 1


def test_one_registration_shows_its_owner_decrypted(owners_api, registered):
    response = owners_api.get(f"{LIST}{registered['first'].pk}/")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["contact"] == {"name": "Aisyah", "email": "aisyah@example.my", "phone": ""}
    assert body["warranty_ends_on"] is not None and body["language"] == "en"


def test_the_stats_count_by_product_region_and_month_under_the_lists_filters(owners_api, registered):
    stats = owners_api.get(STATS).json()
    assert stats["total"] == 3
    assert {p["name"]: p["registrations"] for p in stats["by_product"]} == {"Vitamin C 1000": 2, "Fish Oil": 1}
    assert {r["code"]: r["registrations"] for r in stats["by_region"]} == {"MY-14": 2, "": 1}
    assert sum(m["registrations"] for m in stats["by_month"]) == 3
    rates = {c["purpose"]: c["given"] for c in stats["consents"]}
    assert rates == {"warranty": 3, "safety": 3, "marketing": 1}
    only_oil = owners_api.get(STATS, {"product": registered["oil"].product_id}).json()
    assert only_oil["total"] == 1 and only_oil["consents"][2]["rate"] == 0.0


@pytest.mark.parametrize("scopes", ["read", "read,write", "read,write,admin"])
def test_keys_without_the_owners_scope_are_refused(brand, registered, scopes):
    client = key_client(brand, scopes)
    for url in (LIST, STATS, f"{LIST}{registered['first'].pk}/"):
        response = client.get(url)
        assert response.status_code == 403 and "owners." in response.json()["detail"], url


def test_another_brands_owners_key_finds_none_of_them(other_brand, registered):
    client = key_client(other_brand, "owners")
    assert client.get(f"{LIST}{registered['first'].pk}/").status_code == 404
    assert client.get(LIST).json()["results"] == [] and client.get(STATS).json()["total"] == 0


def test_a_distributors_key_never_reaches_them(brand, registered):
    client = key_client(brand, "read,write", distributor=DistributorFactory(brand=brand))
    for url in (LIST, STATS, f"{LIST}{registered['first'].pk}/"):
        assert client.get(url).status_code == 404, url


def test_a_distributors_key_cannot_have_the_owners_scope(brand):
    from brands.apikeys import ApiKeyError, create_api_key

    with pytest.raises(ApiKeyError):
        create_api_key(brand=brand, name="Depot", scopes="owners", distributor=DistributorFactory(brand=brand))


def test_a_page_costs_the_same_queries_whatever_its_length(brand, owners_api):
    codes = live_units(brand, quantity=6)
    for code in codes[:2]:
        register(link_of(code))

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert owners_api.get(LIST).status_code == 200
        return len(captured)

    owners_api.get(LIST)  # the key's last-used time is written once a minute: not on the pages measured
    few = queries()
    for code in codes[2:]:
        register(link_of(code))
    assert queries() == few


def test_an_erased_registration_shows_no_contact(owners_api, registered):
    from owners.models import ErasedBy
    from owners.services import erase_registration

    erase_registration(registration=registered["first"], by=ErasedBy.OWNER)
    body = owners_api.get(f"{LIST}{registered['first'].pk}/").json()
    assert body["contact"] is None and body["consents"] == [] and body["erased_at"]
