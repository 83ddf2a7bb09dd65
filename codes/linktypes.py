"""The GS1 link-type vocabulary: which kinds of link a product's Digital Link can resolve to. Pure, no Django.

The ratified list is GS1 Web Vocabulary's sub-properties of gs1:linkType (`data/gs1-linktypes.json`, derived from
github:gs1/WebVoc v1.16, Apache-2.0: `data/gs1-linktypes.LICENSE`). A link type is named by its term (`pip`), its
CURIE (`gs1:pip`) or its URI (`https://gs1.org/voc/pip`, also under ref.gs1.org or www.gs1.org); linksets use the URI.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

VOC = "https://gs1.org/voc/"
PREFIX = "gs1:"

TERMS: dict[str, str] = {
    term: entry["title"]
    for term, entry in json.loads((Path(__file__).parent / "data" / "gs1-linktypes.json").read_text()).items()
}
"""Every ratified link type, term -> GS1's title."""

DEFAULT = "defaultLink"
VERIFICATION = "verificationService"

# What a brand attaches itself; the default and the verify page are the resolver's own.
ATTACHABLE = (
    "pip",
    "epil",
    "instructions",
    "quickStartGuide",
    "safetyInfo",
    "recallStatus",
    "registryEntry",
    "smpc",
    "eifu",
    "ingredientsInfo",
    "allergenInfo",
    "nutritionalInfo",
    "support",
    "faqs",
    "registerProduct",
    "certificationInfo",
    "sustainabilityInfo",
    "relatedVideo",
    "homepage",
)
CHOICES = [(term, f"{TERMS[term]} ({PREFIX}{term})") for term in ATTACHABLE]

_URI = re.compile(r"^https?://(?:ref\.|www\.)?gs1\.org/voc/([A-Za-z]+)$")


def term_of(name: str) -> str | None:
    """The term a CURIE, URI or bare term names, when it is a ratified link type; None otherwise."""
    name = name.strip()
    if name.startswith(PREFIX):
        name = name[len(PREFIX) :]
    elif match := _URI.match(name):
        name = match.group(1)
    return name if name in TERMS else None


def uri(term: str) -> str:
    """The link relation a linkset names the type by."""
    return VOC + term


def curie(term: str) -> str:
    return PREFIX + term
