"""Start-up guard for processes that do not run Django's system checks themselves (gunicorn, celery)."""

import logging

from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError

log = logging.getLogger(__name__)


def refuse_bad_configuration() -> None:
    """Raise ImproperlyConfigured naming every bad setting; then check MASTER_KEY against the database
    (a database that is down now is not a configuration error: /healthz reports it)."""
    errors = [e for e in checks.run_checks() if e.is_serious() and str(e.id).startswith("serialize.")]
    if errors:
        raise ImproperlyConfigured("\n".join(f"{e.id}: {e.msg} {e.hint or ''}".strip() for e in errors))
    from django.conf import settings

    if settings.EMBEDDED:
        return
    from .masterkey import MasterKeyError, verify_master_key

    try:
        verify_master_key()
    except MasterKeyError as exc:
        raise ImproperlyConfigured(f"serialize.E005: {exc}") from exc
    except DatabaseError:
        log.warning("master key not checked at start-up: the database is not answering (yet)")
