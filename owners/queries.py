"""Reads of registrations for the brand: counts by product, region and month and consent rates (no person in
them: `owners.stats`), and the registration rate the overview shows. A fixed number of queries whatever the count.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, DateTimeField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, NullIf, TruncMonth

from codes.models import Product
from distributors.territory import region_label
from scans.follow_up import REGISTER_TOKEN_MAX_AGE
from scans.models import Scan

from .models import Consent, Purpose, Registration

# A registration's scan is at most a registration link's life before it (plus a margin for clocks): the scan
# log is partitioned by month, and the window lets PostgreSQL read only the partitions it can lie in.
SCAN_WINDOW = timedelta(seconds=REGISTER_TOKEN_MAX_AGE) + timedelta(hours=1)


@dataclass
class RegistrationStats:
    total: int  # registered units, erased ones included (the unit stays registered)
    erased: int = 0  # of them, those whose owner's details were erased: no answers left to count
    by_product: list[dict] = field(default_factory=list)  # {"product", "registrations"}, most first
    by_region: list[dict] = field(default_factory=list)  # {"code", "name", "registrations"}, most first
    by_month: list[dict] = field(default_factory=list)  # {"month" (a date, the 1st), "registrations"}, oldest first
    # {"purpose", "label", "given", "rate"}, as Purpose orders: owners whose latest answer is yes, of those not erased
    consents: list[dict] = field(default_factory=list)


def _scan_region():
    """The region (else the country) of the scan whose page opened the registration; None when the
    registration names no scan or its month of the log is gone."""
    registered_at = OuterRef("registered_at")
    scans = Scan.objects.filter(
        pk=OuterRef("scan_id"),
        brand=OuterRef("brand_id"),
        scanned_at__gte=ExpressionWrapper(registered_at - SCAN_WINDOW, output_field=DateTimeField()),
        scanned_at__lte=registered_at,
    ).values(iso_place=Coalesce(NullIf("region_code", Value("")), NullIf("country_code", Value(""))))
    return Subquery(scans.order_by()[:1])  # one scan by id: the log's default newest-first sort is a waste


def first_region(seen_regions: str | None) -> str:
    """The first place a unit was scanned from: the first entry of its detection set (kept in scan order)."""
    return (seen_regions or "").split(";", 1)[0]


def by_region(registrations: QuerySet) -> Counter[str]:
    """Registrations per ISO 3166 code ('' unknown): the region of the scan that opened each, else the region
    of its unit's first scan. Grouped in SQL; only the fallback's first entry is taken here."""
    rows = (
        registrations.annotate(scan_place=_scan_region())
        .values("scan_place", "code__seen_regions")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: Counter[str] = Counter()
    for row in rows:
        counts[row["scan_place"] or first_region(row["code__seen_regions"])] += row["n"]
    return counts


def current_answers(registrations: QuerySet) -> QuerySet:
    """The answer that holds for each purpose of each registration: its latest (a withdrawal is a newer answer)."""
    newer = Consent.objects.filter(registration=OuterRef("registration"), purpose=OuterRef("purpose")).filter(
        Q(at__gt=OuterRef("at")) | Q(at=OuterRef("at"), pk__gt=OuterRef("pk"))
    )
    return Consent.objects.filter(registration__in=registrations).exclude(Exists(newer))


def registration_stats(registrations: QuerySet) -> RegistrationStats:
    """Counts over `registrations` (already scoped to the actor and filtered): five queries."""
    products = Counter(
        {
            row["code__product_id"]: row["n"]
            for row in registrations.values("code__product_id").annotate(n=Count("id")).order_by()
        }
    )
    names = Product.objects.in_bulk(list(products))
    months = (
        registrations.annotate(month=TruncMonth("registered_at"))
        .values("month")
        .annotate(n=Count("id"))
        .order_by("month")
    )
    given = dict(
        current_answers(registrations)
        .filter(given=True)
        .values("purpose")
        .annotate(n=Count("id"))
        .values_list("purpose", "n")
    )
    total = sum(products.values())
    erased = registrations.filter(erased_at__isnull=False).count() if total else 0
    answered = total - erased
    return RegistrationStats(
        total=total,
        erased=erased,
        by_product=[{"product": names[p], "registrations": n} for p, n in products.most_common() if p in names],
        by_region=[
            {"code": code, "name": region_label(code) or "Unknown place", "registrations": n}
            for code, n in by_region(registrations).most_common()
        ],
        by_month=[{"month": row["month"].date(), "registrations": row["n"]} for row in months],
        consents=[
            {
                "purpose": purpose.value,
                "label": purpose.label,
                "given": given.get(purpose.value, 0),
                "rate": given.get(purpose.value, 0) / answered if answered else None,
            }
            for purpose in Purpose
        ],
    )


def marketing_audience(registrations: QuerySet) -> QuerySet:
    """Registrations, not erased, whose owner's latest answer about marketing is yes (a withdrawal is a newer
    no): the only owners a brand may market to, annotated with when they agreed (`marketing_at`)."""
    latest = Consent.objects.filter(registration=OuterRef("pk"), purpose=Purpose.MARKETING).order_by("-at", "-pk")
    return (
        registrations.filter(erased_at__isnull=True)
        .annotate(marketing=Subquery(latest.values("given")[:1]), marketing_at=Subquery(latest.values("at")[:1]))
        .filter(marketing=True)
    )


@dataclass(frozen=True)
class RegistrationRate:
    registered: int  # of the units below, those registered since
    first_scanned: int  # units scanned for the first time in the window
    rate: float | None


def registration_rate(brand, *, since: datetime, first_scanned: int) -> RegistrationRate:
    """Of the units first scanned since `since` (counted by the overview from its rollups), how many were
    registered: registration is offered on a unit's verify page, so a unit nobody scanned could not be."""
    registered = Registration.objects.for_brand(brand).filter(code__first_scanned_at__gte=since).count()
    return RegistrationRate(registered, first_scanned, registered / first_scanned if first_scanned else None)
