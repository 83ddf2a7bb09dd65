"""Recalls and other status changes of many units: set-based UPDATEs over ordinal ranges, in chunks.

A lot is the ordinal blocks of its batches, a batch range is one block, so a recall of 1,000,000 codes is
a handful of `UPDATE … WHERE product_id = … AND ordinal BETWEEN …` statements on the (product, ordinal)
index, each committed with the progress counter: resumable, and a repeat changes nothing (units already
in the target or a final state are skipped).
"""

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce, Now
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import get_language_info

from brands.models import Brand
from core.errors import ServiceError
from core.queueing import enqueue_on_commit

from . import gs1, packstates, rows
from .models import BatchState, ChangeScope, ChangeState, Code, CodeBatch, CodeStatus, Lot, Product, StatusChange

log = logging.getLogger(__name__)
SERIALS_PER_STATEMENT = 5_000
MAX_SERIALS = 1_000_000  # listed serials in one change (its audit row keeps them all)
APPLY_NOW_LIMIT = 1_000  # units a person's (or a system's) change may have applied in its own request
MAX_REASON = 2_000
MAX_MESSAGE = 500


class ChangeError(ServiceError):
    """A status change that cannot be made; `field` names what to fix."""


def plan_change(
    *,
    brand: Brand,
    to_status: str,
    reason: str,
    consumer_message: str = "",
    consumer_messages: dict[str, str] | None = None,
    created_by=None,
    lot: Lot | None = None,
    batch: CodeBatch | None = None,
    first_position: int | None = None,
    last_position: int | None = None,
    product: Product | None = None,
    serials: list[str] | None = None,
    enqueue: bool = True,
) -> StatusChange:
    """Record a status change of a lot, a batch (or a 1-based inclusive range of its positions) or listed
    serials of a product; a worker then applies it (`apply_change`)."""
    if not packstates.can_change_to(to_status):
        raise ChangeError("to_status", f"Units cannot be set to {to_status!r} this way.")
    change = new_change(
        brand=brand,
        to_status=to_status,
        reason=reason,
        consumer_message=consumer_message,
        consumer_messages=consumer_messages,
        created_by=created_by,
        lot=lot,
        batch=batch,
        first_position=first_position,
        last_position=last_position,
        product=product,
        serials=serials,
    )
    return save_change(change, enqueue=enqueue)


def new_change(
    *,
    brand: Brand,
    to_status: str,
    reason: str,
    consumer_message: str = "",
    consumer_messages: dict[str, str] | None = None,
    created_by=None,
    lot: Lot | None = None,
    batch: CodeBatch | None = None,
    first_position: int | None = None,
    last_position: int | None = None,
    product: Product | None = None,
    serials: list[str] | None = None,
) -> StatusChange:
    """A checked, unsaved change: its reason, its scope and its size (which target states are allowed is the
    caller's to say: `plan_change` for people's changes, `codes.activation` for activation)."""
    if not reason.strip():
        raise ChangeError("reason", "Give a reason: it goes into the audit trail.")
    if len(reason.strip()) > MAX_REASON:
        raise ChangeError("reason", f"A reason has at most {MAX_REASON:,} characters.")
    if len(consumer_message.strip()) > MAX_MESSAGE:
        raise ChangeError("consumer_message", f"A consumer message has at most {MAX_MESSAGE} characters.")
    change = StatusChange(
        brand=brand,
        to_status=to_status,
        reason=reason.strip(),
        consumer_message=consumer_message.strip(),
        consumer_messages=_translated_messages(consumer_messages or {}),
        created_by=created_by,
    )
    _set_scope(change, brand, lot, batch, first_position, last_position, product, serials)
    return change


def save_change(change: StatusChange, *, enqueue: bool) -> StatusChange:
    """Record a change (the audit trail's entry) and, with `enqueue`, hand it to a worker after commit."""
    with transaction.atomic():
        change.save()
        if enqueue:
            from .tasks import apply_change_task

            enqueue_on_commit(apply_change_task, change.pk)
        if change.is_recall:
            _publish_recall(change)
    return change


