"""Load what every request may need before a web worker takes its first one.

gunicorn (gunicorn.conf.py) calls `warm()` once in the master after loading the app: the workers it then
forks share the loaded data copy-on-write, so no consumer waits for location data, URL patterns, templates,
translation catalogues or the products people scan (verify's own warm-up: scans/warmup.py). `gc.freeze()` then
moves these long-lived objects out of the collector's sight: full collections otherwise walk their millions
of objects and stall a request now and then (the slow tail).
"""

import gc
import logging
import time

log = logging.getLogger(__name__)


def warm() -> float:
    """Warm the process; returns the seconds it took."""
    started = time.perf_counter()
    from django.db import connections

    from scans.warmup import warm_verify

    warm_verify()
    connections.close_all()  # never share a database connection with forked workers
    gc.collect()
    gc.freeze()
    seconds = time.perf_counter() - started
    log.info("warmed up", extra={"seconds": round(seconds, 3)})
    return seconds


def connect_worker() -> None:
    """In each new worker, before its first request: open its database and cache connections (verify's with
    the hot path's statement run once and its cached products fresh)."""
    from django.core.cache import cache

    from scans.warmup import connect_worker as connect_verify

    connect_verify()
    try:
        cache.get("serialize:warm-up")
    except Exception:  # noqa: BLE001 - the cache being down must not stop a worker; verify fails open without it
        log.warning("cache unavailable at worker start")
