"""A product's links for the GS1 resolver (gs1:pip, gs1:epil, gs1:recallStatus ...): the rules the dashboard,
the API and the admin share. The resolver itself (scans.resolver) only reads them."""

import re
from urllib.parse import urlsplit

from django.db import transaction

from core.errors import ServiceError

from . import linktypes
from .models import Product, ProductLink

MAX_LINKS_PER_PRODUCT = 50
# GS1's linkset schema: hreflang "xx" or "xx-YY"; a media type "type/subtype".
LANGUAGE = re.compile(r"^[a-z]{2}(-[A-Z]{2})?$")
MEDIA_TYPE = re.compile(r"^[a-z]+/[-+.\w]+$")


class LinkError(ServiceError):
    """A link that cannot be attached as given; `field` names what to fix."""


@transaction.atomic
def add_link(
    *, product: Product, link_type: str, href: str, title: str, language: str = "", media_type: str = ""
) -> ProductLink:
    """Attach a link of a GS1 link type to a product (its brand's own rows: the caller looked the product up)."""
    term = linktypes.term_of(link_type)
    if term not in linktypes.ATTACHABLE:
        raise LinkError("link_type", f"{link_type!r} is not a link type a brand can attach.")
    parts = urlsplit(href.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise LinkError("href", "Give the full address, starting with https://.")
    title = title.strip()
    if not title:
        raise LinkError("title", "Give the link a title: apps show it to people.")
    language, media_type = language.strip(), media_type.strip().lower()
    if language and not LANGUAGE.match(language):
        raise LinkError("language", "A language is two letters (en, ms), optionally with a country: en-GB.")
    if media_type and not MEDIA_TYPE.match(media_type):
        raise LinkError("media_type", "A media type reads like text/html or application/pdf.")
    # Locked: two additions at once could both pass the count.
    Product.objects.select_for_update().filter(pk=product.pk).first()
    if ProductLink.objects.filter(product=product).count() >= MAX_LINKS_PER_PRODUCT:
        raise LinkError("link_type", f"A product can carry at most {MAX_LINKS_PER_PRODUCT} links.")
    return ProductLink.objects.create(
        product=product,
        link_type=term,
        href=href.strip(),
        title=title,
        language=language,
        media_type=media_type,
    )


def remove_link(*, link: ProductLink) -> None:
    link.delete()
