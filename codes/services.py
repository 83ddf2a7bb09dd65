"""Code use cases: products, lots, ordering a batch, generating its codes."""

import logging
from datetime import date

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max
from django.db.models.functions import Coalesce, Now
from django.utils import timezone

from brands.models import Brand
from brands.services import approved_claim_of, claim_covering, current_key, note_verify_change
from core.errors import ServiceError
from core.queueing import enqueue_on_commit

from . import gs1, quotas, regulators, rows
from .models import (
    ALPHABETS,
    DEFAULT_LENGTHS,
    MAX_BATCH_QUANTITY,
    BatchState,
    Code,
    CodeBatch,
    CodeStatus,
    Lot,
    Product,
    SerialAlphabet,
    StatusChange,
)
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


def gtin_problem(brand: Brand, gtin: str, *, product_id: int | None = None) -> str | None:
    """A brand registers only GTINs under a GS1 Company Prefix it has claimed (approved or under review), never
    one under a prefix an operator approved for another brand, and never one another brand holds, unless the
    prefix was approved for this brand: then the other brand's hold was a squat (see release_squatted_gtin)."""
    if claim_covering(brand, gtin) is None:
        return (
            "This GTIN is not under a GS1 Company Prefix you have claimed. Claim your prefix in Settings first; "
            "a GTIN belongs to the owner of its prefix."
        )
    owner = approved_claim_of(gtin)
    if owner is not None and owner.brand_id != brand.pk:
        return "This GTIN is under a GS1 Company Prefix that an operator approved for another brand."
    holders = Product.objects.filter(gtin=gtin).exclude(pk=product_id)
    if holders.filter(brand=brand).exists():
        return "You have a product with this GTIN already."
    if owner is None and holders.exists():
        return (
            "This GTIN is registered by another brand whose claim is under review too. A GTIN belongs to the "
            "owner of its prefix: once an operator approves your prefix, you can register it."
        )
    return None


def release_squatted_gtin(*, gtin: str, owner: Brand) -> int:
    """A GTIN registered under a merely pending claim reserves nothing: when the brand an operator approved for
    its prefix registers it, another brand's product holding it gives it up and keeps (or gets) a Serialize
    product ref. Its codes never verified as authentic (that brand's claim of the prefix was never approved),
    and labels carrying the GTIN now lead to its owner's product. Call inside the use case's transaction."""
    released = 0
    with transaction.atomic():
        for squatter in Product.objects.select_for_update().filter(gtin=gtin).exclude(brand=owner):
            squatter.gtin, squatter.ref = None, squatter.ref or next_ref(squatter.brand)
            squatter.save(update_fields=["gtin", "ref"])
            note_verify_change(brand_id=squatter.brand_id)
            log.warning("GTIN released to its prefix's owner", extra={"product": squatter.pk, "to": owner.pk})
            released += 1
    return released


def clean_gtin(gtin: str | None) -> str | None:
    """A GTIN as typed (8, 12, 13 or 14 digits, spaces allowed) as GTIN-14; None for none."""
    if not gtin or not gtin.strip():
        return None
    try:
        return gs1.normalize_gtin(gtin)
    except gs1.GS1Error as exc:
        raise OrderError("gtin", exc.message) from exc


def clean_registration_number(text: str | None) -> str:
    """An NPRA registration (MAL…) or cosmetic notification (NOT…) number as printed, spaces removed; "" for none."""
    try:
        return regulators.clean_npra_number(text or "")
    except regulators.RegulatorError as exc:
        raise OrderError("registration_number", exc.message) from exc


REGULATOR_FIELDS = ("ndc", "registration_number", "needs_farmatag")


def clean_regulator_fields(*, gtin: str | None, ndc: str, registration_number: str, needs_farmatag: bool) -> dict:
    """A product's regulators' identifiers, checked together with its GTIN: the NDC is the one inside a US drug's
    GTIN (only its label's split is kept), and only a product registered with NPRA (MAL…) carries the FarmaTag."""
    number = clean_registration_number(registration_number)
    try:
        ndc = regulators.clean_ndc(ndc or "", gtin)
    except regulators.RegulatorError as exc:
        raise OrderError("ndc", exc.message) from exc
    if needs_farmatag and regulators.npra_kind(number) != regulators.MAL:
        raise OrderError(
            "needs_farmatag",
            "The FarmaTag is for products registered with NPRA: enter the product's MAL… registration number "
            "(cosmetics, NOT…, carry none).",
        )
    return {"ndc": ndc, "registration_number": number, "needs_farmatag": bool(needs_farmatag)}


