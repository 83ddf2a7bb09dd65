"""The EPCIS 2.0 REST query binding: `GET /api/v1/epcis/events/` with EQ_bizStep, GE_eventTime, LT_eventTime,
MATCH_epc, perPage and nextPageToken, answered as an EPCISQueryDocument."""

from datetime import timedelta

import pytest
from django.utils import timezone

from codes.models import CodeBatch
from distributors import services
from distributors.models import Assignment
from epcis import builder
from tests.factories import DistributorFactory, ProductFactory, applied_recall, ready_batch

from .test_export import GTIN, PREFIX, schema_errors

pytestmark = pytest.mark.django_db
EVENTS = "/api/v1/epcis/events/"


@pytest.fixture
def batch(brand):
    """2,500 units (three commissioning events), five cartons of 100, a shipment of 1-500, a recall of 1-2."""
    batch = ready_batch(ProductFactory(brand=brand, gtin=GTIN), quantity=2_500)
    services.pack_cartons(batch=batch, first_position=1, last_position=500, size=100, company_prefix=PREFIX)
    distributor = DistributorFactory(brand=brand, code="KL")
    services.assign_range(batch=batch, distributor=distributor, first_position=1, last_position=500)
    applied_recall(batch, first=1, last=2)
    return batch


def found(response) -> list[dict]:
    assert response.status_code == 200, response.content
    document = response.json()
    assert schema_errors(document) == [] and document["type"] == "EPCISQueryDocument"
    return document["epcisBody"]["queryResults"]["resultsBody"]["eventList"]


def test_every_event_oldest_first(read_api, batch):
    events = found(read_api.get(EVENTS, {"perPage": 100}))
    assert [e["bizStep"] for e in events] == ["commissioning"] * 3 + ["packing"] * 5 + ["shipping", "holding"]
    assert [e["eventTime"] for e in events] == sorted(e["eventTime"] for e in events)


def test_eq_bizstep_keeps_only_that_step_bare_or_as_cbv_uri(read_api, batch):
    assert {e["bizStep"] for e in found(read_api.get(EVENTS, {"EQ_bizStep": "packing"}))} == {"packing"}
    uri = found(read_api.get(EVENTS, {"EQ_bizStep": "https://ref.gs1.org/cbv/BizStep-shipping|holding"}))
    assert [e["bizStep"] for e in uri] == ["shipping", "holding"]
    assert found(read_api.get(EVENTS, {"EQ_bizStep": "unpacking"})) == []


def test_the_event_time_window_is_ge_and_lt(read_api, batch):
    shipped_at = Assignment.objects.get(batch=batch).assigned_at
    stamp = builder.timestamp(shipped_at)
    since = found(read_api.get(EVENTS, {"GE_eventTime": stamp, "perPage": 100}))
    assert [e["bizStep"] for e in since] == ["shipping", "holding"]
    before = found(read_api.get(EVENTS, {"LT_eventTime": stamp, "perPage": 100}))
    assert {e["bizStep"] for e in before} == {"commissioning", "packing"}
    later = builder.timestamp(timezone.now() + timedelta(days=1))
    assert found(read_api.get(EVENTS, {"GE_eventTime": later})) == []


def test_a_bad_time_is_a_400_naming_the_parameter(read_api, batch):
    response = read_api.get(EVENTS, {"GE_eventTime": "yesterday"})
    assert response.status_code == 400 and "GE_eventTime" in response.json()["errors"]


def test_match_epc_finds_every_event_naming_the_unit_and_only_those(read_api, batch):
    serial = batch.codes.get(ordinal=batch.first_ordinal + 1_200).serial  # position 1,201: no carton, not shipped
    epc = builder.unit_epc(GTIN, serial)
    events = found(read_api.get(EVENTS, {"MATCH_epc": epc}))
    assert [e["bizStep"] for e in events] == ["commissioning"] and epc in events[0]["epcList"]
    first = builder.unit_epc(GTIN, batch.codes.get(ordinal=batch.first_ordinal).serial)
    events = found(read_api.get(EVENTS, {"MATCH_epc": first}))
    assert [e["bizStep"] for e in events] == ["commissioning", "packing", "shipping", "holding"]
    assert all(first in builder.epcs_of(e) for e in events)


def test_match_epc_by_sscc_finds_its_packing(read_api, batch):
    carton = batch.cartons.order_by("first_position")[2]
    [packed] = found(read_api.get(EVENTS, {"MATCH_epc": builder.sscc_epc(carton.sscc)}))
    assert packed["parentID"] == builder.sscc_epc(carton.sscc) and len(packed["childEPCs"]) == 100


def test_match_epc_of_another_brands_unit_finds_nothing(read_api, outsider_api, batch):
    epc = builder.unit_epc(GTIN, batch.codes.first().serial)
    assert found(outsider_api.get(EVENTS, {"MATCH_epc": epc})) == []
    assert read_api.get(EVENTS, {"MATCH_epc": "urn:epc:id:sgtin:x"}).status_code == 400


def test_pages_follow_next_page_token_to_the_same_events_once(read_api, batch):
    everything = found(read_api.get(EVENTS, {"perPage": 100}))
    seen, query = [], {"perPage": 3}
    while True:
        response = read_api.get(EVENTS, query)
        page = found(response)
        assert len(page) <= 3
        seen += page
        if "Link" not in response:
            break
        assert response["Link"].endswith('>; rel="next"')
        query = {"perPage": 3, "nextPageToken": response["GS1-Next-Page-Token"]}
    assert [e["eventID"] for e in seen] == [e["eventID"] for e in everything]
    assert len({e["eventID"] for e in seen}) == len(seen) == 10


def test_a_forged_page_token_is_a_400(read_api, batch):
    response = read_api.get(EVENTS, {"nextPageToken": "not-ours"})
    assert response.status_code == 400 and "nextPageToken" in response.json()["errors"]


def test_a_batch_still_generating_has_no_events_yet(read_api, brand, batch):
    CodeBatch.objects.filter(pk=batch.pk).update(state="generating")
    assert {e["bizStep"] for e in found(read_api.get(EVENTS, {"perPage": 100}))} == {"packing", "shipping", "holding"}
