"""Reads of the distributors app that other places reuse: the portal's scoping and the verify path's lookup."""

from django.db.models import Exists, OuterRef

from codes.models import PrintJob

from .models import Assignment, Carton


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
    """Print jobs a distributor's people may download: those wholly inside a range their distributor holds."""
    return PrintJob.objects.for_brand(actor.brand).filter(Exists(_held_by(actor.distributor_id)))


def portal_cartons(actor):
    """Cartons inside a range the actor's distributor holds now."""
    return Carton.objects.for_brand(actor.brand).filter(Exists(_held_by(actor.distributor_id)))


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
