"""Distributor use cases: territories, range assignment with history, cartons (SSCC), receipt."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from brands import prefixes
from brands import services as brand_services
from brands.models import Activation, Brand
from codes import activation, gs1
from codes import services as code_services
from codes.models import CodeBatch
from codes.positions import check_range
from core.errors import ServiceError

from .models import Assignment, AssignmentEnd, Carton, Distributor, SsccCounter
from .territory import TerritoryError, parse_territory

_DISTRIBUTOR_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,19}")
MAX_CARTONS_PER_REQUEST = 10_000


class DistributorError(ServiceError):
    pass


class AssignmentEnded(DistributorError):
    """The assignment was moved or returned since: its positions are someone else's business now."""


# Distributors ---------------------------------------------------------------------------------------------


def clean_territory(territory) -> list[str]:
    try:
        codes = parse_territory(territory)
    except TerritoryError as exc:
        raise DistributorError("territory", str(exc)) from None
    if not codes:
        raise DistributorError("territory", "Give at least one country (SG) or subdivision (MY-14).")
    return codes


def _clean_code(brand: Brand, code: str, exclude_pk: int | None = None) -> str:
    code = code.strip().upper()
    if not _DISTRIBUTOR_CODE.fullmatch(code):
        raise DistributorError("code", "Use up to 20 letters, digits, - or _ (e.g. KL-SEL).")
    if Distributor.objects.for_brand(brand).filter(code=code).exclude(pk=exclude_pk).exists():
        raise DistributorError("code", f"Another distributor of this brand has the code {code}.")
    return code


def _clean_name(name: str) -> str:
    try:
        return brand_services.clean_name(name)
    except ServiceError as exc:
        raise DistributorError(exc.field, exc.message) from None


def create_distributor(*, brand: Brand, name: str, code: str, territory, **contact) -> Distributor:
    return Distributor.objects.create(
        brand=brand,
        name=_clean_name(name),
        code=_clean_code(brand, code),
        territory=clean_territory(territory),
        **contact,
    )


def update_distributor(distributor: Distributor, *, name: str, code: str, territory, **contact) -> Distributor:
    distributor.name = _clean_name(name)
    distributor.code = _clean_code(distributor.brand, code, exclude_pk=distributor.pk)
    distributor.territory = clean_territory(territory)
    for field, value in contact.items():
        setattr(distributor, field, value)
    distributor.save()
    return distributor


# Ranges -----------------------------------------------------------------------------------------------------


def _check_same_brand(batch: CodeBatch, distributor: Distributor) -> None:
    if distributor.brand_id != batch.product.brand_id:
        raise DistributorError("distributor", "No such distributor in this brand.")


def _lock_batch(batch: CodeBatch) -> None:
    """Serialise range changes of one batch: the second of two simultaneous requests waits, then sees the
    first one's rows and is refused with a reason (PostgreSQL's exclusion constraint is the backstop)."""
    CodeBatch.objects.select_for_update().filter(pk=batch.pk).values_list("pk", flat=True).get()


def current_assignments(batch: CodeBatch):
    return Assignment.objects.filter(batch=batch, ended_at__isnull=True).select_related("distributor")


def _overlapping(batch: CodeBatch, first: int, last: int):
    return current_assignments(batch).filter(first_position__lte=last, last_position__gte=first)


def free_ranges(batch: CodeBatch) -> list[tuple[int, int]]:
    """Positions of the batch no distributor holds now, as inclusive ranges."""
    free, start = [], 1
    for first, last in (
        current_assignments(batch).order_by("first_position").values_list("first_position", "last_position")
    ):
        if first > start:
            free.append((start, first - 1))
        start = max(start, last + 1)
    if start <= batch.quantity:
        free.append((start, batch.quantity))
    return free


def _refuse_overlap(batch: CodeBatch, first: int, last: int) -> None:
    clash = _overlapping(batch, first, last).order_by("first_position").first()
    if clash:
        a, b = max(first, clash.first_position), min(last, clash.last_position)
        raise DistributorError(
            "first_position", f"Positions {a:,}–{b:,} are already assigned to {clash.distributor.name}."
        )


