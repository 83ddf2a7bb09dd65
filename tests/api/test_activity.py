"""Scans (filters, cursor pages, CSV) and alerts (list, detail with its reasons and timeline, the workflow)."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from scans.export import CSV_COLUMNS
from scans.models import Alert, AlertEvent, AlertStatus, Scan
from tests.factories import DistributorFactory, ProductFactory, alert_of, ready_batch

from .conftest import key_client

pytestmark = pytest.mark.django_db


def scan_of(brand, serial="ABC123", *, hours_ago=1, **fields):
    """A logged scan (the verify path writes these; here only the row matters)."""
    when = timezone.now() - timedelta(hours=hours_ago)
    fields = {"outcome": "authentic", "country_code": "MY", "region_code": "MY-14", "scanned_at": when, **fields}
    return Scan.objects.create(brand=brand, serial=serial, gtin="09501234567893", **fields)


def serials(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["serial"] for row in response.json()["results"]]


# --- scans -----------------------------------------------------------------------------------------------


def test_scans_are_listed_newest_first(api, brand):
    scan_of(brand, "OLD", hours_ago=5)
    scan_of(brand, "NEW", hours_ago=1)
    scan_of(brand, "MID", hours_ago=3)
    assert serials(api.get("/api/v1/scans/")) == ["NEW", "MID", "OLD"]


def test_scans_filter_by_time(api, brand):
    scan_of(brand, "LASTWEEK", hours_ago=24 * 7)
    scan_of(brand, "YESTERDAY", hours_ago=24)
    scan_of(brand, "NOW", hours_ago=0)
    since = (timezone.now() - timedelta(days=2)).isoformat()
    until = (timezone.now() - timedelta(hours=12)).isoformat()
    assert serials(api.get("/api/v1/scans/", {"since": since, "until": until})) == ["YESTERDAY"]


def test_scans_filter_by_region_or_country_as_the_dashboard_does(api, brand):
    scan_of(brand, "KL", region_code="MY-14")
    scan_of(brand, "PENANG", region_code="MY-07")
    scan_of(brand, "SINGAPORE", country_code="SG", region_code="SG-01")
    assert serials(api.get("/api/v1/scans/", {"region": "my-14"})) == ["KL"]
    assert sorted(serials(api.get("/api/v1/scans/", {"region": "MY"}))) == ["KL", "PENANG"]
    assert serials(api.get("/api/v1/scans/", {"country": "sg"})) == ["SINGAPORE"]


def test_scans_filter_by_serial_distributor_and_outcome(api, brand):
    holder = DistributorFactory(brand=brand)
    scan_of(brand, "HELD", distributor=holder)
    scan_of(brand, "FAKE", outcome="not_recognised")
    scan_of(brand, "OTHER")
    assert serials(api.get("/api/v1/scans/", {"code": "held"})) == ["HELD"]
    assert serials(api.get("/api/v1/scans/", {"distributor": holder.pk})) == ["HELD"]
    assert serials(api.get("/api/v1/scans/", {"outcome": "not_recognised"})) == ["FAKE"]


def test_a_page_of_scans_or_alerts_costs_the_same_queries_however_long(api, brand):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as seen:
            assert api.get(url).status_code == 200
        return len(seen)

    api.get("/api/v1/account/")  # the key's first call of the minute records its use: not a list's cost
    scan_of(brand, "FIRST")
    alert_of(ready_batch(ProductFactory(brand=brand), quantity=3))
    few = queries("/api/v1/scans/"), queries("/api/v1/alerts/")
    for n in range(5):
        scan_of(brand, f"MORE{n}", distributor=DistributorFactory(brand=brand))
        alert_of(ready_batch(ProductFactory(brand=brand), quantity=3))
    assert (queries("/api/v1/scans/"), queries("/api/v1/alerts/")) == few


def test_an_unknown_outcome_is_a_400_naming_the_filter(api):
    response = api.get("/api/v1/scans/", {"outcome": "genuine"})
    assert response.status_code == 400 and "outcome" in response.json()["errors"]


def test_scans_page_by_cursor_in_time_order_ties_by_id(api, brand):
    moment = timezone.now() - timedelta(hours=1)
    made = [scan_of(brand, f"S{n}", scanned_at=moment) for n in range(3)]  # one instant: the id decides
    made.append(scan_of(brand, "NEWEST", hours_ago=0))
    first = api.get("/api/v1/scans/", {"page_size": 2}).json()
    second = api.get(first["next"]).json()
    assert [r["serial"] for r in first["results"]] == ["NEWEST", "S2"]
    assert [r["serial"] for r in second["results"]] == ["S1", "S0"] and second["next"] is None
    assert made[0].pk == second["results"][-1]["id"]


def test_another_brands_scans_are_not_listed(api, outsider_api, brand):
    scan_of(brand, "OURS")
    assert serials(api.get("/api/v1/scans/")) == ["OURS"]
    assert serials(outsider_api.get("/api/v1/scans/")) == []
    assert list(csv.reader(io.StringIO(streamed(outsider_api.get("/api/v1/scans/?format=csv"))))) == [
        [name for name, _ in CSV_COLUMNS]
    ]


def streamed(response) -> str:
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return b"".join(response.streaming_content).decode()


def test_csv_streams_every_filtered_scan_with_the_dashboards_columns(api, brand):
    product = ProductFactory(brand=brand, name="=HYPERLINK(evil)")  # the export's formula guard applies
    for n in range(3):
        scan_of(brand, f"KL{n}", hours_ago=n + 1, product=product)
    scan_of(brand, "PENANG", region_code="MY-07")
    response = api.get("/api/v1/scans/", {"format": "csv", "region": "MY-14", "page_size": 1})
    assert "attachment" in response["Content-Disposition"] and brand.slug in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(streamed(response))))
    assert [row["serial"] for row in rows] == ["KL0", "KL1", "KL2"]  # every match: no page
    assert list(rows[0]) == [name for name, _ in CSV_COLUMNS]
    assert rows[0]["product"] == "'=HYPERLINK(evil)" and rows[0]["region"] == "MY-14"


def test_csv_is_chosen_by_the_accept_header_too(api, brand):
    scan_of(brand, "ONE")
    rows = list(csv.DictReader(io.StringIO(streamed(api.get("/api/v1/scans/", HTTP_ACCEPT="text/csv")))))
    assert [row["serial"] for row in rows] == ["ONE"]


def test_csv_without_a_key_is_a_401_problem_not_a_file():
    response = APIClient().get("/api/v1/scans/", {"format": "csv"})
    assert response.status_code == 401 and response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 401


def test_scans_without_a_key_are_a_401():
    assert APIClient().get("/api/v1/scans/").status_code == 401


@pytest.mark.parametrize("path", ["/api/v1/scans/", "/api/v1/alerts/", "/api/v1/webhooks/"])
def test_a_distributors_key_has_no_brand_scan_log_alerts_or_webhooks(brand, path):
    distributor = DistributorFactory(brand=brand)
    assert key_client(brand, "read,write", distributor=distributor).get(path).status_code == 404


# --- alerts ----------------------------------------------------------------------------------------------


@pytest.fixture
def alert(brand):
    return alert_of(ready_batch(ProductFactory(brand=brand), quantity=3))


def test_alerts_are_listed_and_filtered_by_status_and_kind(api, alert):
    listed = api.get("/api/v1/alerts/").json()["results"]
    assert [(a["id"], a["kind"], a["status"]) for a in listed] == [(alert.pk, "likely_copy", "new")]
    assert api.get("/api/v1/alerts/", {"status": "closed"}).json()["results"] == []
    assert api.get("/api/v1/alerts/", {"kind": "hot_spot"}).json()["results"] == []
    assert len(api.get("/api/v1/alerts/", {"status": "new", "kind": "likely_copy"}).json()["results"]) == 1


def test_an_alert_shows_its_reasons_timeline_and_history(read_api, alert):
    shown = read_api.get(f"/api/v1/alerts/{alert.pk}/").json()
    assert shown["reasons"] and all(isinstance(r, str) and r for r in shown["reasons"])
    assert [(s["scan"], s["evidence"]) for s in shown["timeline"]] == [(alert.evidence.get().scan_id, True)]
    assert shown["timeline"][0]["where"]
    assert [(e["from_status"], e["to_status"]) for e in shown["events"]] == [("", "new")]
    assert set(shown["next_statuses"]) == {"investigating", "escalated", "closed"}


def test_another_brands_alert_is_a_404(outsider_api, alert):
    assert outsider_api.get(f"/api/v1/alerts/{alert.pk}/").status_code == 404
    moved = outsider_api.post(f"/api/v1/alerts/{alert.pk}/move/", {"to_status": "investigating"}, format="json")
    assert moved.status_code == 404
    assert Alert.objects.get(pk=alert.pk).status == AlertStatus.NEW


def test_moving_an_alert_records_who_and_why(brand, alert):
    api = key_client(brand, "read,write")
    response = api.post(
        f"/api/v1/alerts/{alert.pk}/move/", {"to_status": "investigating", "note": "Asked the shop"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "investigating"
    event = AlertEvent.objects.filter(alert=alert).order_by("-at", "-pk").first()
    assert (event.from_status, event.to_status, event.note) == ("new", "investigating", "Asked the shop")
    assert event.by == api.key.created_by


def test_an_invalid_transition_is_a_400_with_the_services_reason(api, alert):
    closing = api.post(f"/api/v1/alerts/{alert.pk}/move/", {"to_status": "closed"}, format="json")
    assert closing.status_code == 400 and closing.json()["errors"] == {"note": ["Say why the alert is closed."]}
    api.post(f"/api/v1/alerts/{alert.pk}/move/", {"to_status": "closed", "note": "Genuine"}, format="json")
    reopening = api.post(f"/api/v1/alerts/{alert.pk}/move/", {"to_status": "new"}, format="json")
    assert reopening.status_code == 400
    assert reopening.json()["errors"]["status"] == ["An alert that is closed cannot become new."]
    assert Alert.objects.get(pk=alert.pk).status == AlertStatus.CLOSED


def test_an_unknown_status_is_a_400_naming_the_field(api, alert):
    response = api.post(f"/api/v1/alerts/{alert.pk}/move/", {"to_status": "solved"}, format="json")
    assert response.status_code == 400 and "to_status" in response.json()["errors"]


def test_a_read_key_cannot_move_an_alert(read_api, alert):
    response = read_api.post(f"/api/v1/alerts/{alert.pk}/move/", {"to_status": "investigating"}, format="json")
    assert response.status_code == 403
    assert Alert.objects.get(pk=alert.pk).status == AlertStatus.NEW


def test_alerts_without_a_key_are_a_401(alert):
    assert APIClient().get(f"/api/v1/alerts/{alert.pk}/").status_code == 401
    assert APIClient().post(f"/api/v1/alerts/{alert.pk}/move/", {"to_status": "closed"}).status_code == 401
