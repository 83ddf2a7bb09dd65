"""EPCIS 2.0 through the API: a batch's and an assignment's events as one streamed document, valid against GS1's
EPCIS 2.0 JSON schema and naming exactly their units; the REST query binding's filters and pages; tenancy."""

import json
import re
from pathlib import Path

import pytest
from django.utils import timezone
from jsonschema import Draft7Validator, FormatChecker

from codes import recalls
from distributors import services
from epcis import builder
from tests.api.conftest import key_client
from tests.factories import DistributorFactory, ProductFactory, applied_recall, ready_batch

pytestmark = pytest.mark.django_db

GTIN = "09506000134352"
PREFIX = "9506000"
GTIN_EPC = builder.unit_epc(GTIN, "7KQ3M9X2VD4H")
# GS1's EPCIS 2.0 JSON schema, vendored with its licence.
SCHEMA = json.loads((Path(__file__).parents[1] / "vendor" / "gs1-epcis" / "EPCIS-JSON-Schema.json").read_text())
# RFC 3986: a scheme, then only unreserved, reserved and percent-encoded characters (jsonschema checks the `uri`
# format only with an optional package; this is the rule it would apply to our EPCs and ids).
URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
FORMATS = FormatChecker()
FORMATS.checks("uri")(lambda value: not isinstance(value, str) or bool(URI.fullmatch(value)))


def schema_errors(document: dict) -> list[str]:
    return [
        f"{list(e.absolute_path)}: {e.message}"
        for e in Draft7Validator(SCHEMA, format_checker=FORMATS).iter_errors(document)
    ]


@pytest.fixture
def batch(brand):
    return ready_batch(ProductFactory(brand=brand, gtin=GTIN), quantity=1_000)


@pytest.fixture
def shipped(batch):
    """The batch packed in cartons of 100, all of it shipped to a distributor, one carton received, 2 units recalled."""
    cartons = services.pack_cartons(batch=batch, first_position=1, last_position=1_000, size=100, company_prefix=PREFIX)
    distributor = DistributorFactory(brand=batch.product.brand, code="KL")
    assignment = services.assign_range(batch=batch, distributor=distributor, first_position=1, last_position=1_000)
    services.receive_carton(carton=cartons[0])
    recall = applied_recall(batch, first=1, last=2)
    return {"cartons": cartons, "assignment": assignment, "recall": recall}


def streamed(response) -> dict:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/ld+json" and response.streaming
    return json.loads(b"".join(response.streaming_content))


def epcs_of_batch(batch, first=1, last=None) -> set[str]:
    codes = batch.codes.filter(ordinal__gte=batch.first_ordinal + first - 1)
    if last is not None:
        codes = codes.filter(ordinal__lt=batch.first_ordinal + last)
    return {builder.unit_epc(GTIN, serial) for serial in codes.values_list("serial", flat=True)}


def of_step(events: list[dict], step: str) -> list[dict]:
    return [e for e in events if e["bizStep"] == step]


def test_a_batch_export_is_valid_epcis_and_names_exactly_its_units(read_api, batch, shipped):
    document = streamed(read_api.get(f"/api/v1/batches/{batch.pk}/epcis/"))
    assert schema_errors(document) == []
    events = document["epcisBody"]["eventList"]
    units = epcs_of_batch(batch)
    commissioned = [epc for e in of_step(events, "commissioning") for epc in e["epcList"]]
    assert len(commissioned) == 1_000 and set(commissioned) == units
    assert all(len(e["epcList"]) <= builder.EPCS_PER_EVENT for e in events if "epcList" in e)
    assert {epc for e in events for epc in builder.epcs_of(e) if "/01/" in epc} == units
    assert {e["ilmd"]["cbvmda:lotNumber"] for e in of_step(events, "commissioning")} == {batch.lot.number}


def test_each_carton_is_an_aggregation_of_exactly_its_units_under_its_sscc(read_api, batch, shipped):
    events = streamed(read_api.get(f"/api/v1/batches/{batch.pk}/epcis/"))["epcisBody"]["eventList"]
    packed = {e["parentID"]: set(e["childEPCs"]) for e in events if e["type"] == "AggregationEvent"}
    expected = {
        builder.sscc_epc(c.sscc): epcs_of_batch(batch, c.first_position, c.last_position) for c in shipped["cartons"]
    }
    assert packed == expected
    assert all(e["action"] == "ADD" and e["bizStep"] == "packing" for e in events if e["type"] == "AggregationEvent")


