"""Warming verify up before a web worker takes its first scan (serialize_saas/warmup.py runs it in gunicorn's
master, whose forked workers share what it loaded, and once more in each worker for its own connection)."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Sum
from django.http import HttpRequest, JsonResponse
from django.http.request import split_domain_port
from django.template.loader import get_template
from django.urls import resolve, reverse
from django.utils import timezone, translation
from ua_parser import parse_device, parse_user_agent

from codes.models import BatchState, CodeBatch, Product

from . import views
from .context import ScanContext, Sighting
from .detection import thresholds_cache
from .geo import default_locator
from .models import DailyScans, Scan, ScanOutcome, ScanSource
from .products import product_cache
from .salts import daily_salt
from .verify import count_statement, run_and_log

log = logging.getLogger(__name__)
WARM_PRODUCTS = 200
# A scan's Digital Link as the warm-up resolves it (a made-up serial: nothing is read or counted).
WARM_LINK = "09506000134352/21/WARMUP"


def warm_verify() -> None:
    """Load what every scan may need: location data, user-agent patterns, the verify route, page and
    catalogues, today's IP-hash salt, the products people scan and the hot path's statement."""
    locator = default_locator(settings.GEOIP_CITY_DB)
    locator.preload()
    locator.from_ip("175.139.1.1")  # the first lookup builds the region tables too
    locator.from_coordinates(3.139, 101.687)
    agent = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile"
    parse_user_agent(agent), parse_device(agent)  # ua-parser compiles its regexes on first use
    views.is_crawler(agent)
    # Django compiles its Accept-Language pattern on first use, and looks each language's catalogue up once.
    request = HttpRequest()
    request.META["HTTP_ACCEPT_LANGUAGE"] = ",".join(code for code, _name in settings.LANGUAGES)
    translation.get_language_from_request(request)
    split_domain_port("verify.example.com")  # and the Host header's
    answer = JsonResponse({"authentic": True})  # the JSON encoder, the charset pattern, cookie dates
    answer.set_cookie("warm-up", "1", max_age=60)
    resolve(reverse("verify", kwargs={"rest": WARM_LINK}))
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


def connect_worker() -> None:
    """In a new worker, before its first scan: open its database connection with the hot path's statement run
    once, and reload the cached products if the master loaded them too long ago (a worker replacing a recycled
    one)."""
    connection.ensure_connection()
    warm_connection()
    product_cache.reload_stale()


def warm_product_cache(limit: int = WARM_PRODUCTS) -> int:
    """Load the products consumers are likely to scan next into the cache, so that no scan waits for one:
    those scanned most in the last week (the rollups), then those of the newest ready batches."""
    since = timezone.localdate() - timedelta(days=7)
    scanned = (
        DailyScans.objects.filter(day__gte=since, product__isnull=False)
        .values("product_id")
        .annotate(total=Sum("scans"))
        .order_by("-total")
        .values_list("product_id", flat=True)[:limit]
    )
    recent = (
        CodeBatch.objects.filter(state=BatchState.READY).order_by("-pk").values_list("product_id", flat=True)[:limit]
    )
    wanted = list(dict.fromkeys([*scanned, *recent]))[:limit]
    lookups = [key for pair in Product.objects.filter(pk__in=wanted).values_list("gtin", "ref") for key in pair if key]
    for lookup in lookups:
        info = product_cache.get(lookup)
        if info is not None:
            thresholds_cache.get(info.brand.pk)
            info.codec.ordinal(info.codec.serial(1))  # builds the cipher context a scan's decryption reuses
    return len(lookups)


def warm_connection() -> None:
    """Run the hot path's count-and-log statement once, matching no code, and roll it back: a new PostgreSQL
    connection reads the catalogue of every table and index it touches on first use (tens of milliseconds a
    consumer would otherwise wait for), and Python builds the statement's text and field lists once."""
    if connection.vendor != "postgresql":
        return
    context = ScanContext(ip_hash="", place=None, user_agent_family="", source=ScanSource.API)
    with transaction.atomic():
        scan = Scan(scanned_at=timezone.now(), source=context.source, outcome=ScanOutcome.NOT_RECOGNISED)
        sighting = Sighting.of(context, scan.scanned_at) if settings.DETECTION_ENABLED else None
        code = {"product_id": 0, "ordinal": -1, "serial": "", "brand_id": 0}
        run_and_log(count_statement(code, scan, sighting), scan, expired=False)
        transaction.set_rollback(True)
