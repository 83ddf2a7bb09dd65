"""Reads of the dashboard's heavy pages from a PostgreSQL read replica (on when DATABASE_REPLICA_URL is set).

Only what a view marks with `reads_from_replica` reads from the replica, and only outside a transaction (reads in
one may be about to write, as a roll-up's are): the verify path, workers and every write stay on the primary,
so a scan is never judged, nor an alert opened, on data the replica has not caught up with yet. The view's
access checks run before the mark, on the primary: a session made a moment ago is always found.
"""

import functools
from contextvars import ContextVar

from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"
_reading_from_replica: ContextVar[bool] = ContextVar("reading_from_replica", default=False)


def reads_from_replica(view):
    """Decorate a read-only view (under its access checks): its queries go to the replica when there is one."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        token = _reading_from_replica.set(True)
        try:
            return view(request, *args, **kwargs)
        finally:
            _reading_from_replica.reset(token)

    return wrapped


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if _reading_from_replica.get() and not connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return REPLICA
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the same data on both

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS  # the replica follows the primary's schema by replication
