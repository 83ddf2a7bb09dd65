"""Which EPCIS events a brand's rows make, read in bounded memory. No table of events: each is derived from the row
that records what happened (a batch registered, a carton packed or received, a range assigned or received, a status
change applied), so the history can never disagree with the rows.

Every source row is read in time order, one kind at a time (`heapq.merge` of iterators), and its units' serials
window by window (`codes.rows.serial_windows`): an event carries at most `EPCS_PER_EVENT` EPCs, the units of one
aligned window of ordinals, so an event keeps its id and content whichever export or query page shows it.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce

from codes import gs1, rows
from codes.models import BatchState, ChangeScope, ChangeState, CodeBatch, Product, StatusChange
from core.errors import ServiceError
from distributors.models import Assignment, Carton

from . import builder
from .builder import EPCS_PER_EVENT

COMMISSION, PACK, SHIP, CARTON_RECEIVED, RANGE_RECEIVED, CHANGE = range(6)
KIND_NAMES = ["commission", "pack", "ship", "carton-received", "range-received", "change"]
KIND_STEPS = {
    COMMISSION: builder.COMMISSIONING.biz_step,
    PACK: builder.PACKING.biz_step,
    SHIP: builder.SHIPPING.biz_step,
    CARTON_RECEIVED: builder.RECEIVING.biz_step,
    RANGE_RECEIVED: builder.RECEIVING.biz_step,
}
MAX_PER_PAGE = 100
Range = tuple[int, int]  # half-open ordinals of one product


@dataclass(frozen=True)
class Unit:
    """A unit a query names by its EPC."""

    batch_id: int
    product_id: int
    lot_id: int
    ordinal: int
    position: int
    serial: str


@dataclass(frozen=True)
class Filters:
    """What to export or match. `batch` (and `assignment`) narrow to one batch's (one range's) events, cut to its
    units; `units`/`ssccs` keep only events naming one of these EPCs (MATCH_epc), whole."""

    biz_steps: frozenset[str] | None = None
    since: datetime | None = None
    before: datetime | None = None
    batch: CodeBatch | None = None
    assignment: Assignment | None = None
    units: tuple[Unit, ...] = ()
    ssccs: tuple[str, ...] = ()
    epcs_asked: bool = False
    after: tuple = field(default=())  # a page's cursor: (time, kind, row id, chunk)

    @property
    def scope(self) -> Range | None:
        if self.assignment is not None:
            first = self.assignment.batch.first_ordinal
            return first + self.assignment.first_position - 1, first + self.assignment.last_position
        if self.batch is not None:
            return self.batch.first_ordinal, self.batch.end_ordinal
        return None

    @property
    def scope_positions(self) -> tuple[int, int] | None:
        if self.assignment is not None:
            return self.assignment.first_position, self.assignment.last_position
        if self.batch is not None:
            return 1, self.batch.quantity
        return None


@dataclass(frozen=True)
class Source:
    at: datetime
    kind: int
    row: Any  # the model instance of its kind

    @property
    def key(self) -> tuple:
        return (self.at, self.kind, self.row.pk)


# --- the rows events come from ------------------------------------------------------------------------------


def _positions(rows_: QuerySet, filters: Filters) -> QuerySet:
    """Ranges (cartons, assignments) inside the scope, or holding a matched unit."""
    if filters.batch is not None:
        first, last = filters.scope_positions or (1, 0)
        rows_ = rows_.filter(batch=filters.batch, first_position__gte=first, last_position__lte=last)
    return rows_


def _matching(rows_: QuerySet, filters: Filters, *, by_sscc: bool, by_unit: bool) -> QuerySet:
    if not filters.epcs_asked:
        return rows_
    wanted = Q(pk__in=[])
    if by_sscc and filters.ssccs:
        wanted |= Q(sscc__in=filters.ssccs)
    if by_unit:
        for unit in filters.units:
            wanted |= Q(batch_id=unit.batch_id, first_position__lte=unit.position, last_position__gte=unit.position)
    return rows_.filter(wanted)


def _kind_rows(kind: int, actor, filters: Filters) -> QuerySet | None:
    """The rows of one kind that may make events under these filters, with their time as `at`."""
    if filters.biz_steps is not None and kind != CHANGE and KIND_STEPS[kind] not in filters.biz_steps:
        return None
    if kind == COMMISSION:
        found = CodeBatch.objects.for_actor(actor).filter(state=BatchState.READY)
        found = found.annotate(at=Coalesce("finished_at", "created_at")).select_related("product", "lot")
        if filters.batch is not None:
            found = found.filter(pk=filters.batch.pk)
        if filters.epcs_asked:
            found = found.filter(pk__in=[u.batch_id for u in filters.units])
    elif kind in (PACK, CARTON_RECEIVED):
        found = Carton.objects.for_actor(actor).select_related("batch__product")
        if kind == PACK:
            found = _matching(found.annotate(at=F("created_at")), filters, by_sscc=True, by_unit=True)
        else:
            found = found.filter(received_at__isnull=False).annotate(at=F("received_at"))
            found = _matching(found, filters, by_sscc=True, by_unit=False)
        found = _positions(found, filters)
    elif kind in (SHIP, RANGE_RECEIVED):
        found = Assignment.objects.for_actor(actor).select_related("batch__product")
        if kind == SHIP:
            found = found.annotate(at=F("assigned_at"))
        else:
            found = found.filter(received_at__isnull=False).annotate(at=F("received_at"))
        found = _matching(found, filters, by_sscc=False, by_unit=True)
        found = found.filter(pk=filters.assignment.pk) if filters.assignment else _positions(found, filters)
    else:
        found = _change_rows(actor, filters)
    if filters.since is not None:
        found = found.filter(at__gte=filters.since)
    if filters.before is not None:
        found = found.filter(at__lt=filters.before)
    if filters.after:
        found = found.filter(at__gte=filters.after[0])
    return found.order_by("at", "pk")


def _change_rows(actor, filters: Filters) -> QuerySet:
    statuses = [
        s for s, step in builder.STATUS_STEPS.items() if filters.biz_steps is None or step.biz_step in filters.biz_steps
    ]
    found = StatusChange.objects.for_actor(actor).filter(
        state=ChangeState.DONE, codes_changed__gt=0, to_status__in=statuses
    )
    found = found.annotate(at=Coalesce("finished_at", "created_at")).select_related("product", "batch", "lot")
    if filters.batch is not None:
        first, last = filters.scope_positions or (1, 0)
        batch = filters.batch
        found = found.filter(
            Q(scope=ChangeScope.BATCH, batch=batch, first_position__lte=last, last_position__gte=first)
            | Q(scope=ChangeScope.LOT, lot_id=batch.lot_id)
            | Q(scope=ChangeScope.SERIALS, product_id=batch.product_id)
        )
    if filters.epcs_asked:
        wanted = Q(pk__in=[])
        for unit in filters.units:
            wanted |= (
                Q(scope=ChangeScope.BATCH, batch_id=unit.batch_id)
                & Q(first_position__lte=unit.position, last_position__gte=unit.position)
                | Q(scope=ChangeScope.LOT, lot_id=unit.lot_id)
                | Q(scope=ChangeScope.SERIALS, product_id=unit.product_id, serials__contains=[unit.serial])
            )
        found = found.filter(wanted)
    return found


def sources(actor, filters: Filters) -> Iterator[Source]:
    """Every source row under the filters, in time order (then kind, then id), read a few hundred at a time."""
    streams = []
    for kind in range(len(KIND_NAMES)):
        found = _kind_rows(kind, actor, filters)
        if found is not None:
            streams.append(_read(kind, found))
    return heapq.merge(*streams, key=lambda s: s.key)


def _read(kind: int, found: QuerySet) -> Iterator[Source]:
    for row in found.iterator(chunk_size=500):
        yield Source(row.at, kind, row)


# --- the events a row makes ---------------------------------------------------------------------------------


def epc_prefix(product: Product) -> str:
    """A unit's EPC without its serial: its Digital Link on GS1's domain; a product without a GTIN has no GS1 key,
    so its units are named by their own verify link (a product ref's), which is what their labels carry."""
    if product.gtin:
        return builder.unit_epc_prefix(product.gtin)
    return gs1.ref_link_url(settings.VERIFY_BASE_URL, ref=product.ref or "", serial="0")[:-1]


def _windows(ranges: Iterable[Range], filters: Filters) -> Iterator[Range]:
    """Each range cut to the scope and into aligned windows of EPCS_PER_EVENT ordinals; with MATCH_epc, only the
    windows holding a matched unit."""
    scope = filters.scope
    wanted = {u.ordinal for u in filters.units}
    for first, end in ranges:
        if scope is not None:
            first, end = max(first, scope[0]), min(end, scope[1])
        start = first
        while start < end:
            stop = min(end, (start // EPCS_PER_EVENT + 1) * EPCS_PER_EVENT)
            if not filters.epcs_asked or any(start <= o < stop for o in wanted):
                yield start, stop
            start = stop


def _unit_epcs(product: Product, window: Range) -> list[str]:
    prefix = epc_prefix(product)
    epcs: list[str] = []
    for found in rows.serial_windows(product_id=product.pk, first=window[0], end=window[1], size=EPCS_PER_EVENT):
        epcs += [prefix + quote(serial, safe="") for _ordinal, serial in found]
    return epcs


def _ranges(source: Source) -> tuple[Product, list[Range]]:
    row = source.row
    if source.kind == COMMISSION:
        return row.product, [(row.first_ordinal, row.end_ordinal)]
    if source.kind == CHANGE:
        if row.scope == ChangeScope.LOT:
            batches = CodeBatch.objects.filter(lot_id=row.lot_id, state=BatchState.READY).order_by("first_ordinal")
            return row.product, [(b.first_ordinal, b.end_ordinal) for b in batches]
        batch = row.batch
        return row.product, [(batch.first_ordinal + row.first_position - 1, batch.first_ordinal + row.last_position)]
    batch = row.batch
    return batch.product, [(batch.first_ordinal + row.first_position - 1, batch.first_ordinal + row.last_position)]


def _step(source: Source) -> builder.Step:
    if source.kind == CHANGE:
        return builder.STATUS_STEPS[source.row.to_status]
    return {
        COMMISSION: builder.COMMISSIONING,
        PACK: builder.PACKING,
        SHIP: builder.SHIPPING,
        RANGE_RECEIVED: builder.RECEIVING,
    }[source.kind]


def events_of(source: Source, filters: Filters) -> Iterator[tuple[tuple, dict]]:
    """(its key for paging, the event) for each event the row makes, in order."""
    row, name = source.row, KIND_NAMES[source.kind]
    if source.kind == CARTON_RECEIVED:
        eid = builder.event_id(name, row.pk)
        epcs = [builder.sscc_epc(row.sscc)]
        yield (*source.key, 0), builder.object_event(eid=eid, at=source.at, step=builder.RECEIVING, epcs=epcs)
        return
    if source.kind == CHANGE and row.scope == ChangeScope.SERIALS:
        yield from _listed_events(source, filters)
        return
    product, ranges = _ranges(source)
    step = _step(source)
    if source.kind == PACK and row.sscc in filters.ssccs:  # the carton itself was asked for: all of its events
        filters = replace(filters, epcs_asked=False)
    for first, end in _windows(ranges, filters):
        key = (*source.key, first)
        if filters.after and key <= filters.after:
            continue
        epcs = _unit_epcs(product, (first, end))
        if not epcs:
            continue
        eid = builder.event_id(name, row.pk, first, end)
        if source.kind == PACK:
            event = builder.aggregation_event(eid=eid, at=source.at, parent=builder.sscc_epc(row.sscc), children=epcs)
        elif source.kind == COMMISSION:
            lot = row.lot
            event = builder.object_event(
                eid=eid, at=source.at, step=step, epcs=epcs, lot=lot.number, expiry=lot.expires_on
            )
        else:
            event = builder.object_event(eid=eid, at=source.at, step=step, epcs=epcs)
        yield key, event


def _listed_events(source: Source, filters: Filters) -> Iterator[tuple[tuple, dict]]:
    """A change of listed serials: its serials (sorted, as stored) a window at a time, cut to the scope."""
    change = StatusChange.objects.only("serials").get(pk=source.row.pk)
    product = source.row.product
    prefix, scope = epc_prefix(product), filters.scope
    wanted = {u.serial for u in filters.units if u.product_id == product.pk}
    for n, start in enumerate(range(0, len(change.serials), EPCS_PER_EVENT)):
        key = (*source.key, n)
        piece = change.serials[start : start + EPCS_PER_EVENT]
        if (filters.after and key <= filters.after) or (filters.epcs_asked and not wanted.intersection(piece)):
            continue
        if scope is not None:
            ordinals = rows.ordinals_of(product_id=product.pk, serials=piece)
            piece = [s for s in piece if scope[0] <= ordinals.get(s, -1) < scope[1]]
        if piece:
            eid = builder.event_id(KIND_NAMES[CHANGE], change.pk, "serials", n, *(scope or ()))
            epcs = [prefix + quote(serial, safe="") for serial in piece]
            yield key, builder.object_event(eid=eid, at=source.at, step=_step(source), epcs=epcs)


def events(actor, filters: Filters) -> Iterator[tuple[tuple, dict]]:
    """Every event under the filters, in time order, each with its paging key."""
    for source in sources(actor, filters):
        if filters.after and source.key < filters.after[:3]:
            continue
        yield from events_of(source, filters)


# --- the EPCIS 2.0 query binding (GET /events) ---------------------------------------------------------------


def page(actor, filters: Filters, per_page: int) -> tuple[list[dict], str | None]:
    """One page of events and the token of the next (None: the last page)."""
    found: list[tuple[tuple, dict]] = []
    for key, event in events(actor, filters):
        if len(found) == per_page:  # one more exists: the next page starts after the last one shown
            return [e for _k, e in found], page_token(found[-1][0])
        found.append((key, event))
    return [e for _k, e in found], None


def page_token(key: tuple) -> str:
    at, kind, row_id, chunk = key
    text = json.dumps([at.isoformat(), kind, row_id, chunk])
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def parse_page_token(token: str) -> tuple:
    try:
        at, kind, row_id, chunk = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        key = (datetime.fromisoformat(at), int(kind), int(row_id), int(chunk))
    except (ValueError, TypeError, binascii.Error):
        key = None
    if key is None or key[0].tzinfo is None:
        raise ServiceError("nextPageToken", "This page token is not one this server gave.")
    return key


def units_named(actor, epcs: list[str]) -> tuple[tuple[Unit, ...], tuple[str, ...]]:
    """The brand's units and cartons (SSCCs) that MATCH_epc names by GS1 Digital Link URI; others name nothing."""
    units, ssccs = [], []
    for epc in epcs:
        try:
            path = urlsplit(epc).path
        except ValueError:  # e.g. a malformed IPv6 host
            path = ""
        if path.startswith("/00/") and gs1.is_valid_sscc(path[4:]):
            ssccs.append(path[4:])
            continue
        try:
            link = gs1.parse_digital_link(path)
        except gs1.GS1Error:
            raise ServiceError("MATCH_epc", f"Not a GS1 Digital Link URI of a unit or an SSCC: {epc[:80]!r}.") from None
        product = Product.objects.for_actor(actor).filter(gtin=link.gtin).first()
        if product is None or link.serial is None:
            continue  # another brand's GTIN, or a product rather than a unit: it names none of our units' events
        found = rows.serial_at(product_id=product.pk, serial=link.serial)
        if found is None:
            continue
        batch = CodeBatch.objects.get(pk=found[0])
        position = found[1] - batch.first_ordinal + 1
        units.append(Unit(batch.pk, batch.product_id, batch.lot_id, found[1], position, link.serial))
    return tuple(units), tuple(ssccs)
