"""What a brand's plan allows, measured against what it uses. Checked inside the use cases (order a batch,
create print files), under a lock on the brand row, so form, command, API and worker all obey the same
limits and two orders at once cannot both slip under a limit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Sum
from django.utils import timezone

from brands.apikeys import calls_today
from brands.models import Brand, Membership, Role
from brands.plans import DEFAULT_PLAN, Plan, plan_named

from .models import BatchState, CodeBatch, PrintFile, PrintJob, PrintState

# Bytes a print file takes per code, measured on 300-code jobs (csv 208, qr-svg 861, qr-png 553, datamatrix 350,
# pdf 566): a job reserves its estimate from the moment it is queued, so forty large jobs queued at once can no
# longer all slip under a storage limit that only finished files were counted against.
BYTES_PER_CODE = {"csv": 210, "qr-svg": 870, "qr-png": 560, "datamatrix": 350, "pdf": 570}
LIVE_PRINT_STATES = (PrintState.QUEUED, PrintState.RENDERING, PrintState.FINISHING)


@dataclass(frozen=True)
class Usage:
    label: str
    used: int | None  # None: a limit per request, or a counter that cannot be read now (Redis down)
    limit: int | None


def month_start(now: datetime | None = None) -> datetime:
    now = timezone.localtime(now)
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def trial_brands(brand: Brand) -> list[int]:
    """The trial brands whose owners own `brand` too: one account's trial is one allowance, however many brands it
    creates (a new brand is no fresh trial)."""
    owners = Membership.objects.filter(brand=brand, role=Role.OWNER).values("user_id")
    pooled = Membership.objects.filter(user_id__in=owners, role=Role.OWNER, brand__plan=DEFAULT_PLAN)
    return sorted({brand.pk, *pooled.values_list("brand_id", flat=True)})


def codes_this_month(brand: Brand) -> int:
    """Codes ordered this month: the brand's, or on the trial every trial brand of its owners'."""
    brands = trial_brands(brand) if brand.plan == DEFAULT_PLAN else [brand.pk]
    batches = CodeBatch.objects.filter(product__brand_id__in=brands, created_at__gte=month_start())
    return batches.aggregate(total=Sum("quantity"))["total"] or 0


def live_batches(brand: Brand) -> int:
    return CodeBatch.objects.for_brand(brand).filter(state__in=[BatchState.QUEUED, BatchState.GENERATING]).count()


def estimated_bytes(fmt: str, codes: int) -> int:
    return BYTES_PER_CODE.get(fmt, max(BYTES_PER_CODE.values())) * codes


def live_print_jobs(brand: Brand):
    return PrintJob.objects.for_brand(brand).filter(state__in=LIVE_PRINT_STATES)


def print_storage(brand: Brand) -> int:
    """Bytes the brand's print files take, a job still rendering counted at its estimate (what it reserves)."""
    live = list(live_print_jobs(brand).values_list("pk", "format", "first_position", "last_position"))
    done = PrintFile.objects.for_brand(brand).exclude(job_id__in=[pk for pk, *_ in live])
    reserved = sum(estimated_bytes(fmt, last - first + 1) for _pk, fmt, first, last in live)
    return (done.aggregate(total=Sum("size"))["total"] or 0) + reserved


def order_problem(brand: Brand, quantity: int) -> str | None:
    """Why the brand's plan refuses an order of `quantity` codes now, or None."""
    plan = plan_named(brand.plan)
    if plan.largest_batch is not None and quantity > plan.largest_batch:
        return f"Your {plan.label} plan allows batches of at most {plan.largest_batch:,} codes."
    if plan.codes_per_month is not None:
        used = codes_this_month(brand)
        if used + quantity > plan.codes_per_month:
            left = max(0, plan.codes_per_month - used)
            return (
                f"Your {plan.label} plan allows {plan.codes_per_month:,} codes a month; {used:,} are ordered "
                f"this month, so at most {left:,} more."
            )
    if plan.live_batches is not None and live_batches(brand) >= plan.live_batches:
        return f"Your {plan.label} plan allows {plan.live_batches} batches in progress at once; wait for one to finish."
    return None


def import_allowance(brand: Brand, lines: int) -> tuple[int, str | None]:
    """How many codes of an import of `lines` lines the brand's plan lets it register now, and why not more (None
    when all of them). The lines beyond are refused one by one in the import's report, not the whole file."""
    plan = plan_named(brand.plan)
    if plan.live_batches is not None and live_batches(brand) >= plan.live_batches:
        return 0, f"Your {plan.label} plan allows {plan.live_batches} batches in progress at once; wait for one."
    allowed, why = lines, None
    if plan.largest_batch is not None and plan.largest_batch < allowed:
        allowed = plan.largest_batch
        why = f"Your {plan.label} plan allows batches of at most {plan.largest_batch:,} codes."
    if plan.codes_per_month is not None:
        left = max(0, plan.codes_per_month - codes_this_month(brand))
        if left < allowed:
            allowed = left
            why = f"Your {plan.label} plan allows {plan.codes_per_month:,} codes a month; {left:,} were left."
    return allowed, why


@dataclass(frozen=True)
class OrderLimits:
    """What the plan lets the brand order now, shown before ordering (None: no limit)."""

    plan: Plan
    largest_batch: int | None
    codes_left: int | None  # this month

    @property
    def largest_order(self) -> int | None:
        limits = [n for n in (self.largest_batch, self.codes_left) if n is not None]
        return min(limits) if limits else None


def order_limits(brand: Brand) -> OrderLimits:
    plan = plan_named(brand.plan)
    left = None if plan.codes_per_month is None else max(0, plan.codes_per_month - codes_this_month(brand))
    return OrderLimits(plan, plan.largest_batch, left)


def print_problem(brand: Brand, *, fmt: str = "", codes: int = 0) -> str | None:
    """Why the plan refuses print files of `codes` codes in `fmt` now (their estimated size reserved against the
    storage limit, and the jobs in progress against theirs), or None."""
    plan = plan_named(brand.plan)
    if codes and plan.live_print_jobs is not None and live_print_jobs(brand).count() >= plan.live_print_jobs:
        return (
            f"Your {plan.label} plan allows {plan.live_print_jobs} print jobs in progress at once; "
            "wait for one to finish."
        )
    if plan.print_storage_bytes is None:
        return None
    used, wanted = print_storage(brand), estimated_bytes(fmt, codes) if codes else 0
    if used >= plan.print_storage_bytes or used + wanted > plan.print_storage_bytes:
        return (
            f"Your print files use {used / 1024**2:,.0f} MB of the {plan.print_storage_bytes / 1024**3:.0f} GB of "
            f"print storage in your {plan.label} plan, and these would need about {wanted / 1024**2:,.1f} MB more; "
            "delete old print files, or print fewer codes at once."
        )
    return None


def usage(brand: Brand) -> tuple[Plan, list[Usage]]:
    plan = plan_named(brand.plan)
    return plan, [
        Usage("Codes this month", codes_this_month(brand), plan.codes_per_month),
        Usage("Largest batch", None, plan.largest_batch),
        Usage("Batches in progress", live_batches(brand), plan.live_batches),
        Usage("Print file storage (MB)", print_storage(brand) // 1024**2, _mb(plan.print_storage_bytes)),
        Usage("Print jobs in progress", live_print_jobs(brand).count(), plan.live_print_jobs),
        Usage("API calls today", calls_today(brand), plan.api_calls_per_day),
    ]


def _mb(size: int | None) -> int | None:
    return None if size is None else size // 1024**2
