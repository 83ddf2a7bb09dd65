"""Which pack-state changes are allowed: pure rules after the EU FMD repository system (no Django).

Delegated Regulation (EU) 2016/161, Art. 13: reverting a decommissioned unit to active is allowed only
within ten days of the decommissioning, and never for a unit that was recalled, withdrawn, stolen,
destroyed or has expired (expiry is derived from the lot, never stored; see `scans.rules.effective_status`).

A unit starts `not_activated` (EPCIS: encoded, not yet commissioned): its label may exist, but it is on no
product the brand released. Activation (marking a batch, range or carton applied, or a distributor's receipt)
is the only way from there to `active`; other changes leave such units as they are, except the final states
(a leaked, never-applied batch may still be destroyed or recalled).
"""

from __future__ import annotations

from datetime import datetime, timedelta

# The pack states a unit can be stored in: every other module (the `CodeStatus` choices, the verify rules)
# takes the names and groups from here.
ACTIVE = "active"
SUPPLIED = "supplied"
DISPENSED = "dispensed"
DECOMMISSIONED = "decommissioned"
DESTROYED = "destroyed"
EXPORTED = "exported"
STOLEN = "stolen"
SAMPLE = "sample"
FREE_SAMPLE = "free_sample"
LOCKED = "locked"
CHECKED_OUT = "checked_out"
RECALLED = "recalled"
WITHDRAWN = "withdrawn"
NOT_ACTIVATED = "not_activated"
STATES = frozenset(
    {
        ACTIVE,
        SUPPLIED,
        DISPENSED,
        DECOMMISSIONED,
        DESTROYED,
        EXPORTED,
        STOLEN,
        SAMPLE,
        FREE_SAMPLE,
        LOCKED,
        CHECKED_OUT,
        RECALLED,
        WITHDRAWN,
        NOT_ACTIVATED,
    }
)
# Derived from the lot's expiry date when a unit is read, never stored (see `scans.rules.effective_status`).
EXPIRED = "expired"

UNDO_WINDOW = timedelta(days=10)
# No way back out of these, and nothing else may be written over them.
FINAL = frozenset({RECALLED, WITHDRAWN, STOLEN, DESTROYED})
# Units that must not be sold: the verify page warns of them by name (the other unsaleable states it names only
# as "not for sale").
WARNED = FINAL | {EXPIRED}
# Units that should no longer circulate: a scan of one is late (detection).
OUT_OF_CIRCULATION = FINAL | {EXPIRED, DECOMMISSIONED}


def unchangeable_from(to_status: str) -> frozenset[str]:
    """States a unit is left in when a change to `to_status` sweeps over it (so a repeat changes nothing)."""
    if to_status in FINAL:
        return FINAL | {to_status}
    return FINAL | {to_status, NOT_ACTIVATED}  # never applied, so never sold: only a final state overrides it


def only_from(to_status: str) -> frozenset[str] | None:
    """The only states a change to `to_status` moves units out of, when it is that narrow (None: any state but
    `unchangeable_from`). Activation moves units not yet activated, and nothing else, to active."""
    return frozenset({NOT_ACTIVATED}) if to_status == ACTIVE else None


def moves(from_status: str, to_status: str) -> bool:
    """Whether a change to `to_status` moves a unit that is in `from_status` (else it is left as it is)."""
    only = only_from(to_status)
    if only is not None:
        return from_status in only
    return from_status not in unchangeable_from(to_status)


def refusal(from_status: str, to_status: str) -> str | None:
    """Why a change to `to_status` leaves a unit in `from_status` as it is, in pack-state words; None: it moves."""
    if moves(from_status, to_status):
        return None
    if from_status == to_status:
        return f"The unit is already {to_status}."
    if from_status in FINAL:
        return f"The unit is {from_status}: that state is final."
    only = only_from(to_status)
    if only is not None:
        return f"Only units that are {', '.join(sorted(only))} can be set to {to_status}."
    return (
        f"The unit is {from_status}: only a final state ({', '.join(sorted(FINAL))}) can be set before it is activated."
    )


def can_change_to(to_status: str) -> bool:
    """Whether a status change may be asked for this state. Back to active only by undoing a change or by
    activation (`codes.activation`); back to not activated only by undoing an activation."""
    return to_status in STATES and to_status not in (ACTIVE, NOT_ACTIVATED)


def undo_refusal(to_status: str, changed_at: datetime, now: datetime, *, already_undone: bool) -> str | None:
    """Why a change cannot be undone, or None when it can."""
    if already_undone:
        return "This change was already undone."
    if to_status in FINAL:
        return f"Units cannot come back from {to_status}: that state is final."
    if now - changed_at > UNDO_WINDOW:
        return "Changes can only be undone within 10 days."
    return None
