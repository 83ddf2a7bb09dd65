"""Activation: a batch, a range of its positions or a carton goes live when it is marked applied (by the brand or
its packaging line) or, for brands that choose it, received by a distributor. Until then its codes verify as
"not yet activated", never "authentic", so a print file that leaks before any label exists is worth nothing.

An activation is a status change to `active` of the units not yet activated: `codes.recalls` sweeps them with
set-based UPDATEs (one per chunk of ordinals) and its StatusChange is the audit trail (who, when, which
positions, how many, from which states). A repeat finds nothing left to activate and records nothing.
"""

from django.conf import settings

from brands.models import Brand

from . import packstates, recalls
from .models import Code, CodeBatch, StatusChange

APPLIED = "Labels applied"


def activate(
    *,
    brand: Brand,
    batch: CodeBatch,
    first_position: int | None = None,
    last_position: int | None = None,
    by=None,
    reason: str = APPLIED,
    enqueue: bool = True,
) -> StatusChange | None:
    """Activate positions [first_position, last_position] (1-based, inclusive, print order; the whole batch by
    default). A scope of one chunk or less (a carton, a line's run) is live when this returns; a larger one is
    handed to a worker with `enqueue`, and applied here, chunk by chunk, without. None when no unit in scope was
    waiting for activation (a repeat, or a range already live)."""
    change = recalls.new_change(
        brand=brand,
        to_status=packstates.ACTIVE,
        reason=reason,
        created_by=by,
        batch=batch,
        first_position=first_position,
        last_position=last_position,
    )
    [(first, end)] = recalls.ordinal_ranges(change)
    waiting = Code.objects.filter(
        product_id=batch.product_id, ordinal__gte=first, ordinal__lt=end, status=packstates.NOT_ACTIVATED
    )
    if not waiting.exists():
        return None
    in_a_worker = enqueue and change.quantity > settings.CODES_CHUNK_SIZE
    recalls.save_change(change, enqueue=in_a_worker)
    # Applied here: each chunk commits with the change's progress, so a stop half-way leaves an audit entry that
    # says how far it got, and a repeat activates the rest.
    return change if in_a_worker else recalls.apply_change(change.pk)
