"""The GS1 resolver on the verify routes, for machine clients (scans.resolver decides; this reads and answers).

A unit's entity is its GTIN, lot and serial, with the brand's product links and the verify page as its
gs1:verificationService and default; an unknown lot or serial walks up to the product (GTIN level). Nothing is
logged as a scan: asking where a product's leaflet is does not burn anybody's first scan.
"""

from django.conf import settings
from django.http import HttpResponse

from codes import gs1, linktypes
from codes.models import ProductLink

from . import resolver
from . import verify as verifying
from .products import ProductInfo, product_cache

VERIFY_PREFIX = "/verify"  # the verify page's own address: what the resolver redirects a unit's default to


def verify_page_url(path: str) -> str:
    """The verify page for a Digital Link path (the resolver's gs1:verificationService for it)."""
    return settings.VERIFY_BASE_URL + VERIFY_PREFIX + path


def answer(request, path: str) -> HttpResponse:
    """A machine client's request for a Digital Link path (still percent-encoded, a trailing slash tolerated)."""
    query = request.META.get("QUERY_STRING", "")
    path = path.rstrip("/")  # GS1: SHOULD tolerate a trailing slash
    try:
        link = gs1.parse_digital_link(path, query)
    except gs1.GS1Error as exc:
        return _cors(_text(f"Not a valid GS1 Digital Link: {exc.message}", 400))
    entity = entity_of(link)
    if entity is None:
        return _cors(_text("No product with this GTIN is known here.", 404))
    result = resolver.resolve(
        entity,
        link_type=resolver.asked_link_type(query),
        accept=request.META.get("HTTP_ACCEPT", ""),
        accept_language=request.META.get("HTTP_ACCEPT_LANGUAGE", ""),
        query=query,
    )
    return _cors(_response(result, entity))


def _response(result: resolver.Answer, entity: resolver.Entity) -> HttpResponse:
    if result.linkset is not None:
        body = resolver.dumps(result.linkset)
        response = HttpResponse(body, status=result.status, content_type=resolver.LINKSET_TYPE)
        response["Link"] = resolver.context_link()
        return response
    if result.location is not None:
        response = HttpResponse(status=result.status)
        response["Location"] = result.location
    else:
        response = _text("No link of that type for this item.", result.status)
    response["Link"] = resolver.linkset_link(entity.anchor)
    return response


def _text(message: str, status: int) -> HttpResponse:
    return HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")


def entity_of(link: gs1.DigitalLink) -> resolver.Entity | None:
    """The identified entity at the most granular level known: the unit, else (walking up) its product; None
    for a GTIN no verified brand registered (the resolver never lends an unverified brand its answers)."""
    info = product_cache.get(link.key)
    if info is None or not info.verified_brand:
        return None
    links = tuple(
        resolver.Link(row.link_type, row.href, row.title, row.language, row.media_type)
        for row in ProductLink.objects.filter(product_id=info.product_id)
    )
    if verifying.is_issued(info, link):
        return _unit(info, link, links)
    return _product(info, links)


def _unit(info: ProductInfo, link: gs1.DigitalLink, links: tuple[resolver.Link, ...]) -> resolver.Entity:
    anchor = gs1.digital_link_url(settings.VERIFY_BASE_URL, gtin=link.gtin, lot=link.lot, serial=link.serial or "")
    page = verify_page_url(anchor[len(settings.VERIFY_BASE_URL) :])
    verification = resolver.Link(linktypes.VERIFICATION, page, "Verify this unit", media_type="text/html")
    default = resolver.Link(linktypes.DEFAULT, page, "Verify this unit")
    return resolver.Entity(anchor, info.name, default, (verification, *links))


def _product(info: ProductInfo, links: tuple[resolver.Link, ...]) -> resolver.Entity:
    """The GTIN level: its default is the brand's product page (gs1:pip) or else its first link; with none, the
    verify page for the GTIN (which tells a person to scan a unit's code)."""
    anchor = f"{settings.VERIFY_BASE_URL}/01/{info.gtin}"
    first = next((link for link in links if link.link_type == "pip"), links[0] if links else None)
    if first is None:
        default = resolver.Link(linktypes.DEFAULT, verify_page_url(f"/01/{info.gtin}"), info.name)
    else:
        default = resolver.Link(linktypes.DEFAULT, first.href, first.title)
    return resolver.Entity(anchor, info.name, default, links)


def preflight(request, path: str) -> HttpResponse:
    """OPTIONS on a Digital Link: the methods allowed (CORS) and where its linkset is."""
    response = _cors(HttpResponse(status=204))
    response["Allow"] = resolver.METHODS
    response["Link"] = resolver.linkset_link(settings.VERIFY_BASE_URL + path.rstrip("/"))
    return response


def description(request) -> HttpResponse:
    """/.well-known/gs1resolver."""
    document = resolver.description_file(root=settings.VERIFY_BASE_URL, name="Serialize")
    return _cors(HttpResponse(resolver.dumps(document), content_type="application/json"))


def _cors(response: HttpResponse) -> HttpResponse:
    """Any web page may ask (GS1: SHALL support CORS); nothing here depends on cookies."""
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Allow-Methods"] = resolver.METHODS
    response["Access-Control-Allow-Headers"] = "Accept, Accept-Language"
    response["Access-Control-Expose-Headers"] = "Link, Location, Content-Type"
    response["Vary"] = "Accept, Accept-Language"
    response["Cache-Control"] = "no-store"  # a link changed or a recall must show at once
    return response
