"""Reads of the distributors app that other places reuse: the portal's scoping and the verify path's lookup."""

from django.db.models import Exists, OuterRef

from codes.models import PrintJob

from .models import Assignment


def _held_by(distributor_id: int):
    """Current assignments of a distributor that cover the outer row's batch positions."""
    return Assignment.objects.filter(
        distributor_id=distributor_id,
        ended_at__isnull=True,
        batch=OuterRef("batch"),
        first_position__lte=OuterRef("first_position"),
        last_position__gte=OuterRef("last_position"),
    )


def portal_print_jobs(actor):
    """Print jobs a distributor's people may download: those wholly inside a range their distributor holds.
    (PrintJob lives below this app, so it cannot name this scope itself; brand actors read it via for_actor.)"""
    return PrintJob.objects.for_brand(actor.brand).filter(Exists(_held_by(actor.distributor_id)))


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
    from django.db.models import F, Sum

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