MESSAGE_LANGUAGES = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


def language_name(code: str) -> str:
    """A verify-page language as the (English) dashboard names it: "Malay (Bahasa Melayu)"."""
    info = get_language_info(code)
    return f"{info['name']} ({info['name_local']})"


def _translated_messages(messages: dict[str, str]) -> dict[str, str]:
    """The consumer message in the verify page's other languages; empty ones are left out (those scanners
    read the default message)."""
    unknown = sorted(set(messages) - set(MESSAGE_LANGUAGES))
    if unknown:
        raise ChangeError("consumer_messages", f"The verify page has no language {unknown[0]!r}.")
    kept = {code: text.strip() for code, text in messages.items() if text and text.strip()}
    if any(len(text) > MAX_MESSAGE for text in kept.values()):
        raise ChangeError("consumer_messages", f"A consumer message has at most {MAX_MESSAGE} characters.")
    return kept


def _set_scope(change, brand, lot, batch, first_position, last_position, product, serials) -> None:
    if sum(x is not None for x in (lot, batch, serials)) != 1:
        raise ChangeError("scope", "Choose exactly one of: a lot, a batch, or serials.")
    if lot is not None:
        if lot.product.brand_id != brand.pk:
            raise ChangeError("lot", "No such lot.")
        change.scope, change.lot, change.product = ChangeScope.LOT, lot, lot.product
        change.quantity = sum(CodeBatch.objects.filter(lot=lot).values_list("quantity", flat=True))
    elif batch is not None:
        if batch.product.brand_id != brand.pk:
            raise ChangeError("batch", "No such batch.")
        first = 1 if first_position is None else first_position
        last = batch.quantity if last_position is None else last_position
        if not 1 <= first <= last <= batch.quantity:
            raise ChangeError("first_position", f"Positions run from 1 to {batch.quantity:,}, first before last.")
        change.scope, change.batch, change.product = ChangeScope.BATCH, batch, batch.product
        change.first_position, change.last_position, change.quantity = first, last, last - first + 1
    else:
        if product is None or product.brand_id != brand.pk:
            raise ChangeError("gtin", "Listed serials need the GTIN of one of your products.")
        # Generated serials are matched in their canonical spelling; imported ones exactly as registered.
        listed = {s.strip() for s in serials if s.strip()}
        if not listed:
            raise ChangeError("serials", "List at least one serial.")
        # The limit is on what was listed: an imported serial may be looked for in two spellings below.
        if len(listed) > MAX_SERIALS:
            raise ChangeError("serials", f"List at most {MAX_SERIALS:,} serials in one change.")
        spelling = product.serial_format  # built once: a property, and a million serials may be listed
        spellings = {spelling.normalise(s) for s in listed}
        if CodeBatch.objects.filter(product=product, imported=True).exists():
            spellings |= listed
        normalised = sorted(spellings)
        _check_serials(normalised)
        change.scope, change.product, change.serials, change.quantity = (
            ChangeScope.SERIALS,
            product,
            normalised,
            len(normalised),
        )
    if change.quantity == 0:
        raise ChangeError("scope", "There are no codes in that scope.")
    unfinished = _unfinished_batches(change)
    if unfinished:  # its codes are still being registered: the sweep would miss those not yet written
        raise ChangeError("scope", f"Batch {unfinished[0]} is still being generated; try again when it is ready.")


def _check_serials(serials: list[str]) -> None:
    """Every listed serial is one AI (21) can hold (1-20 characters of GS1 set 82): anything else names no unit,
    and may not even be storable (a NUL) in the change's audit row."""
    for serial in serials:
        try:
            gs1.validate_serial(serial)
        except gs1.GS1Error as exc:
            raise ChangeError("serials", f"{exc.message[:-1]}: {serial[:24]!r}.") from None


def lot_by_number(*, product: Product, number: str) -> Lot:
    """A product's lot by the number on its label (a recall names the lot as people read it)."""
    lot = Lot.objects.filter(product=product, number=number.strip()).first()
    if lot is None:
        raise ChangeError("lot_number", "This product has no such lot.")
    return lot