def _create(**fields) -> Assignment:
    try:
        with transaction.atomic():  # a savepoint: the constraint's refusal leaves the outer transaction usable
            return Assignment.objects.create(**fields)
    except IntegrityError:
        raise DistributorError("first_position", "Those positions were just assigned by someone else.") from None


@transaction.atomic
def assign_range(
    *,
    batch: CodeBatch,
    distributor: Distributor,
    first_position: int,
    last_position: int,
    assigned_by=None,
    shipment_reference: str = "",
) -> Assignment:
    """Give the positions [first_position, last_position] (1-based, inclusive) of a batch to a distributor."""
    _check_same_brand(batch, distributor)
    first, last = check_range(batch, first_position, last_position, error=DistributorError)
    _lock_batch(batch)
    _refuse_overlap(batch, first, last)
    return _create(
        batch=batch,
        distributor=distributor,
        first_position=first,
        last_position=last,
        assigned_by=assigned_by,
        shipment_reference=shipment_reference[:80],
    )


@transaction.atomic
def reassign_range(
    *,
    batch: CodeBatch,
    first_position: int,
    last_position: int,
    to: Distributor | None,
    by=None,
    shipment_reference: str = "",
) -> list[Assignment]:
    """Move the positions [first_position, last_position] to another distributor, or return them to the brand
    (`to=None`).

    Every assignment they cut through is ended, never edited: what stays with its distributor is written
    again as new rows pointing back at it, so the history of each unit stays whole.
    """
    if to is not None:
        _check_same_brand(batch, to)
    first, last = check_range(batch, first_position, last_position, error=DistributorError)
    _lock_batch(batch)
    covering = list(_overlapping(batch, first, last).order_by("first_position"))
    held = sum(min(last, a.last_position) - max(first, a.first_position) + 1 for a in covering)
    if held != last - first + 1:
        raise DistributorError("first_position", "Only positions a distributor holds now can be moved or returned.")
    now = timezone.now()
    Assignment.objects.filter(pk__in=[a.pk for a in covering]).update(
        ended_at=now, ended_by=by, end_reason=AssignmentEnd.MOVED if to else AssignmentEnd.RETURNED
    )
    created = []
    for old in covering:
        keep = [(old.first_position, first - 1), (last + 1, old.last_position)]
        pieces = [(a, b, old.distributor, False) for a, b in keep if a <= b]
        if to is not None:
            pieces.append((max(first, old.first_position), min(last, old.last_position), to, True))
        for a, b, holder, moved in pieces:
            created.append(
                _create(
                    batch=batch,
                    distributor=holder,
                    first_position=a,
                    last_position=b,
                    assigned_by=by,
                    replaces=old,
                    shipment_reference=shipment_reference[:80] if moved else old.shipment_reference,
                    received_at=None if moved else old.received_at,
                    received_by=None if moved else old.received_by,
                )
            )
    return created


@transaction.atomic
def reassign_assignment(
    *,
    assignment: Assignment,
    to: Distributor | None,
    first_position: int | None = None,
    last_position: int | None = None,
    by=None,
    shipment_reference: str = "",
) -> list[Assignment]:
    """Move positions of one assignment (the whole of it by default) to another distributor, or return them to
    the brand (`to=None`), through `reassign_range`. Checked under the batch's lock: an assignment ended by a
    simultaneous move must not let this one move whoever holds its positions now."""
    batch = assignment.batch
    _lock_batch(batch)
    if _has_ended(assignment):
        raise AssignmentEnded("assignment", "This assignment was moved or returned already: act on its successors.")
    if to is not None and to.pk == assignment.distributor_id:
        raise DistributorError("to", f"{to.name} holds these positions already.")
    first = assignment.first_position if first_position is None else first_position
    last = assignment.last_position if last_position is None else last_position
    for field, position in (("first_position", first), ("last_position", last)):
        if not assignment.first_position <= position <= assignment.last_position:
            raise DistributorError(
                field,
                f"This assignment holds positions {assignment.first_position:,}–{assignment.last_position:,}.",
            )
    return reassign_range(
        batch=batch, first_position=first, last_position=last, to=to, by=by, shipment_reference=shipment_reference
    )


