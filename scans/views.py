"""Public verify pages: hostile territory. Every failure is cheap, looks the same, and never a 500."""

import functools
import logging
from urllib.parse import urlsplit

from crawlerdetect import CrawlerDetect
from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from ua_parser import parse_device, parse_user_agent

from codes import gs1
from core import ratelimit

from . import follow_up, metrics, resolution, resolver, wording
from . import verify as verifying
from .context import ScanContext, device_id
from .forms import CounterfeitReportForm, PreciseLocationForm
from .geo import client_ip, default_locator, ip_hash, rate_limit_subjects
from .models import ScanSource
from .salts import daily_salt

log = logging.getLogger(__name__)


def _ip(request) -> str:
    return client_ip(
        request.META.get("REMOTE_ADDR", ""), request.META.get("HTTP_X_FORWARDED_FOR"), settings.TRUSTED_PROXIES
    )


def _ip_hash(request) -> str:
    return ip_hash(_ip(request), daily_salt())


def _allow(scope: str, ip: str, rate: str) -> bool:
    """Count a hit per client network: an IPv4 address; an IPv6 /64 at `rate` and its /56 (one customer's
    delegation) at IPV6_PREFIX_RATE_FACTOR times `rate`, so many phones of a carrier's /56 are not one client."""
    if ratelimit.parse_rate(rate) is None:
        return True  # limiting is off (load tests): nothing to count
    allowed = True
    for n, subject in enumerate(rate_limit_subjects(ip)):
        key = ip_hash(subject, daily_salt())
        limit = rate if n == 0 else ratelimit.scale(rate, settings.IPV6_PREFIX_RATE_FACTOR)
        allowed = ratelimit.allow(scope, key, limit) and allowed  # every level counts the hit
    return allowed


def allow_client(request, scope: str, rate: str) -> bool:
    """A public page's per-client limit, counted as verify counts its own (for the pages of apps above scans)."""
    return _allow(scope, _ip(request), rate)


def too_many(request):
    return _too_many(request)


_crawlers = CrawlerDetect()  # CrawlerDetect's maintained list of bots and link-preview fetchers


@functools.lru_cache(maxsize=8192)
def is_crawler(agent: str) -> bool:
    """CrawlerDetect's verdict on a user agent, remembered: its patterns take a millisecond or more per agent,
    and a launch's scans come from a few thousand phone models and browser versions."""
    return _crawlers.isCrawler(agent)


def is_preview(request, device) -> bool:
    """HEAD requests, prefetches, crawlers and chat apps' link previews (which fetch the URL before the
    person does) see the verdict but are not scans."""
    if request.method == "HEAD" or "prefetch" in request.META.get(
        "HTTP_SEC_PURPOSE", request.META.get("HTTP_PURPOSE", "")
    ):
        return True
    agent = request.META.get("HTTP_USER_AGENT", "")[:500]
    return (device is not None and device.family == "Spider") or (bool(agent) and is_crawler(agent))


def wants_json(request) -> bool:
    """Whether the client asked for the JSON verdict (brands' apps) rather than the page."""
    return "application/json" in request.META.get("HTTP_ACCEPT", "")


def _no_store(response):
    response["Cache-Control"] = "no-store"  # a recall must show on the very next scan
    return response


def _too_many(request):
    if wants_json(request):
        return _no_store(JsonResponse({"error": "Too many requests; try again in a minute."}, status=429))
    return _no_store(render(request, "scans/rate_limited.html", status=429))


def _scan_context(request, ip: str, hashed_ip: str, source: str) -> ScanContext:
    agent = request.META.get("HTTP_USER_AGENT", "")[:500]
    family = parse_user_agent(agent) if agent else None
    device = parse_device(agent) if agent else None
    if is_preview(request, device):
        source = ScanSource.PREVIEW
    family_name = family.family if family else ""
    return ScanContext(
        ip_hash=hashed_ip,
        place=default_locator(settings.GEOIP_CITY_DB).from_ip(ip),
        user_agent_family=family_name,
        source=source,
        device=_device(request, hashed_ip, family_name),
    )


