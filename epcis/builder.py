"""EPCIS 2.0 events and documents in the JSON-LD binding, from plain values (no Django).

EPCs are GS1 Digital Link URIs on GS1's canonical domain (`https://id.gs1.org/01/{gtin}/21/{serial}` for a unit,
`https://id.gs1.org/00/{sscc}` for a carton); business steps and dispositions are CBV 2.0's bare words, which
GS1's EPCIS context maps to their `https://ref.gs1.org/cbv/…` URIs. A document is written as text, piece by
piece (`document_pieces`), so a million EPCs are never one object in memory.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
SCHEMA_VERSION = "2.0"
GS1_DOMAIN = "https://id.gs1.org"
EPCS_PER_EVENT = 1_000  # an event carries at most this many EPCs; a batch's commissioning is many such events
# eventIDs are name-based UUIDs (RFC 9562, v5) of what the event is made from: the same event has the same id in
# every export and query, and no two events share one.
EVENT_NAMESPACE = uuid.UUID("6b0c3f9e-5a43-4d1e-9a55-0e8f3c1d2b7a")

OBJECT = "ObjectEvent"
AGGREGATION = "AggregationEvent"
ADD, OBSERVE, DELETE = "ADD", "OBSERVE", "DELETE"


@dataclass(frozen=True)
class Step:
    """An event's why: CBV 2.0 action, business step and disposition."""

    action: str
    biz_step: str
    disposition: str


COMMISSIONING = Step(ADD, "commissioning", "active")
PACKING = Step(ADD, "packing", "in_progress")
SHIPPING = Step(OBSERVE, "shipping", "in_transit")
RECEIVING = Step(OBSERVE, "receiving", "in_progress")
# A pack state (codes.packstates) as the CBV 2.0 step that puts a unit in it. Activation (back to `active`) is
# the commissioning event already, and `not_activated` is never a change's target.
STATUS_STEPS: dict[str, Step] = {
    "recalled": Step(OBSERVE, "holding", "recalled"),
    "withdrawn": Step(OBSERVE, "holding", "non_sellable_other"),
    "locked": Step(OBSERVE, "holding", "non_sellable_other"),
    "checked_out": Step(OBSERVE, "holding", "non_sellable_other"),
    "decommissioned": Step(DELETE, "decommissioning", "inactive"),
    "destroyed": Step(OBSERVE, "destroying", "destroyed"),
    "stolen": Step(OBSERVE, "other", "stolen"),
    "dispensed": Step(OBSERVE, "dispensing", "dispensed"),
    "supplied": Step(OBSERVE, "retail_selling", "retail_sold"),
    "exported": Step(OBSERVE, "departing", "in_transit"),
    "sample": Step(OBSERVE, "sampling", "non_sellable_other"),
    "free_sample": Step(OBSERVE, "sampling", "non_sellable_other"),
}
BIZ_STEPS = frozenset(
    {s.biz_step for s in STATUS_STEPS.values()} | {s.biz_step for s in (COMMISSIONING, PACKING, SHIPPING, RECEIVING)}
)
CBV_BIZSTEP_URI = "https://ref.gs1.org/cbv/BizStep-"


def biz_step_word(text: str) -> str:
    """A business step as a client may name it (bare, or as its CBV URI, old URN included) as CBV's bare word."""
    for prefix in (CBV_BIZSTEP_URI, "urn:epcglobal:cbv:bizstep:"):
        if text.startswith(prefix):
            return text[len(prefix) :]
    return text


def unit_epc_prefix(gtin: str) -> str:
    """Everything of a unit's EPC but its serial: add `quote(serial, safe="")` (see `unit_epc`)."""
    return f"{GS1_DOMAIN}/01/{gtin}/21/"


def unit_epc(gtin: str, serial: str) -> str:
    """A unit's EPC: its GS1 Digital Link URI (the serial percent-encoded as a Digital Link path value)."""
    return unit_epc_prefix(gtin) + quote(serial, safe="")


def sscc_epc(sscc: str) -> str:
    return f"{GS1_DOMAIN}/00/{sscc}"


def event_id(*parts: object) -> str:
    return f"urn:uuid:{uuid.uuid5(EVENT_NAMESPACE, '/'.join(str(p) for p in parts))}"


def timestamp(at: datetime) -> str:
    """An event time in UTC, as RFC 3339 with its offset (EPCIS wants both the time and its zone's offset)."""
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _head(kind: str, eid: str, at: datetime) -> dict[str, Any]:
    return {"type": kind, "eventID": eid, "eventTime": timestamp(at), "eventTimeZoneOffset": "+00:00"}


def object_event(
    *, eid: str, at: datetime, step: Step, epcs: list[str], lot: str | None = None, expiry: date | None = None
) -> dict[str, Any]:
    """An ObjectEvent on `epcs`; a commissioning one carries the lot and expiry as instance master data (ILMD)."""
    event = _head(OBJECT, eid, at) | {
        "epcList": epcs,
        "action": step.action,
        "bizStep": step.biz_step,
        "disposition": step.disposition,
    }
    ilmd: dict[str, str] = {}
    if lot:
        ilmd["cbvmda:lotNumber"] = lot
    if expiry:
        ilmd["cbvmda:itemExpirationDate"] = expiry.isoformat()
    if ilmd and step.action == ADD:
        event["ilmd"] = ilmd
    return event


def aggregation_event(
    *, eid: str, at: datetime, parent: str, children: list[str], step: Step = PACKING
) -> dict[str, Any]:
    """An AggregationEvent: `children` put into (ADD) the container `parent`."""
    return _head(AGGREGATION, eid, at) | {
        "parentID": parent,
        "childEPCs": children,
        "action": step.action,
        "bizStep": step.biz_step,
        "disposition": step.disposition,
    }


def epcs_of(event: dict[str, Any]) -> list[str]:
    """Every EPC an event names: its epcList, or its parent and children."""
    if event["type"] == AGGREGATION:
        return [event["parentID"], *event["childEPCs"]]
    return list(event.get("epcList", []))


def document_pieces(events: Iterable[dict[str, Any]], *, created: datetime, sender: str = "") -> Iterator[str]:
    """An EPCISDocument holding `events`, as text pieces to stream: the head, one event at a time, the tail."""
    head: dict[str, Any] = {
        "@context": [CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": SCHEMA_VERSION,
        "creationDate": timestamp(created),
    }
    if sender:
        head["sender"] = sender
    text = json.dumps(head, separators=(",", ":"))
    yield text[:-1] + ',"epcisBody":{"eventList":['
    for n, event in enumerate(events):
        yield ("," if n else "") + json.dumps(event, separators=(",", ":"))
    yield "]}}"


def query_document(events: list[dict[str, Any]], *, created: datetime, query_name: str) -> dict[str, Any]:
    """The EPCIS 2.0 query response: an EPCISQueryDocument with its results."""
    return {
        "@context": [CONTEXT],
        "type": "EPCISQueryDocument",
        "schemaVersion": SCHEMA_VERSION,
        "creationDate": timestamp(created),
        "epcisBody": {"queryResults": {"queryName": query_name, "resultsBody": {"eventList": events}}},
    }