def clean_serial_format(serial_alphabet: str, serial_length: int | None) -> tuple[str, int]:
    """A serial alphabet and length (the alphabet's default when not given) that make a usable format."""
    if serial_alphabet not in SerialAlphabet.values:
        raise OrderError("serial_alphabet", f"Choose one of: {', '.join(SerialAlphabet.values)}.")
    length = serial_length or DEFAULT_LENGTHS[SerialAlphabet(serial_alphabet)]
    try:
        SerialFormat(ALPHABETS[SerialAlphabet(serial_alphabet)], length)
    except ValueError as exc:
        raise OrderError("serial_length", "Too short: serials need at least a million possible values.") from exc
    return serial_alphabet, length


@transaction.atomic
def create_product(
    *,
    brand: Brand,
    name: str,
    serial_alphabet: str = SerialAlphabet.ALNUM,
    serial_length: int | None = None,
    gtin: str | None = None,
    **fields,
) -> Product:
    """A product under a GTIN of a prefix the brand has claimed or, without a GTIN (brands without a GS1
    Company Prefix), under a new Serialize product ref that the platform issues and that never poses as a GTIN."""
    serial_alphabet, serial_length = clean_serial_format(serial_alphabet, serial_length)
    gtin, ref = clean_gtin(gtin), None
    if gtin:
        problem = gtin_problem(brand, gtin)
        if problem:
            raise OrderError("gtin", problem)
        release_squatted_gtin(gtin=gtin, owner=brand)
    else:
        gtin, ref = None, next_ref(brand)
    regulated = {name: fields.pop(name) for name in REGULATOR_FIELDS if name in fields}
    fields.update(
        clean_regulator_fields(
            gtin=gtin,
            ndc=regulated.get("ndc") or "",
            registration_number=regulated.get("registration_number") or "",
            needs_farmatag=bool(regulated.get("needs_farmatag")),
        )
    )
    return Product.objects.create(
        brand=brand,
        name=name,
        gtin=gtin,
        ref=ref,
        serial_alphabet=serial_alphabet,
        serial_length=serial_length,
        key=current_key(brand),
        **fields,
    )


def next_ref(brand: Brand) -> str:
    """The brand's next product ref, `{slug}.{n}`: unique on the platform, since slugs are. Call inside the use
    case's transaction: the brand row lock makes two new products of one brand take turns. Numbers count on
    from every ref under the slug, whoever's: a slug an operator renamed and another brand took later never
    hands out a ref that exists."""
    Brand.objects.select_for_update().filter(pk=brand.pk).values_list("pk", flat=True).get()
    refs = Product.objects.filter(ref__startswith=f"{brand.slug}.").values_list("ref", flat=True)
    latest = max((int(ref.rpartition(".")[2]) for ref in refs), default=0)
    try:
        return gs1.product_ref(brand.slug, latest + 1)
    except gs1.GS1Error as exc:
        raise OrderError("gtin", "This brand's short name cannot make product refs; ask an operator.") from exc


def upgrade_problem(brand: Brand, gtin: str) -> str | None:
    """A product ref is given a GTIN only under a prefix an operator approved: from then on its new labels
    carry the GS1 Digital Link, which must never name a GTIN the brand has not proven is its own."""
    if claim_covering(brand, gtin, approved_only=True) is None:
        return (
            "A product without a GTIN is given one only under a GS1 Company Prefix an operator has approved for "
            "you: claim your prefix in Settings and wait for its approval."
        )
    return None


EDITABLE_PRODUCT_FIELDS = (
    "name",
    "variant",
    "gtin",
    "ndc",
    "registration_number",
    "needs_farmatag",
    "warranty_months",
    "image",
    "serial_alphabet",
    "serial_length",
)


def frozen_product_fields(product: Product) -> list[str]:
    """What printed codes depend on, once a product has codes: its serial format and, unless it has a ref and
    no GTIN yet (its serials are encrypted under the ref, so it may still be given one), its GTIN."""
    if not product.next_ordinal:
        return []
    return ["serial_alphabet", "serial_length"] + (["gtin"] if product.gtin or not product.ref else [])