DEVICE_COOKIE = "sz_device"


def _device(request, hashed_ip: str, family: str) -> str:
    """A phone's first-party cookie when it has one, else its network and browser; the cookie set on the
    answer carries that same id, so a phone stays one device when it changes networks."""
    cookie = request.COOKIES.get(DEVICE_COOKIE, "")
    if len(cookie) == 10 and all(c in "0123456789abcdef" for c in cookie):
        return cookie
    return device_id(hashed_ip, family)


def _remember_device(request, response, context: ScanContext):
    if request.COOKIES.get(DEVICE_COOKIE) != context.device:
        response.set_cookie(
            DEVICE_COOKIE,
            context.device,
            max_age=2 * 365 * 24 * 3600,
            secure=request.is_secure(),
            httponly=True,
            samesite="Lax",
        )
    return response


def raw_path(request) -> str | None:
    """The path as sent, still percent-encoded, so a lot like A/B (A%2FB) stays one value.

    WSGI's PATH_INFO is decoded; servers keep the original request target in an extra variable: RAW_URI
    (gunicorn), REQUEST_URI (uWSGI, mod_wsgi, Waitress). None when the server gives neither."""
    raw = request.META.get("RAW_URI") or request.META.get("REQUEST_URI")
    if not raw:
        return None
    path = urlsplit(raw).path  # absolute-form requests ("GET http://host/01/...") carry scheme and host
    script = request.META.get("SCRIPT_NAME", "")
    return path[len(script) :] if script and path.startswith(script) else path


def _verify_path(request, prefix: str = "") -> str | None:
    """The Digital Link path to verify; None when it cannot be read faithfully (see `_cannot_read_path`).

    Without a raw path only PATH_INFO is left, where A%2FB arrived as A/B; a proxy configured with a URI part
    decodes it before gunicorn sees it. Either is fine for every path that parses, but one that would parse
    with some "/" read as "%2F" may be a lot with a "/": it must not be answered "not recognised" (a genuine
    product called a fake), so it is refused, saying so."""
    path = (raw_path(request) or request.path_info).removeprefix(prefix)
    try:
        gs1.parse_verify_link(path, "")
    except gs1.GS1Error:
        if _could_hold_an_encoded_slash(path):
            return None
    return path


def _could_hold_an_encoded_slash(path: str) -> bool:
    """Whether joining some run of segments (after /01/gtin or /p/ref) with %2F makes a path that parses."""
    segments = path.strip("/").split("/")
    if len(segments) > 12:  # longer than any Digital Link we issue: not worth the parses
        return False
    for first in range(2, len(segments)):
        for last in range(first + 1, len(segments)):
            joined = [*segments[:first], "%2F".join(segments[first : last + 1]), *segments[last + 1 :]]
            try:
                gs1.parse_verify_link("/" + "/".join(joined), "")
            except gs1.GS1Error:
                continue
            return True
    return False


_warned_no_raw_path = False


def _cannot_read_path(request):
    """Refuse clearly, and tell the operator once per process what to fix (README, Reverse proxy)."""
    global _warned_no_raw_path
    if not _warned_no_raw_path:
        _warned_no_raw_path = True
        log.error(
            "A Digital Link arrived with its %%2F decoded into '/' (raw path: %s), so lots containing '/' cannot "
            "be verified: run gunicorn or another WSGI server that sets RAW_URI or REQUEST_URI, and let the proxy "
            "pass the path unchanged (nginx: proxy_pass without a URI part). See README, Reverse proxy.",
            "RAW_URI" if request.META.get("RAW_URI") else "REQUEST_URI" if request.META.get("REQUEST_URI") else "none",
        )
    message = _("This code cannot be checked on this server right now. Please try again later.")
    if wants_json(request):
        return _no_store(JsonResponse({"error": "raw_path_unavailable", "message": message}, status=400))
    return _no_store(render(request, "scans/unavailable.html", {"message": message}, status=400))


