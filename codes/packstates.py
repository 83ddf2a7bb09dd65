"""Which pack-state changes are allowed: pure rules after the EU FMD repository system (no Django).

Delegated Regulation (EU) 2016/161, Art. 13: reverting a decommissioned unit to active is allowed only
within ten days of the decommissioning, and never for a unit that was recalled, withdrawn, stolen,
destroyed or has expired (expiry is derived from the lot, never stored; see `scans.rules.effective_status`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

ACTIVE = "active"
RECALLED = "recalled"
UNDO_WINDOW = timedelta(days=10)
# No way back out of these, and nothing else may be written over them.
FINAL = frozenset({"recalled", "withdrawn", "stolen", "destroyed"})
STATES = frozenset(
    {
        "active",
        "supplied",
        "dispensed",
        "decommissioned",
        "destroyed",
        "exported",
        "stolen",
        "sample",
        "free_sample",
        "locked",
        "checked_out",
        "recalled",
        "withdrawn",
    }
)


def unchangeable_from(to_status: str) -> frozenset[str]:
    """States a unit is left in when a change to `to_status` sweeps over it (so a repeat changes nothing)."""
    return FINAL | {to_status}


def can_change_to(to_status: str) -> bool:
    return to_status in STATES and to_status != ACTIVE  # back to active only by undoing a change


def undo_refusal(to_status: str, changed_at: datetime, now: datetime, *, already_undone: bool) -> str | None:
    """Why a change cannot be undone, or None when it can."""
    if already_undone:
        return "This change was already undone."
    if to_status in FINAL:
        return f"Units cannot come back from {to_status}: that state is final."
    if now - changed_at > UNDO_WINDOW:
        return "Changes can only be undone within 10 days."
    return None