def _unfinished_batches(change: StatusChange) -> list[int]:
    if change.scope == ChangeScope.LOT:
        batches = CodeBatch.objects.filter(lot=change.lot)
    elif change.scope == ChangeScope.BATCH:
        batches = CodeBatch.objects.filter(pk=change.batch_id)  # type: ignore[misc]  # a batch-wide change's
    else:
        batches = CodeBatch.objects.filter(product=change.product)
    return list(batches.exclude(state=BatchState.READY).values_list("pk", flat=True))


def _publish_recall(change: StatusChange) -> None:
    from notifications.services import publish

    publish(
        brand_id=change.brand_id,
        event="recall.created",
        data={
            "recall": change.pk,
            "gtin": change.product.gtin,
            "scope": change.scope,
            "lot": change.lot.number if change.lot else None,
            "batch": change.batch_id,
            "first_position": change.first_position,
            "last_position": change.last_position,
            "serials": change.serials[:1000],
            "codes_in_scope": change.quantity,
            "reason": change.reason,
            "consumer_message": change.consumer_message,
            "consumer_messages": change.consumer_messages,
        },
    )


def ordinal_ranges(change: StatusChange) -> list[tuple[int, int]]:
    """The change's scope as half-open ordinal ranges of its product, in print order."""
    if change.scope == ChangeScope.LOT:
        batches = CodeBatch.objects.filter(lot_id=change.lot_id).order_by("first_ordinal")  # type: ignore[misc]
        return [(b.first_ordinal, b.end_ordinal) for b in batches]
    if change.scope == ChangeScope.BATCH:
        batch, first, last = change.batch, change.first_position, change.last_position
        assert batch is not None and first is not None and last is not None  # a batch-wide change names its range
        return [(batch.first_ordinal + first - 1, batch.first_ordinal + last)]
    return []


def apply_change(change_id: int, *, chunk_size: int | None = None) -> StatusChange:
    """Apply a planned change, chunk by chunk, each chunk committed with the progress (safe to run twice)."""
    StatusChange.objects.filter(pk=change_id, state__in=[ChangeState.QUEUED, ChangeState.FAILED]).update(
        state=ChangeState.RUNNING, started_at=Coalesce(F("started_at"), Now()), error="", heartbeat_at=Now()
    )
    change = StatusChange.objects.select_related("batch", "product").get(pk=change_id)
    if change.state != ChangeState.RUNNING:
        return change
    chunk_size = chunk_size or settings.CODES_CHUNK_SIZE
    ranges = ordinal_ranges(change)
    while True:
        with transaction.atomic():
            # Not the listed serials (up to a million, read once above): read and parsed again for every chunk,
            # they made a change by serials take minutes.
            locked = StatusChange.objects.select_for_update().defer("serials").get(pk=change_id)
            if locked.codes_done >= locked.quantity:
                break
            if change.scope == ChangeScope.SERIALS:
                serials = change.serials[locked.codes_done : locked.codes_done + SERIALS_PER_STATEMENT]
                counts, done = _change_serials(change, serials), len(serials)
            else:
                first, end = _chunk(ranges, locked.codes_done, chunk_size)
                counts, done = _change_ordinals(change, first, end), end - first
            _add_progress(locked, done, counts)
    finished = StatusChange.objects.filter(pk=change_id, state=ChangeState.RUNNING).update(
        state=ChangeState.DONE, finished_at=Now()
    )
    change.refresh_from_db()
    log.info("status change applied", extra={"change": change.pk, "codes": change.codes_changed})
    if finished and change.is_recall:  # the run that finished it, once (a repeat finds it done above)
        _follow_up_recall(change.pk)
    return change