@csrf_exempt  # public and sessionless: there is no logged-in state for a forged request to ride on
@require_http_methods(["GET", "HEAD", "POST", "OPTIONS"])
def verify(request, rest: str = ""):
    """A GS1 Digital Link: the verify page for a person (and the JSON verdict for brands' apps); the GS1
    resolver (scans.resolution) for machine clients and `?linkType=` requests."""
    if request.method == "OPTIONS" or (
        request.method != "POST"
        and request.path_info.startswith("/01/")
        and resolver.is_machine_request(
            accept=request.META.get("HTTP_ACCEPT", ""), query=request.META.get("QUERY_STRING", "")
        )
    ):
        return _resolve(request)
    with metrics.VERIFY_SECONDS.time():
        return _verify(request)


def _resolve(request):
    if not _allow("verify", _ip(request), settings.VERIFY_RATE_LIMIT):
        return _too_many(request)
    path = raw_path(request) or request.path_info
    if request.method == "OPTIONS":
        return resolution.preflight(request, path)
    return resolution.answer(request, path)


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def verify_page(request, rest: str = ""):
    """/verify/01/…: the verify page whatever the client accepts (where the resolver sends a unit's default)."""
    with metrics.VERIFY_SECONDS.time():
        return _verify(request, prefix=resolution.VERIFY_PREFIX)


def resolver_description(request):
    return resolution.description(request)


# Anyone's, signed in or not (a half-logged-in session too: brands.middleware).
verify.public = verify_page.public = resolver_description.public = True


def _verify(request, prefix: str = ""):
    ip = _ip(request)
    hashed_ip = ip_hash(ip, daily_salt())
    if not _allow("verify", ip, settings.VERIFY_RATE_LIMIT):
        return _too_many(request)  # before any lookup: a limited client costs one Redis round trip
    as_json = wants_json(request)
    # A JSON request is a scan (brands' own apps use it); a page view counts once the browser confirms it.
    context = _scan_context(request, ip, hashed_ip, ScanSource.API if as_json else ScanSource.PAGE)
    query = request.META.get("QUERY_STRING", "")
    path = _verify_path(request, prefix)
    if path is None:
        return _cannot_read_path(request)
    if request.method == "POST" and "pin" in request.POST:
        if not _pin_attempt_allowed(path, query, hashed_ip):
            return _too_many(request)
        verdict, scan = verifying.check_pin(path=path, query=query, pin=request.POST["pin"][:20], context=context)
    else:
        verdict, scan = verifying.verify(path=path, query=query, context=context)
    metrics.SCANS.labels(scan.source, scan.outcome).inc()
    status = 200 if verdict.authentic else 404
    if as_json:
        data = verdict.as_json(wording.word, wording.registration, wording.farmatag_notice)
        return _no_store(_remember_device(request, JsonResponse(data, status=status), context))
    token = follow_up.locate_token(scan)
    page = {
        "verdict": verdict,
        "headline": wording.headline(verdict),
        "warning_texts": [wording.word(w) for w in verdict.warnings if w.code != "pin_reused"],
        # The brand's registrations, each linked to the regulator's own search, and the official label to check.
        "regulator_lines": wording.regulator_lines(verdict.product) if verdict.authentic else [],
        "farmatag_notice": wording.farmatag_notice()
        if verdict.authentic and verdict.product and verdict.product.needs_farmatag
        else "",
        # The brand whose GTIN was scanned, even when the serial is not one of theirs: its page, its colours;
        # but never a brand not yet verified for that GTIN (an impostor must not borrow a page's trust).
        "brand": scan.brand if verdict.status != "unverified_brand" else None,
        "locate_token": token,
        # Only a live unit's view is counted: a code not yet activated is logged but never counted.
        # After the verdict, never before it: a live unit's owner may register it (owners), when its brand has a
        # privacy notice for the consents to point at.
        "register_token": follow_up.register_token(scan) if _registrable(verdict, scan) else "",
        "confirm_token": follow_up.confirm_token(scan)
        if scan.source == ScanSource.PAGE and scan.code_id and verdict.authentic
        else "",
        # Offered wherever the label may be a fake: not recognised or not yet activated, or a genuine code whose
        # label looks copied.
        "report_form": CounterfeitReportForm(initial={"gtin": scan.gtin, "serial": scan.serial, "token": token})
        if not verdict.authentic or verdict.is_likely_copy or _pin_reused(verdict)
        else None,
    }
    response = render(request, "scans/verify.html", page, status=status)
    return _no_store(_remember_device(request, response, context))


