"""Positions in a batch: 1-based, in print order. A range is [first_position, last_position], both inclusive.

Every range a person asks for (a print job, an export, a distributor's assignment, a move, cartons) passes the
one check below, so each says the same thing about the same mistake.
"""

from __future__ import annotations

from core.errors import ServiceError

from .models import CodeBatch


def check_range(
    batch: CodeBatch,
    first_position: int | None = None,
    last_position: int | None = None,
    *,
    error: type[ServiceError] = ServiceError,
) -> tuple[int, int]:
    """The range [first_position, last_position] of a batch, an end not given being the batch's own; `error`
    (a ServiceError subclass, the caller's family) naming `first_position` or `last_position` otherwise."""
    first = 1 if first_position is None else first_position
    last = batch.quantity if last_position is None else last_position
    if not 1 <= first <= batch.quantity:
        raise error("first_position", f"From must be between 1 and {batch.quantity:,}.")
    if not 1 <= last <= batch.quantity:
        raise error("last_position", f"To must be between 1 and {batch.quantity:,}.")
    if first > last:
        raise error("last_position", "To must not be before From.")
    return first, last
