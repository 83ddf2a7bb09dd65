"""Reads of the distributors app that other places reuse: the portal's scoping and the verify path's lookup."""

from django.db.models import BigIntegerField, BooleanField, Case, Exists, ExpressionWrapper, OuterRef, Subquery, When

from codes.models import Code, PrintJob

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


def _unreceived_units():
    """Units at the outer row's positions (an assignment's or a carton's) that nobody has marked received."""
    before_first = OuterRef("batch__first_ordinal") - 1  # ordinal = batch's first ordinal + position - 1
    return Code.objects.filter(
        product_id=OuterRef("batch__product_id"),
        ordinal__gte=ExpressionWrapper(before_first + OuterRef("first_position"), output_field=BigIntegerField()),
        ordinal__lte=ExpressionWrapper(before_first + OuterRef("last_position"), output_field=BigIntegerField()),
        received_at__isnull=True,
    )


def with_receipt(rows):
    """Assignments or cartons annotated with `all_received`: every unit is received, whether through the row
    itself, the cartons inside a range or the range around a carton (then "Mark as received" has nothing left
    to do). The row's own date answers first; only the rest look at the units, on the (product, ordinal) index."""
    cases = [When(received_at__isnull=False, then=True)]
    if rows.model is Assignment:  # an ended range's units may have moved on and been received elsewhere
        cases.append(When(ended_at__isnull=False, then=False))
    return rows.annotate(all_received=Case(*cases, default=~Exists(_unreceived_units()), output_field=BooleanField()))


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