def _registrable(verdict, scan) -> bool:
    pin_pending = verdict.pin_required and not (verdict.pin and verdict.pin.verified)
    return bool(
        verdict.is_active
        and not verdict.warnings
        and not pin_pending
        and scan.code_id
        and scan.brand is not None
        and scan.brand.privacy_notice_url
    )


def _pin_reused(verdict) -> bool:
    return verdict.pin is not None and verdict.pin.verified and not verdict.pin.first_use


def _pin_attempt_allowed(path: str, query: str, hashed_ip: str) -> bool:
    """PIN guesses are counted on the code itself (GTIN + serial as parsed, so no spelling of the path
    escapes the count): per code and client, so a stranger's wrong guesses cannot lock the buyer out, and
    per code from anywhere at a higher limit, so many addresses together still cannot search the PINs."""
    identity = verifying.code_identity(path=path, query=query) or path
    return ratelimit.allow("pin", f"{identity}:{hashed_ip}", settings.PIN_RATE_LIMIT) and ratelimit.allow(
        "pin-code", identity, settings.PIN_CODE_RATE_LIMIT
    )


@csrf_exempt  # a signed, single-use token from the page is the whole of the request's power
@require_POST
def confirm_page_view(request):
    """The verify page's script confirms that a browser (a person) opened it: the scan is counted now."""
    agent = request.META.get("HTTP_USER_AGENT", "")[:500]
    if agent and is_crawler(agent):
        return _no_store(JsonResponse({"counted": False}))
    ip = _ip(request)
    context = _scan_context(request, ip, ip_hash(ip, daily_salt()), ScanSource.QR)
    result = follow_up.confirm_page_view(token=request.POST.get("token", "")[:200], context=context)
    if result is None:
        return _no_store(JsonResponse({"counted": False}))
    return _no_store(
        JsonResponse({"counted": True, "first_scan": result.scan_count == 1, "scan_count": result.scan_count})
    )


@csrf_exempt
@require_POST
def precise_location(request):
    if not _allow("verify", _ip(request), settings.VERIFY_RATE_LIMIT):
        return _too_many(request)
    form = PreciseLocationForm(request.POST)
    place = follow_up.add_precise_location(**form.cleaned_data) if form.is_valid() else None
    if place is None:
        return _no_store(JsonResponse({"located": False}, status=400))
    return _no_store(JsonResponse({"located": True, "place": place.label}))


@csrf_exempt
@require_POST
def counterfeit_report(request):
    if not _allow("report", _ip(request), settings.COUNTERFEIT_REPORT_RATE_LIMIT):
        return _too_many(request)
    form = CounterfeitReportForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        follow_up.report_counterfeit(
            **{name: data[name] for name in ("gtin", "serial", "where_bought", "notes", "contact_email", "photo")},
            token=data["token"],
            ip_hash=_ip_hash(request),
        )
        return _no_store(render(request, "scans/report_thanks.html"))
    return _no_store(render(request, "scans/report_form.html", {"report_form": form}, status=400))


# The verify page's own requests are as public as the page (a person owing a second factor may scan too).
confirm_page_view.public = precise_location.public = counterfeit_report.public = True
