"""Load what every request may need before a web worker takes its first one.

gunicorn (gunicorn.conf.py) calls `warm()` once in the master after loading the app: the workers it then
forks share the loaded data copy-on-write, so no consumer waits for location data, URL patterns, templates,
translation catalogues or the products people scan (the verify path's product cache). `gc.freeze()` then
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
    from django.conf import settings
    from django.db import DatabaseError, connections
    from django.http import HttpRequest, JsonResponse
    from django.http.request import split_domain_port
    from django.template.loader import get_template
    from django.urls import resolve
    from django.utils import translation
    from ua_parser import parse_device, parse_user_agent

    import scans.views
    from scans.geo import default_locator
    from scans.salts import daily_salt
    from scans.services import warm_connection, warm_product_cache

    locator = default_locator(settings.GEOIP_CITY_DB)
    locator.preload()
    locator.from_ip("175.139.1.1")  # the first lookup builds the region tables too
    locator.from_coordinates(3.139, 101.687)
    agent = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile"
    parse_user_agent(agent), parse_device(agent)  # ua-parser compiles its regexes on first use
    scans.views.is_crawler(agent)
    # Django compiles its Accept-Language pattern on first use, and looks each language's catalogue up once.
    request = HttpRequest()
    request.META["HTTP_ACCEPT_LANGUAGE"] = ",".join(code for code, _name in settings.LANGUAGES)
    translation.get_language_from_request(request)
    split_domain_port("verify.example.com")  # and the Host header's
    answer = JsonResponse({"authentic": True})  # the JSON encoder, the charset pattern, cookie dates
    answer.set_cookie("warm-up", "1", max_age=60)
    resolve("/01/09506000134352/21/WARMUP")
    daily_salt()  # memoised per process: forked workers inherit today's IP-hash salt
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            get_template("scans/verify.html")
            translation.gettext("Authentic")
    try:
        log.info("products cached", extra={"products": warm_product_cache()})
        warm_connection()
    except DatabaseError:  # not migrated yet, or the database is down: workers load products on first scan
        log.warning("products not cached at start-up", exc_info=True)
    connections.close_all()  # never share a database connection with forked workers
    gc.collect()
    gc.freeze()
    seconds = time.perf_counter() - started
    log.info("warmed up", extra={"seconds": round(seconds, 3)})
    return seconds


def connect_worker() -> None:
    """In each new worker, before its first request: open its database and cache connections (the database's
    with the hot path's statement run once), and reload the cached products if the master loaded them too long
    ago (a worker replacing a recycled one)."""
    from django.core.cache import cache
    from django.db import connection

    from scans.services import product_cache, warm_connection

    connection.ensure_connection()
    warm_connection()
    product_cache.reload_stale()
    try:
        cache.get("serialize:warm-up")
    except Exception:  # noqa: BLE001 - the cache being down must not stop a worker; verify fails open without it
        log.warning("cache unavailable at worker start")
