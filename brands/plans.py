"""Plans: what a brand may use. Named here (code, not rows) so every service, form and command agrees.

`None` means no limit. Operators move a brand with `python manage.py set_plan --brand SLUG PLAN`.
"""

from __future__ import annotations

from dataclasses import dataclass

GB = 1024**3


@dataclass(frozen=True)
class Plan:
    name: str
    label: str
    codes_per_month: int | None
    largest_batch: int | None
    live_batches: int | None  # batches queued or generating at once
    print_storage_bytes: int | None
    api_calls_per_day: int | None
    live_print_jobs: int | None = None  # print jobs queued or rendering at once


PLANS: dict[str, Plan] = {
    plan.name: plan
    for plan in (
        Plan("trial", "Trial", 100_000, 50_000, 2, 1 * GB, 10_000, 3),
        Plan("standard", "Standard", 2_000_000, 1_000_000, 5, 50 * GB, 200_000, 10),
        Plan("enterprise", "Enterprise", 50_000_000, 10_000_000, 20, 1000 * GB, 5_000_000, 50),
        Plan("unlimited", "Unlimited (demo and operators)", None, None, None, None, None),
    )
}
DEFAULT_PLAN = "trial"


def plan_named(name: str) -> Plan:
    """The brand's plan; an unknown name (a plan retired from the code) falls back to the trial's limits."""
    return PLANS.get(name, PLANS[DEFAULT_PLAN])