def _has_ended(assignment: Assignment) -> bool:
    return Assignment.objects.filter(pk=assignment.pk, ended_at__isnull=False).exists()


@transaction.atomic
def receive_assignment(*, assignment: Assignment, by=None) -> int:
    """The distributor confirms it has the goods: the assignment and each of its units are marked received.
    Only a current assignment (checked under the batch's lock, so a simultaneous move is seen): the units of an
    ended one are another holder's, or the brand's, now."""
    _lock_batch(assignment.batch)
    if _has_ended(assignment):
        raise AssignmentEnded("assignment", "This assignment was moved or returned: it can no longer be received.")
    return _receive(assignment, by)


@transaction.atomic
def _receive(row: Assignment | Carton, by) -> int:
    """Mark an assignment or a carton received, and exactly its units; returns how many units were newly marked.
    A brand whose codes go live on receipt has those units activated with them, in the same transaction."""
    now = timezone.now()
    if row.received_at is None:
        type(row).objects.filter(pk=row.pk).update(received_at=now, received_by=by)
    received = code_services.mark_received(
        batch=row.batch, first_position=row.first_position, last_position=row.last_position, at=now
    )
    brand = row.batch.product.brand
    if received and brand.activation == Activation.RECEIVED:
        what = (
            f"Carton {row.sscc}" if isinstance(row, Carton) else f"Positions {row.first_position}-{row.last_position}"
        )
        activation.activate(
            brand=brand,
            batch=row.batch,
            first_position=row.first_position,
            last_position=row.last_position,
            by=by,
            reason=f"{what} received by a distributor",
            enqueue=False,
        )
    return received


# Cartons ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CartonPlan:
    first_position: int
    last_position: int
    size: int

    @property
    def count(self) -> int:
        return (self.last_position - self.first_position + 1) // self.size


def plan_cartons(batch: CodeBatch, *, first_position: int, last_position: int, size: int) -> CartonPlan:
    first, last = check_range(batch, first_position, last_position, error=DistributorError)
    units = last - first + 1
    if not 1 <= size <= units:
        raise DistributorError("size", f"A carton holds between 1 and {units:,} units of this range.")
    if units % size:
        raise DistributorError(
            "size",
            f"{units:,} units do not fill cartons of {size}: the last one would hold {units % size}. "
            f"Choose a size that divides {units:,}, or a range whose length is a multiple of {size}.",
        )
    if units // size > MAX_CARTONS_PER_REQUEST:
        raise DistributorError("size", f"At most {MAX_CARTONS_PER_REQUEST:,} cartons at a time: choose larger cartons.")
    return CartonPlan(first, last, size)


def _check_prefix(batch: CodeBatch, company_prefix: str) -> str:
    prefix = company_prefix.strip()
    # A brand's GTINs and SSCCs start with its company prefix: the product's GTIN must carry this one.
    if not batch.product.gtin:
        raise DistributorError(
            "company_prefix",
            "SSCCs are made under the GS1 company prefix of the product's GTIN, and this product has none "
            "(it has a Serialize product ref): assign ranges instead, or give it a GTIN first.",
        )
    if not prefix:
        raise DistributorError(
            "company_prefix", "No approved GS1 Company Prefix of yours covers this product's GTIN: name the prefix."
        )
    if not prefixes.is_company_prefix(prefix):
        raise DistributorError("company_prefix", prefixes.RULE)
    if not prefixes.prefix_covers(prefix, batch.product.gtin):
        raise DistributorError("company_prefix", f"The product's GTIN {batch.product.gtin} is not under {prefix}.")
    return prefix


