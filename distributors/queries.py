"""Reads of the distributors app that other places reuse: receipts and holders of ranges and cartons, and the
verify path's lookup (what a distributor sees is scoped in models: `held_by`, applied by `for_actor`)."""

from django.db.models import BooleanField, Case, Exists, ExpressionWrapper, F, OuterRef, Subquery, Sum, When
from django.db.models.functions import Coalesce

from .models import Assignment, Carton


def with_receipt(rows):
    """Assignments or cartons annotated with `all_received`: the row, or what it is made of, was received by its
    holder, so "Mark as received" has nothing left to do. Read from the receipts of the rows, never the units'
    own `received_at`: that is their first receipt ever, and a range moved to another distributor keeps it."""
    if rows.model is Carton:
        range_received = Assignment.objects.filter(
            ended_at__isnull=True,
            received_at__isnull=False,
            batch=OuterRef("batch"),
            first_position__lte=OuterRef("first_position"),
            last_position__gte=OuterRef("last_position"),
        )
        received = Case(When(received_at__isnull=False, then=True), default=Exists(range_received))
        return rows.annotate(all_received=ExpressionWrapper(received, output_field=BooleanField()))
    # A range is received once cartons covering all of it were received after it was assigned (cartons of a
    # batch never overlap, so their sizes add up).
    in_received_cartons = (
        Carton.objects.filter(
            batch=OuterRef("batch"),
            first_position__gte=OuterRef("first_position"),
            last_position__lte=OuterRef("last_position"),
            received_at__gte=OuterRef("assigned_at"),
        )
        .values("batch")
        .annotate(units=Sum(F("last_position") - F("first_position") + 1))
        .values("units")
    )
    return rows.alias(units_in_received_cartons=Coalesce(Subquery(in_received_cartons), 0)).annotate(
        all_received=Case(
            When(received_at__isnull=False, then=True),
            When(ended_at__isnull=False, then=False),
            When(units_in_received_cartons=F("last_position") - F("first_position") + 1, then=True),
            default=False,
            output_field=BooleanField(),
        )
    )


def with_holder(cartons):
    """Cartons annotated with the distributor holding all their units now (`holder_id`, `holder_name`), if one does."""
    holding = Assignment.objects.filter(
        ended_at__isnull=True,
        batch=OuterRef("batch"),
        first_position__lte=OuterRef("first_position"),
        last_position__gte=OuterRef("last_position"),
    )
    return cartons.annotate(
        holder_id=Subquery(holding.values("distributor_id")[:1]),
        holder_name=Subquery(holding.values("distributor__name")[:1]),
    )


def current_ranges(batch_ids: list[int]) -> list[tuple[int, int, int, int, list[str]]]:
    """(batch id, first, last, distributor id, territory) of every current assignment of these batches, for
    the verify path's per-process product cache: one query on the partial index of current assignments."""
    if not batch_ids:
        return []
    return list(
        Assignment.objects.filter(batch_id__in=batch_ids, ended_at__isnull=True)
        .order_by("batch_id", "first_position")
        .values_list("batch_id", "first_position", "last_position", "distributor_id", "distributor__territory")
    )


def units_held(brand) -> dict[int, int]:
    """{distributor id: units it holds now} for a brand (one grouped query)."""
    rows = (
        Assignment.objects.for_brand(brand)
        .filter(ended_at__isnull=True)
        .values("distributor_id")
        .annotate(units=Sum(F("last_position") - F("first_position") + 1))
    )
    return {row["distributor_id"]: row["units"] for row in rows}


def holder_of(batch, position: int):
    """The current assignment holding one position of a batch (with its distributor), or None."""
    return (
        Assignment.objects.filter(
            batch=batch, ended_at__isnull=True, first_position__lte=position, last_position__gte=position
        )
        .select_related("distributor")
        .first()
    )
