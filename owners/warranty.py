"""When a unit's warranty ends (no Django imports)."""

import calendar
from datetime import date


def add_months(start: date, months: int) -> date:
    """The same day `months` later, or that month's last day (31 January + 1 month = 28/29 February)."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def warranty_ends(*, purchased_on: date | None, registered_on: date, months: int | None) -> date | None:
    """From the date of purchase when the owner gave it, else from registration; None without a warranty."""
    if not months:
        return None
    return add_months(purchased_on or registered_on, months)
