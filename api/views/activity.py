"""Scans (filters, CSV) and alerts (list, workflow)."""

from . import router  # noqa: F401