def _follow_up_recall(change_id: int) -> None:
    """Hand a finished recall to the apps above codes that act on one (owners' recall messages): their tasks
    are named in settings.RECALL_FOLLOW_UP_TASKS, as UNSENT_TASK_MODEL is, so codes sends them without importing
    a floor above its own. Each takes the change's id and is safe to run twice."""
    for name in settings.RECALL_FOLLOW_UP_TASKS:
        enqueue_on_commit(import_string(name), change_id)


def _chunk(ranges: list[tuple[int, int]], offset: int, size: int) -> tuple[int, int]:
    """The next ordinal range to process, `offset` codes into the scope: never crosses a batch boundary."""
    for first, end in ranges:
        if offset < end - first:
            start = first + offset
            return start, min(end, start + size)
        offset -= end - first
    raise ValueError("offset beyond the scope")


def _add_progress(locked: StatusChange, done: int, counts: Counter) -> None:
    merged = Counter(locked.from_counts) + counts
    changed = sum(counts.values())
    StatusChange.objects.filter(pk=locked.pk).update(
        codes_done=locked.codes_done + done,
        codes_changed=locked.codes_changed + changed,
        from_counts=dict(merged),
        heartbeat_at=Now(),
    )
    _count_activated(locked, changed)


def _count_activated(change: StatusChange, changed: int) -> None:
    """Keep the batch's count of activated units, in the same transaction as the units themselves."""
    if changed and change.to_status == packstates.ACTIVE and change.batch_id is not None:
        CodeBatch.objects.filter(pk=change.batch_id).update(codes_activated=F("codes_activated") + changed)


def _run_sweep(change: StatusChange, units: tuple[str, list]) -> Counter:
    only = packstates.only_from(change.to_status)
    states = sorted(only if only is not None else packstates.unchangeable_from(change.to_status))
    return rows.change_status(
        product_id=change.product_id,
        units=units,
        to_status=change.to_status,
        at=timezone.now(),
        change_id=change.pk,
        states=states,
        only=only is not None,
    )


def _change_ordinals(change: StatusChange, first: int, end: int) -> Counter:
    return _run_sweep(change, rows.ordinals(first, end))


def _change_serials(change: StatusChange, serials: list[str]) -> Counter:
    if not serials:
        return Counter()
    return _run_sweep(change, rows.serials(serials))


def resume_change(change: StatusChange) -> bool:
    """A person's "Resume": a failed change, or one no worker has moved for WORK_LEASE_SECONDS, is handed to a
    worker again and resumes after its last committed chunk. False when it is done or a worker is on it (the
    conditional UPDATE decides: two clicks at once send it once)."""
    quiet = timezone.now() - timedelta(seconds=settings.WORK_LEASE_SECONDS)
    stalled = (
        Q(state=ChangeState.FAILED)
        | Q(state=ChangeState.RUNNING, heartbeat_at__lt=quiet)
        | Q(state=ChangeState.QUEUED, enqueued_at__lt=quiet)
    )
    with transaction.atomic():
        resumed = StatusChange.objects.filter(stalled, pk=change.pk).update(
            state=Case(When(state=ChangeState.FAILED, then=Value(ChangeState.QUEUED)), default=F("state")),
            error="",
            finished_at=None,
            heartbeat_at=Now(),
            enqueued_at=Now(),
        )
        if resumed:
            from .tasks import apply_change_task

            enqueue_on_commit(apply_change_task, change.pk)
    return bool(resumed)


def fail_change(change_id: int, reason: str) -> None:
    StatusChange.objects.filter(pk=change_id).exclude(state=ChangeState.DONE).update(
        state=ChangeState.FAILED, error=reason[:500], finished_at=Now()
    )


