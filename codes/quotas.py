"""What a brand's plan allows, measured against what it uses. Checked inside the use cases (order a batch,
create print files), under a lock on the brand row, so form, command, API and worker all obey the same
limits and two orders at once cannot both slip under a limit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Sum
from django.utils import timezone

from brands.models import Brand
from brands.plans import Plan, plan_named

from .models import BatchState, CodeBatch, PrintFile


@dataclass(frozen=True)
class Usage:
    label: str
    used: int | None  # None: a limit per request, or not metered yet (API calls: there is no API yet)
    limit: int | None


def month_start(now: datetime | None = None) -> datetime:
    now = timezone.localtime(now)
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def codes_this_month(brand: Brand) -> int:
    batches = CodeBatch.objects.for_brand(brand).filter(created_at__gte=month_start())
    return batches.aggregate(total=Sum("quantity"))["total"] or 0


def live_batches(brand: Brand) -> int:
    return CodeBatch.objects.for_brand(brand).filter(state__in=[BatchState.QUEUED, BatchState.GENERATING]).count()


def print_storage(brand: Brand) -> int:
    return PrintFile.objects.for_brand(brand).aggregate(total=Sum("size"))["total"] or 0


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


def print_problem(brand: Brand) -> str | None:
    plan = plan_named(brand.plan)
    if plan.print_storage_bytes is not None and print_storage(brand) >= plan.print_storage_bytes:
        return (
            f"Your print files use all the storage of your {plan.label} plan "
            f"({plan.print_storage_bytes / 1024**3:.0f} GB); delete old print files first."
        )
    return None


def usage(brand: Brand) -> tuple[Plan, list[Usage]]:
    plan = plan_named(brand.plan)
    return plan, [
        Usage("Codes this month", codes_this_month(brand), plan.codes_per_month),
        Usage("Largest batch", None, plan.largest_batch),
        Usage("Batches in progress", live_batches(brand), plan.live_batches),
        Usage("Print file storage (MB)", print_storage(brand) // 1024**2, _mb(plan.print_storage_bytes)),
        Usage("API calls a day", None, plan.api_calls_per_day),
    ]


def _mb(size: int | None) -> int | None:
    return None if size is None else size // 1024**2