def _claimed_prefix(batch: CodeBatch) -> str:
    """The prefix of the brand's approved claim covering the product's GTIN: where SSCCs go when none is named."""
    gtin = batch.product.gtin
    claim = brand_services.claim_covering(batch.product.brand, gtin, approved_only=True) if gtin else None
    if claim is None:
        return ""  # _check_prefix says why none will do
    return claim.prefix


def _reserve_references(brand: Brand, prefix: str, count: int) -> int:
    """Reserve `count` consecutive SSCC serial references under a prefix; returns the first. A prefix's series
    is granted only under an approved claim of it, as its GTINs are: a brand whose claim is merely pending (or
    absent) would otherwise take the series first and its owner's SSCCs could never be made."""
    if brand_services.approved_prefix_claim(brand, prefix) is None:
        raise DistributorError(
            "company_prefix",
            "SSCCs are made only under a GS1 Company Prefix an operator approved for you: claim your prefix in "
            "Settings and wait for its approval.",
        )
    SsccCounter.objects.get_or_create(company_prefix=prefix, defaults={"brand": brand})
    counter = SsccCounter.objects.select_for_update().get(company_prefix=prefix)
    if counter.brand_id != brand.pk:
        raise DistributorError("company_prefix", "This company prefix cannot be used.")
    first = counter.next_reference
    if first + count > 10 ** (16 - len(prefix)):
        raise DistributorError("company_prefix", "The SSCC serial references under this prefix are used up.")
    SsccCounter.objects.filter(pk=counter.pk).update(next_reference=first + count)
    return first


@transaction.atomic
def pack_cartons(
    *,
    batch: CodeBatch,
    first_position: int,
    last_position: int,
    size: int,
    company_prefix: str = "",
    extension: int = 0,
    packed_by=None,
) -> list[Carton]:
    """Pack the positions [first_position, last_position] into cartons of `size` units, each with a new SSCC
    under `company_prefix`, by default the approved prefix claim of the brand that the product's GTIN lies under."""
    plan = plan_cartons(batch, first_position=first_position, last_position=last_position, size=size)
    first, last = plan.first_position, plan.last_position
    prefix = _check_prefix(batch, company_prefix.strip() or _claimed_prefix(batch))
    _lock_batch(batch)
    clash = Carton.objects.filter(batch=batch, first_position__lte=last, last_position__gte=first).first()
    if clash:
        raise DistributorError("first_position", f"Some of these units are already packed in carton {clash.sscc}.")
    reference = _reserve_references(batch.product.brand, prefix, plan.count)
    try:
        with transaction.atomic():
            return Carton.objects.bulk_create(
                Carton(
                    batch=batch,
                    sscc=gs1.sscc(extension, prefix, reference + n),
                    first_position=start,
                    last_position=start + size - 1,
                    packed_by=packed_by,
                )
                for n, start in enumerate(range(first, last + 1, size))
            )
    except IntegrityError:
        raise DistributorError("first_position", "Some of these units were just packed by someone else.") from None


def assign_carton(*, carton: Carton, distributor: Distributor, assigned_by=None) -> Assignment:
    return assign_range(
        batch=carton.batch,
        distributor=distributor,
        first_position=carton.first_position,
        last_position=carton.last_position,
        assigned_by=assigned_by,
        shipment_reference=carton.sscc,
    )


def receive_carton(*, carton: Carton, by=None) -> int:
    """Receiving a carton marks exactly its units received."""
    return _receive(carton, by)


def create_distributor_print_job(*, assignment: Assignment, fmt: str, requested_by=None):
    """Print files of a range a distributor holds, with the format's default options. Files that would carry
    scratch PINs (CSV, PDF of a PIN batch) are the brand's to print, never a distributor's."""
    from codes import printing

    batch = assignment.batch
    if printing.carries_pins(batch=batch, fmt=fmt):
        raise printing.PrintError("format", "This batch has scratch PINs: choose a QR or DataMatrix format.")
    return printing.create_print_job(
        batch=batch,
        fmt=fmt,
        first_position=assignment.first_position,
        last_position=assignment.last_position,
        requested_by=requested_by,
    )