@transaction.atomic
def update_product(*, product: Product, changes: dict) -> Product:
    """Change what people may edit of a product (`changes`: field name -> new value), never the ordinal counter:
    batches move it with F() under a row lock, and writing back a stale value would hand out ordinals twice.
    The serial format and GTIN are frozen once codes exist: changing them would orphan every printed label.

    A product with a ref that is given a GTIN keeps its ref: its serials are encrypted under the ref, so the
    labels already printed keep verifying through the ref's URL, and new labels carry the GS1 Digital Link."""
    # Locked and re-read: a batch ordered meanwhile moves the counter and freezes the serial format.
    locked = Product.objects.select_for_update().select_related("brand").get(pk=product.pk)
    unknown = set(changes) - set(EDITABLE_PRODUCT_FIELDS)
    if unknown:
        raise OrderError(sorted(unknown)[0], "This cannot be changed.")
    if "gtin" in changes:
        changes = {**changes, "gtin": clean_gtin(changes["gtin"])}
    if {"serial_alphabet", "serial_length"} & changes.keys():
        alphabet = changes.get("serial_alphabet", locked.serial_alphabet)
        length = changes.get("serial_length", locked.serial_length)
        alphabet, length = clean_serial_format(alphabet, length)
        changes = {**changes, "serial_alphabet": alphabet, "serial_length": length}
    if {"gtin", *REGULATOR_FIELDS} & changes.keys():  # checked together: a new GTIN may no longer hold the NDC
        current = {name: changes.get(name, getattr(locked, name)) for name in ("gtin", *REGULATOR_FIELDS)}
        changes = {**changes, **clean_regulator_fields(**current)}
    changes = {name: value for name, value in changes.items() if _differs(locked, name, value)}
    frozen = [name for name in frozen_product_fields(locked) if name in changes]
    if frozen:
        raise OrderError(frozen[0], f"{locked} has codes already: its {frozen[0].replace('_', ' ')} cannot change.")
    for name, value in changes.items():
        Product._meta.get_field(name).save_form_data(locked, value)
    problem = None
    if "gtin" in changes:
        if locked.ref and locked.gtin:
            problem = upgrade_problem(locked.brand, locked.gtin)
        elif not locked.ref:
            problem = gtin_problem(locked.brand, locked.gtin or "", product_id=locked.pk)
    if problem:
        raise OrderError("gtin", problem)
    if "gtin" in changes and locked.gtin:
        release_squatted_gtin(gtin=locked.gtin, owner=locked.brand)
    if changes:
        locked.save(update_fields=list(changes))
        note_verify_change(brand_id=locked.brand_id)  # its name (or GTIN) on the verify page, in every worker
    return locked


def _differs(product: Product, name: str, value) -> bool:
    """Is `value` a change of the product's field? A file is a change whenever one is given or cleared."""
    if name == "image":
        return value is not None
    return getattr(product, name) != value


def give_gtin(*, product: Product, gtin: str) -> Product:
    """Give a product without a GTIN its GTIN (the upgrade to GS1 identifiers), keeping its ref."""
    gtin = gs1.normalize_gtin(gtin)
    with transaction.atomic():
        locked = Product.objects.select_for_update().get(pk=product.pk)
        if locked.gtin:
            raise OrderError("gtin", f"This product has a GTIN already: {locked.gtin}.")
        problem = upgrade_problem(locked.brand, gtin) or gtin_problem(locked.brand, gtin)
        if problem:
            raise OrderError("gtin", problem)
        release_squatted_gtin(gtin=gtin, owner=locked.brand)
        return update_product(product=locked, changes={"gtin": gtin})


def clean_lot(*, number: str, expires_on: date | None = None) -> str:
    """A lot number as AI (10) carries it, and an expiry that is not past and that AI (17)'s two-digit year
    reads back as the same date; the number is returned stripped."""
    try:
        number = gs1.validate_lot(number.strip())
    except gs1.GS1Error as exc:
        raise OrderError("lot", exc.message) from exc
    if expires_on and expires_on < timezone.localdate():
        raise OrderError("expiry", "The expiry date is in the past.")
    if expires_on:
        try:
            gs1.yymmdd(expires_on)
        except gs1.GS1Error as exc:
            raise OrderError("expiry", exc.message) from exc
    return number


def get_or_create_lot(
    *, product: Product, number: str, expires_on: date | None = None, manufactured_on: date | None = None
) -> Lot:
    """The product's lot of this number, made if new (refused if its number or expiry could not be printed)."""
    number = clean_lot(number=number, expires_on=expires_on)
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
    if is_lot_withdrawn(lot):  # new codes of it would verify as good while its other units say recalled
        raise OrderError("lot", f"Lot {lot.number} was recalled or withdrawn: order new codes under a new lot.")
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