def test_the_shipment_the_carton_receipt_and_the_recall_are_events(read_api, batch, shipped):
    events = streamed(read_api.get(f"/api/v1/batches/{batch.pk}/epcis/"))["epcisBody"]["eventList"]
    shipping = of_step(events, "shipping")
    assert {epc for e in shipping for epc in e["epcList"]} == epcs_of_batch(batch)
    assert {e["disposition"] for e in shipping} == {"in_transit"}
    [received] = of_step(events, "receiving")
    assert received["epcList"] == [builder.sscc_epc(shipped["cartons"][0].sscc)]
    [recalled] = [e for e in events if e.get("disposition") == "recalled"]
    assert set(recalled["epcList"]) == epcs_of_batch(batch, 1, 2)


def test_a_destroyed_unit_is_a_destroying_event(read_api, brand, batch):
    code = batch.codes.order_by("ordinal")[5]
    recalls.change_unit_status(brand=brand, code=code, to_status="destroyed", reason="Crushed")
    events = streamed(read_api.get(f"/api/v1/batches/{batch.pk}/epcis/"))["epcisBody"]["eventList"]
    [destroyed] = of_step(events, "destroying")
    assert destroyed["epcList"] == [builder.unit_epc(GTIN, code.serial)] and destroyed["disposition"] == "destroyed"


def test_an_assignment_export_names_exactly_its_range(read_api, batch):
    distributor = DistributorFactory(brand=batch.product.brand, code="JHR")
    assignment = services.assign_range(batch=batch, distributor=distributor, first_position=101, last_position=350)
    document = streamed(read_api.get(f"/api/v1/assignments/{assignment.pk}/epcis/"))
    assert schema_errors(document) == []
    events = document["epcisBody"]["eventList"]
    assert {epc for e in events for epc in builder.epcs_of(e)} == epcs_of_batch(batch, 101, 350)
    assert {e["bizStep"] for e in events} == {"commissioning", "shipping"}


# --- tenancy ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("route", ["batches/{batch}", "assignments/{assignment}"])
def test_another_brands_export_is_a_404(outsider_api, batch, shipped, route):
    url = "/api/v1/" + route.format(batch=batch.pk, assignment=shipped["assignment"].pk) + "/epcis/"
    response = outsider_api.get(url)
    assert response.status_code == 404 and response["Content-Type"] == "application/problem+json"


def test_a_key_without_the_read_scope_is_a_403(brand, batch):
    partner = key_client(brand, "vrs", partner_gln="9506000000005")
    assert partner.get(f"/api/v1/batches/{batch.pk}/epcis/").status_code == 403
    assert partner.get("/api/v1/epcis/events/").status_code == 403


def test_no_key_is_a_401(client, batch):
    assert client.get(f"/api/v1/batches/{batch.pk}/epcis/").status_code == 401
    assert client.get("/api/v1/epcis/events/").status_code == 401


def test_the_query_never_shows_another_brands_events(outsider_api, batch, shipped):
    document = outsider_api.get("/api/v1/epcis/events/").json()
    assert document["epcisBody"]["queryResults"]["resultsBody"]["eventList"] == []


@pytest.mark.parametrize(
    ("field", "value"), [("bizStep", "commisioning"), ("epcList", ["not a uri"]), ("eventTimeZoneOffset", "UTC")]
)
def test_the_schema_check_refuses_what_gs1s_schema_refuses(field, value):
    """The validation above is not vacuous: a misspelt step, an EPC that is no URI, a bad offset each fail it."""
    at = timezone.now()
    event = builder.object_event(eid=builder.event_id("x"), at=at, step=builder.COMMISSIONING, epcs=[GTIN_EPC])
    document = json.loads("".join(builder.document_pieces([event], created=at)))
    assert schema_errors(document) == []
    document["epcisBody"]["eventList"][0][field] = value
    assert schema_errors(document) != []


def test_a_client_asking_for_json_ld_gets_it(read_api, batch):
    response = read_api.get(f"/api/v1/batches/{batch.pk}/epcis/", HTTP_ACCEPT="application/ld+json")
    assert streamed(response)["type"] == "EPCISDocument"
    events = read_api.get("/api/v1/epcis/events/", HTTP_ACCEPT="application/ld+json")
    assert events.status_code == 200 and events["Content-Type"] == "application/ld+json"
