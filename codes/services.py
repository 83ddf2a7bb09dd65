"""Code use cases: products, lots, ordering a batch, generating its codes."""

import logging
from datetime import date

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Max
from django.db.models.functions import Coalesce, Now

from brands.errors import ServiceError
from brands.models import Brand
from brands.services import claim_covering, current_key
from serialize_saas.celery import enqueue_on_commit

from . import quotas
from .models import MAX_BATCH_QUANTITY, BatchState, Code, CodeBatch, CodeStatus, Lot, Product
from .serials import SerialCodec, SerialFormat

log = logging.getLogger(__name__)

# EU FMD asks for below 1 in 10,000; we keep a random guess a hundred times less likely than that.
MAX_GUESS_PROBABILITY = 1e-6


class OrderError(ServiceError):
    """An order that cannot be made; `field` names what to fix."""


def capacity_error(fmt: SerialFormat, issued_after: int) -> str | None:
    """Why a format cannot hold `issued_after` codes, or None when it can."""
    if issued_after > fmt.space or fmt.guess_probability(issued_after) > MAX_GUESS_PROBABILITY:
        most = int(fmt.space * MAX_GUESS_PROBABILITY)
        return (
            f"This serial format is too small: with {issued_after:,} codes a random guess would hit a valid one "
            f"too often. It can hold at most {most:,} codes; choose a longer serial."
        )
    return None


def gtin_problem(brand: Brand, gtin: str) -> str | None:
    """A brand registers only GTINs under a GS1 Company Prefix it has claimed (approved or under review)."""
    if claim_covering(brand, gtin) is None:
        return (
            "This GTIN is not under a GS1 Company Prefix you have claimed. Claim your prefix in Settings first; "
            "a GTIN belongs to the owner of its prefix."
        )
    return None


def create_product(
    *, brand: Brand, name: str, gtin: str, serial_alphabet: str, serial_length: int, **fields
) -> Product:
    problem = gtin_problem(brand, gtin)
    if problem:
        raise OrderError("gtin", problem)
    return Product.objects.create(
        brand=brand,
        name=name,
        gtin=gtin,
        serial_alphabet=serial_alphabet,
        serial_length=serial_length,
        key=current_key(brand),
        **fields,
    )


EDITABLE_PRODUCT_FIELDS = ("name", "variant", "gtin", "ndc", "image", "serial_alphabet", "serial_length")


def update_product(product: Product, *, changed: list[str]) -> Product:
    """Save what a person edited, never the ordinal counter: batches move it with F() under a row lock,
    and writing back a stale value would hand out ordinals (serials) twice."""
    fields = [name for name in changed if name in EDITABLE_PRODUCT_FIELDS]
    problem = gtin_problem(product.brand, product.gtin) if "gtin" in fields else None
    if problem:
        raise OrderError("gtin", problem)
    if fields:
        product.save(update_fields=fields)
    return product


def get_or_create_lot(
    *, product: Product, number: str, expires_on: date | None = None, manufactured_on: date | None = None
) -> Lot:
    lot, created = Lot.objects.get_or_create(
        product=product, number=number, defaults={"expires_on": expires_on, "manufactured_on": manufactured_on}
    )
    if not created and expires_on and lot.expires_on != expires_on:
        raise OrderError("expiry", f"Lot {number} already exists with expiry {lot.expires_on or 'none'}.")
    return lot


