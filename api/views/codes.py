"""Codes (lookup, list, status changes, bulk changes) and recalls."""

from . import router  # noqa: F401
