"""Distributors, assignments (assign, move, return) and cartons (pack, receive)."""

from . import router  # noqa: F401