def undo_change(*, change: StatusChange, by=None, now: datetime | None = None) -> int:
    """Put the units a change moved back into the state they came from (EU FMD: within 10 days, never out of
    a final state). Only units whose last change this was, and that are still in its state, move back."""
    now = now or timezone.now()
    if change.state != ChangeState.DONE:
        raise ChangeError("change", "Only a finished change can be undone.")
    refusal = packstates.undo_refusal(
        change.to_status, change.finished_at or change.created_at, now, already_undone=change.undone_at is not None
    )
    if refusal:
        raise ChangeError("change", refusal)
    with transaction.atomic():
        claimed = StatusChange.objects.filter(pk=change.pk, undone_at__isnull=True).update(undone_at=now, undone_by=by)
        if not claimed:  # two clicks at once: only one undoes
            raise ChangeError("change", "This change was already undone.")
        undone = _undo_rows(change, now)
        StatusChange.objects.filter(pk=change.pk).update(codes_undone=undone)
        _count_activated(change, -undone)
    change.refresh_from_db()
    return undone


def _undo_rows(change: StatusChange, now: datetime) -> int:
    parts = []
    if change.scope == ChangeScope.SERIALS:
        chunks = range(0, len(change.serials), SERIALS_PER_STATEMENT)
        parts += [rows.serials(change.serials[i : i + SERIALS_PER_STATEMENT]) for i in chunks]
    parts += [rows.ordinals(first, end) for first, end in ordinal_ranges(change)]
    return sum(
        rows.undo_status(
            units=units, product_id=change.product_id, change_id=change.pk, to_status=change.to_status, at=now
        )
        for units in parts
    )


def change_unit_status(*, brand: Brand, code, to_status: str, reason: str, created_by=None) -> StatusChange:
    """One unit's pack state, by the same rules and with the same audit row as bulk changes (final states stay,
    back to active only by undoing): a one-serial change, applied at once. `codes_changed` is 0 when it did
    nothing (the unit was already so, or is in a final state)."""
    change = plan_change(
        brand=brand,
        to_status=to_status,
        reason=reason,
        created_by=created_by,
        product=code.product,
        serials=[code.serial],
        enqueue=False,
    )
    return apply_change(change.pk)


@dataclass(frozen=True)
class UnitResult:
    """What a change did to one listed unit: `code_id` None when the product has no such serial; `refusal` says
    why a unit was left as it is."""

    serial: str
    code_id: int | None
    status: str | None
    changed: bool
    refusal: str = ""


def change_units_now(
    *, brand: Brand, product: Product, serials: list[str], to_status: str, reason: str, created_by=None, **message
) -> tuple[StatusChange, list[UnitResult]]:
    """Listed serials of a product (at most APPLY_NOW_LIMIT) changed in this call, with the same rules and audit
    row as any change, and what happened to each serial as asked, in the order asked."""
    if len([s for s in serials if s.strip()]) > APPLY_NOW_LIMIT:
        raise ChangeError("serials", f"At most {APPLY_NOW_LIMIT:,} units are changed at once; more run as a job.")
    change = plan_change(
        brand=brand,
        to_status=to_status,
        reason=reason,
        created_by=created_by,
        product=product,
        serials=serials,
        enqueue=False,
        **message,
    )
    change = apply_change(change.pk)
    return change, unit_results(change, serials)


def unit_results(change: StatusChange, serials: list[str]) -> list[UnitResult]:
    """Each listed serial's outcome after a change by serials (one read on the (product, serial) index)."""
    spelling = change.product.serial_format
    spelled = {s: spelling.normalise(s.strip()) for s in serials if s.strip()}
    found = {
        row["serial"]: row
        for row in Code.objects.filter(product_id=change.product_id, serial__in=set(spelled.values())).values(
            "id", "serial", "status", "status_change_id"
        )
    }
    results = []
    for asked, serial in spelled.items():
        row = found.get(serial)
        if row is None:
            results.append(UnitResult(asked, None, None, False, "No such code."))
            continue
        if row["status_change_id"] == change.pk and row["status"] == change.to_status:
            results.append(UnitResult(asked, row["id"], row["status"], True))
            continue
        refusal = packstates.refusal(row["status"], change.to_status) or "Changed since by another change."
        results.append(UnitResult(asked, row["id"], row["status"], False, refusal))
    return results


def recall(**kwargs) -> StatusChange:
    """A recall: a status change to recalled."""
    return plan_change(to_status=CodeStatus.RECALLED, **kwargs)
