"""The brand's log of trading partners' verification requests: the page (filters, pages, who may see it) and the
API's `/api/v1/vrs-requests/` (read scope, cursor pages, filters), each only the brand's own."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from brands.models import Role
from tests.api.conftest import key_client
from tests.factories import DistributorFactory, MembershipFactory, distributor_member, logged_in_client, vrs_request_of

from .conftest import OTHER_GLN, PARTNER_GLN, ask

PAGE = "/verification-requests/"
API = "/api/v1/vrs-requests/"


@pytest.fixture
def logged(brand):
    """Three requests of two partners over three days: a genuine unit, a recalled one, a wrong lot."""
    now = timezone.now()
    return [
        vrs_request_of(brand, verified=True, failure_reason="", serial="GENUINE00001", requested_at=now),
        vrs_request_of(
            brand,
            verified=True,
            failure_reason="",
            additional_info="Recalled",
            serial="RECALLED0001",
            requested_at=now - timedelta(days=2),
        ),
        vrs_request_of(
            brand,
            failure_reason="No_match_GTIN_Serial_Lot",
            serial="WRONGLOT0001",
            requester_gln=OTHER_GLN,
            requested_at=now - timedelta(days=40),
        ),
    ]


def serials(response) -> list[str]:
    return [r.serial for r in response.context["requests"]]


def test_the_log_lists_requests_newest_first_with_their_answers(owner_client, logged):
    response = owner_client.get(PAGE)
    assert serials(response) == ["GENUINE00001", "RECALLED0001", "WRONGLOT0001"]
    page = response.content.decode()
    assert "Verified: Recalled" in page and "Lot does not match" in page and OTHER_GLN in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("result=verified", ["GENUINE00001", "RECALLED0001"]),
        ("result=not_verified", ["WRONGLOT0001"]),
        ("result=info:Recalled", ["RECALLED0001"]),
        ("result=reason:No_match_GTIN_Serial_Lot", ["WRONGLOT0001"]),
        (f"gln={OTHER_GLN}", ["WRONGLOT0001"]),
        ("days=7", ["GENUINE00001", "RECALLED0001"]),
        ("q=RECALLED0001", ["RECALLED0001"]),
    ],
)
def test_the_log_filters_by_result_requester_and_time(owner_client, logged, query, expected):
    assert serials(owner_client.get(f"{PAGE}?{query}")) == expected


def test_the_log_pages_by_the_last_row_seen(owner_client, brand, monkeypatch):
    from backoffice.views import vrs as views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for n in range(5):
        vrs_request_of(brand, serial=f"S{n}", requested_at=timezone.now() - timedelta(minutes=n))
    first = owner_client.get(PAGE)
    second = owner_client.get(f"{PAGE}?{first.context['older']}")
    third = owner_client.get(f"{PAGE}?{second.context['older']}")
    assert [serials(first), serials(second), serials(third)] == [["S0", "S1"], ["S2", "S3"], ["S4"]]


def test_the_log_issues_the_same_queries_whatever_its_length(owner_client, brand, logged):
    def count():
        with CaptureQueriesContext(connection) as captured:
            assert owner_client.get(PAGE).status_code == 200
        return len(captured)

    small = count()
    for n in range(20):
        vrs_request_of(brand, serial=f"MORE{n}")
    assert count() == small


def test_a_viewer_reads_the_log_an_outsider_sees_none_of_it_a_distributor_no_page(brand, logged, outsider_client):
    viewer = logged_in_client(MembershipFactory(brand=brand, role=Role.VIEWER))
    assert len(serials(viewer.get(PAGE))) == 3
    assert serials(outsider_client.get(PAGE)) == []
    portal = logged_in_client(distributor_member(DistributorFactory(brand=brand)))
    assert portal.get(PAGE).status_code == 404


def test_the_nav_links_the_log(owner_client):
    assert f'href="{PAGE}"' in owner_client.get("/dashboard/").content.decode()


def test_a_partners_request_appears_in_the_log(partner, unit, owner_client):
    ask(partner, unit)
    assert serials(owner_client.get(f"{PAGE}?gln={PARTNER_GLN}&result=verified")) == [unit.serial]


# --- the API -----------------------------------------------------------------------------------------------


def test_the_api_lists_requests_by_cursor_with_filters(brand, logged):
    api = key_client(brand, "read")
    listed = api.get(f"{API}?page_size=2").json()
    assert [r["serial"] for r in listed["results"]] == ["GENUINE00001", "RECALLED0001"]
    rest = api.get(listed["next"]).json()
    assert [r["serial"] for r in rest["results"]] == ["WRONGLOT0001"] and rest["next"] is None
    assert [r["serial"] for r in api.get(f"{API}?verified=false").json()["results"]] == ["WRONGLOT0001"]
    assert [r["serial"] for r in api.get(f"{API}?additional_info=Recalled").json()["results"]] == ["RECALLED0001"]
    assert [r["serial"] for r in api.get(f"{API}?requester_gln={OTHER_GLN}").json()["results"]] == ["WRONGLOT0001"]
    one = api.get(f"{API}{logged[2].pk}/").json()
    assert (one["failure_reason"], one["requester_gln"], one["verified"]) == (
        "No_match_GTIN_Serial_Lot",
        OTHER_GLN,
        False,
    )


def test_another_brands_key_gets_404_for_a_request_and_none_in_its_list(brand, other_brand, logged):
    outsider = key_client(other_brand, "read")
    assert outsider.get(f"{API}{logged[0].pk}/").status_code == 404
    assert outsider.get(API).json()["results"] == []


def test_a_partners_own_key_cannot_read_the_log(partner, logged):
    assert partner.get(API).status_code == 403