@transaction.atomic
def order_batch_in_lot(
    *,
    product: Product,
    lot_number: str,
    expires_on: date | None = None,
    manufactured_on: date | None = None,
    quantity: int,
    with_pin: bool = False,
    ordered_by=None,
    enqueue: bool = True,
) -> CodeBatch:
    """Order a batch under the product's lot of this number, made if new; one transaction, so a refused order
    leaves nothing behind, not even its new lot."""
    lot = get_or_create_lot(product=product, number=lot_number, expires_on=expires_on, manufactured_on=manufactured_on)
    return order_batch(
        product=product, lot=lot, quantity=quantity, with_pin=with_pin, ordered_by=ordered_by, enqueue=enqueue
    )


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
    if batch.state == BatchState.READY or batch.imported:  # an imported batch's codes come from its file
        return batch
    chunk_size = chunk_size or settings.CODES_CHUNK_SIZE
    product = batch.product
    codec = SerialCodec(product.key.secret(), product.serial_tweak, product.serial_format)
    while True:
        with transaction.atomic():
            done = CodeBatch.objects.select_for_update().values_list("codes_done", flat=True).get(pk=batch_id)
            if done >= batch.quantity:
                break
            count = min(chunk_size, batch.quantity - done)
            first = batch.first_ordinal + done
            rows.insert(batch, first, codec.serials(first, count))
            CodeBatch.objects.filter(pk=batch_id).update(codes_done=done + count, heartbeat_at=Now())
    with transaction.atomic():
        finished = CodeBatch.objects.filter(pk=batch_id, state=BatchState.GENERATING).update(
            state=BatchState.READY, finished_at=Now()
        )
        batch.refresh_from_db()
        if finished:  # only the call that made it ready tells the brand
            publish_batch_ready(batch)
    log.info("batch generated", extra={"batch": batch.pk, "quantity": batch.quantity, "seconds": batch.seconds})
    return batch


def publish_batch_ready(batch: CodeBatch) -> None:
    from notifications.services import publish

    publish(
        brand_id=batch.product.brand_id,
        event="batch.ready",
        data={
            "batch": batch.pk,
            "gtin": batch.product.gtin,
            "ref": batch.product.ref,
            "lot": batch.lot.number,
            "quantity": batch.quantity,
        },
    )


def mark_suspect(*, code_id: int, at) -> bool:
    """Flag a unit as a likely copy, once: True if this call flagged it (detection then opens the alert)."""
    return bool(Code.objects.filter(pk=code_id, suspect_at__isnull=True).update(suspect_at=at))


def mark_failed(batch_id: int, reason: str) -> None:
    CodeBatch.objects.filter(pk=batch_id).exclude(state=BatchState.READY).update(
        state=BatchState.FAILED, error=reason[:500], finished_at=Now()
    )


def retry_batch(batch: CodeBatch) -> bool:
    """Put a failed batch back in the queue; generation (or its import) resumes after its last committed chunk."""
    if batch.imported:
        from .imports import retry_import
        from .models import SerialImport

        serial_import = SerialImport.objects.filter(batch=batch).first()
        return serial_import is not None and retry_import(serial_import)
    with transaction.atomic():
        requeued = CodeBatch.objects.filter(pk=batch.pk, state=BatchState.FAILED).update(
            state=BatchState.QUEUED, error="", finished_at=None, enqueued_at=Now()
        )
        if requeued:
            from .tasks import generate_batch_task

            enqueue_on_commit(generate_batch_task, batch.pk)
    return bool(requeued)


def codec_for(product: Product) -> SerialCodec:
    return SerialCodec(product.key.secret(), product.serial_tweak, product.serial_format)


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


def is_lot_withdrawn(lot: Lot) -> bool:
    """True once a recall or withdrawal of the whole lot was made (final states: never undone)."""
    return StatusChange.objects.filter(lot=lot, to_status__in=[CodeStatus.RECALLED, CodeStatus.WITHDRAWN]).exists()


def set_scan_summaries(summaries: dict[int, dict]) -> None:
    """Write codes' scan summaries {code id: {scan_count, first_scanned_at, first_scanned_in, last_scanned_at,
    seen_regions, seen_devices, suspect_at, last_fix, prev_fix}} in one bulk UPDATE: for scan logs loaded in bulk
    (the demo), where the verify path's per-scan UPDATE is not used."""
    fields = ["scan_count", "first_scanned_at", "first_scanned_in", "last_scanned_at", "seen_regions", "seen_devices"]
    fields += ["suspect_at", "last_fix", "prev_fix"]
    Code.objects.bulk_update(
        [Code(pk=pk, **{name: summary.get(name) for name in fields}) for pk, summary in summaries.items()],
        fields,
        batch_size=500,
    )
