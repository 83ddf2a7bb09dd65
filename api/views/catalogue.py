"""Products, lots, batches (idempotent orders), print jobs and their files."""

from . import router  # noqa: F401