@transaction.atomic
def order_batch(
    *, product: Product, lot: Lot, quantity: int, with_pin: bool = False, ordered_by=None, enqueue: bool = True
) -> CodeBatch:
    """Reserve a contiguous block of ordinals for a new batch; generation then runs in a worker."""
    if not 1 <= quantity <= MAX_BATCH_QUANTITY:
        raise OrderError("quantity", f"Quantity must be between 1 and {MAX_BATCH_QUANTITY:,}.")
    if lot.product_id != product.pk:
        raise OrderError("lot", "That lot belongs to another product.")
    # Locks, always brand then product: orders of one brand queue up so two cannot both pass the plan's
    # limits, and orders for one product get blocks of ordinals that never overlap.
    brand = Brand.objects.select_for_update().get(pk=product.brand_id)
    problem = quotas.order_problem(brand, quantity)
    if problem:
        raise OrderError("quantity", problem)
    locked = Product.objects.select_for_update().get(pk=product.pk)
    problem = capacity_error(locked.serial_format, locked.next_ordinal + quantity)
    if problem:
        raise OrderError("quantity", problem)
    batch = CodeBatch.objects.create(
        product=locked,
        lot=lot,
        quantity=quantity,
        with_pin=with_pin,
        first_ordinal=locked.next_ordinal,
        ordered_by=ordered_by,
        number=next_number(CodeBatch, locked.brand_id),
    )
    Product.objects.filter(pk=locked.pk).update(next_ordinal=F("next_ordinal") + quantity)
    if enqueue:
        from .tasks import generate_batch_task

        enqueue_on_commit(generate_batch_task, batch.pk)
    return batch


def next_number(model, brand_id: int) -> int:
    """The brand's next batch or print-job number. Call inside the use case's transaction: the brand row lock
    makes two orders of one brand take turns, so no number is given twice."""
    Brand.objects.select_for_update().filter(pk=brand_id).values_list("pk", flat=True).get()
    latest = model.objects.filter(**{model.brand_path + "_id": brand_id}).aggregate(n=Max("number"))["n"]
    return (latest or 0) + 1


def generate_batch(batch_id: int, *, chunk_size: int | None = None) -> CodeBatch:
    """Generate and register every code of a batch, chunk by chunk.

    Idempotent and resumable: each chunk commits together with the progress counter, under a lock on the
    batch row, so a second delivery of the task waits, then continues from where the first one stopped,
    and a killed worker loses at most one uncommitted chunk.
    """
    CodeBatch.objects.filter(pk=batch_id, state__in=[BatchState.QUEUED, BatchState.FAILED]).update(
        state=BatchState.GENERATING, started_at=Coalesce(F("started_at"), Now()), error="", heartbeat_at=Now()
    )
    batch = CodeBatch.objects.select_related("product__key").get(pk=batch_id)
    if batch.state == BatchState.READY:
        return batch
    chunk_size = chunk_size or settings.CODES_CHUNK_SIZE
    product = batch.product
    codec = SerialCodec(product.key.secret(), product.gtin, product.serial_format)
    while True:
        with transaction.atomic():
            done = CodeBatch.objects.select_for_update().values_list("codes_done", flat=True).get(pk=batch_id)
            if done >= batch.quantity:
                break
            count = min(chunk_size, batch.quantity - done)
            first = batch.first_ordinal + done
            insert_codes(batch, first, codec.serials(first, count))
            CodeBatch.objects.filter(pk=batch_id).update(codes_done=done + count, heartbeat_at=Now())
    with transaction.atomic():
        finished = CodeBatch.objects.filter(pk=batch_id, state=BatchState.GENERATING).update(
            state=BatchState.READY, finished_at=Now()
        )
        batch.refresh_from_db()
        if finished:  # only the call that made it ready tells the brand
            _publish_batch_ready(batch)
    log.info("batch generated", extra={"batch": batch.pk, "quantity": batch.quantity, "seconds": batch.seconds})
    return batch


def insert_codes(batch: CodeBatch, first_ordinal: int, serials: list[str]) -> None:
    """Register serials for consecutive ordinals: COPY on PostgreSQL, bulk_create elsewhere."""
    if connection.vendor == "postgresql":
        # Serial alphabets are GS1-safe letters and digits: nothing to escape in COPY's text format.
        prefix = f"{batch.product_id}\t{batch.pk}\t"
        lines = [
            f"{prefix}{ordinal}\t{serial}\t{CodeStatus.ACTIVE}\t0\t\n"
            for ordinal, serial in enumerate(serials, first_ordinal)
        ]
        columns = "product_id, batch_id, ordinal, serial, status, scan_count, first_scanned_in"
        # psycopg's own COPY, inside Django's error wrapper: a failure is Django's OperationalError & co. (a dropped
        # connection is then retried by the task, and the connection is known to be broken), as for any query.
        with (
            connection.cursor() as cursor,
            connection.wrap_database_errors,
            cursor.cursor.copy(f"COPY codes_code ({columns}) FROM STDIN") as copy,
        ):
            copy.write("".join(lines))
        return
    Code.objects.bulk_create(
        (
            Code(product_id=batch.product_id, batch_id=batch.pk, ordinal=ordinal, serial=serial)
            for ordinal, serial in enumerate(serials, first_ordinal)
        ),
        batch_size=2_000,
    )


