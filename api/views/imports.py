"""Code import: serials made elsewhere, registered as a batch."""

from . import router  # noqa: F401