def _publish_batch_ready(batch: CodeBatch) -> None:
    from notifications.services import publish

    publish(
        brand_id=batch.product.brand_id,
        event="batch.ready",
        data={"batch": batch.pk, "gtin": batch.product.gtin, "lot": batch.lot.number, "quantity": batch.quantity},
    )


def mark_suspect(*, code_id: int, at) -> bool:
    """Flag a unit as a likely copy, once: True if this call flagged it (detection then opens the alert)."""
    return bool(Code.objects.filter(pk=code_id, suspect_at__isnull=True).update(suspect_at=at))


def mark_failed(batch_id: int, reason: str) -> None:
    CodeBatch.objects.filter(pk=batch_id).exclude(state=BatchState.READY).update(
        state=BatchState.FAILED, error=reason[:500], finished_at=Now()
    )


def retry_batch(batch: CodeBatch) -> bool:
    """Put a failed batch back in the queue; generation resumes after its last committed chunk."""
    with transaction.atomic():
        requeued = CodeBatch.objects.filter(pk=batch.pk, state=BatchState.FAILED).update(
            state=BatchState.QUEUED, error="", finished_at=None, enqueued_at=Now()
        )
        if requeued:
            from .tasks import generate_batch_task

            enqueue_on_commit(generate_batch_task, batch.pk)
    return bool(requeued)


def codec_for(product: Product) -> SerialCodec:
    return SerialCodec(product.key.secret(), product.gtin, product.serial_format)


def mark_received(*, batch: CodeBatch, first_position: int, last_position: int, at) -> int:
    """Record that the units at positions [first, last] of a batch were received: one UPDATE, however many.
    Units received before keep their first receipt time."""
    first = batch.first_ordinal + first_position - 1
    last = batch.first_ordinal + last_position - 1
    return Code.objects.filter(
        product_id=batch.product_id, ordinal__gte=first, ordinal__lte=last, received_at__isnull=True
    ).update(received_at=at)


RETENTION_CHUNK = 10_000


def forget_downloads(*, before) -> int:
    """Delete the download log older than `before` (who downloaded what is personal data, kept for a while)."""
    from .models import PrintDownload

    total = 0
    while ids := list(
        PrintDownload.objects.filter(created_at__lt=before).values_list("pk", flat=True)[:RETENTION_CHUNK]
    ):
        total += PrintDownload.objects.filter(pk__in=ids).delete()[0]
    return total


def change_status(*, code: Code, status: str) -> bool:
    """Set one unit's pack state (the verify page reads it live on the next scan); False if it was already so."""
    if status not in CodeStatus.values:
        raise OrderError("status", f"{status} is not a pack state.")
    return bool(Code.objects.filter(pk=code.pk).exclude(status=status).update(status=status, status_changed_at=Now()))


def set_scan_summaries(summaries: dict[int, dict]) -> None:
    """Write codes' scan summaries {code id: {scan_count, first_scanned_at, first_scanned_in, last_scanned_at,
    seen_regions, seen_devices, suspect_at}} in one bulk UPDATE: for scan logs loaded in bulk (the demo), where
    the verify path's per-scan UPDATE is not used."""
    fields = ["scan_count", "first_scanned_at", "first_scanned_in", "last_scanned_at", "seen_regions", "seen_devices"]
    fields.append("suspect_at")
    Code.objects.bulk_update(
        [Code(pk=pk, **{name: summary.get(name) for name in fields}) for pk, summary in summaries.items()],
        fields,
        batch_size=500,
    )
