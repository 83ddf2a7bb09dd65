"""GS1-conformant resolution of a Digital Link (GS1-Conformant Resolver Standard 1.2). Pure, no Django.

Given what is known of the identified entity (a unit, or its product after walking up from an unknown lot or
serial), answer a machine client: an RFC 9264 linkset, a 307 to the link of the asked type (the query string
carried on), 300 when several links fit equally, 404 when none is of that type. People never get here: a phone
asking for the page gets the verify page itself, which is the unit's gs1:verificationService and its default.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from codes import linktypes

LINKSET_TYPE = "application/linkset+json"
CONTEXT = "https://ref.gs1.org/standards/resolver/linkset-context"
JSON_LD_CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"
METHODS = "GET, HEAD, OPTIONS"
LINKSET_ALIASES = ("linkset", "all")  # `all` was deprecated in 1.0.0 but is still asked for


@dataclass(frozen=True)
class Link:
    """One link object: its GS1 link type (the term, e.g. `pip`) and RFC 9264 target attributes."""

    link_type: str
    href: str
    title: str
    language: str = ""  # hreflang, "" for any
    media_type: str = ""  # type, "" when not declared

    def as_object(self) -> dict:
        target: dict = {"href": self.href, "title": self.title}
        if self.language:
            target["hreflang"] = [self.language]
        if self.media_type:
            target["type"] = self.media_type
        return target


@dataclass(frozen=True)
class Entity:
    """What a Digital Link identifies at the level it was resolved to: its URI (the linkset's anchor), a
    description, its links and its one default link (title and href only, as the standard demands)."""

    anchor: str
    description: str
    default: Link
    links: tuple[Link, ...] = field(default_factory=tuple)

    def of_type(self, term: str) -> list[Link]:
        if term == linktypes.DEFAULT:
            return [self.default]
        return [link for link in self.links if link.link_type == term]


@dataclass(frozen=True)
class Answer:
    """What to send: a status, where to (a redirect), and a linkset body (200 or 300)."""

    status: int
    location: str | None = None
    linkset: dict | None = None


def is_machine_request(*, accept: str, query: str) -> bool:
    """Whether the resolver answers (rather than the verify page): a `linkType` is asked for, or the client
    accepts neither a page nor the verify JSON (GS1 tools and curl send `*/*` or application/linkset+json).
    A browser always names text/html; brands' apps ask for application/json and keep getting the verdict."""
    if "linkType=" in query:
        return True
    accept = accept.lower()
    if not accept:
        return False  # no Accept at all: treated as a person's browser, as before the resolver existed
    return "text/html" not in accept and "application/xhtml" not in accept and "application/json" not in accept


def asked_link_type(query: str) -> str | None:
    """The `linkType` parameter's value, as sent (first one); None when absent."""
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key == "linkType":
            return value
    return None


def wants_linkset(*, link_type: str | None, accept: str) -> bool:
    return link_type in LINKSET_ALIASES or LINKSET_TYPE in accept.lower()


def resolve(entity: Entity, *, link_type: str | None, accept: str, accept_language: str, query: str) -> Answer:
    """The answer to a machine client's request for `entity` (see the module's docstring)."""
    if wants_linkset(link_type=link_type, accept=accept):
        return Answer(200, linkset=linkset(entity))
    if not link_type:
        return Answer(307, location=with_query(entity.default.href, query))
    term = linktypes.term_of(link_type)
    candidates = entity.of_type(term) if term else []
    if not candidates:
        return Answer(404)
    chosen = best_links(candidates, accept=accept, accept_language=accept_language)
    if len(chosen) > 1:
        return Answer(300, linkset=linkset(entity, only=chosen))
    return Answer(307, location=with_query(chosen[0].href, query))


def best_links(candidates: list[Link], *, accept: str, accept_language: str) -> list[Link]:
    """The candidates that fit the client best: by its languages in order of preference (a link for any language
    next), then by the media types it names. More than one left means it cannot be decided (a 300)."""
    chosen = candidates
    if len(chosen) > 1:
        for tag in languages(accept_language):
            fitting = [link for link in chosen if _language_fits(link.language, tag)]
            if fitting:
                chosen = fitting
                break
        else:
            chosen = [link for link in chosen if not link.language] or chosen
    if len(chosen) > 1:
        types = media_types(accept)
        chosen = [link for link in chosen if link.media_type in types] or chosen
    return chosen


def _language_fits(language: str, tag: str) -> bool:
    language = language.lower()
    return bool(language) and (language == tag or language.split("-")[0] == tag.split("-")[0])


def languages(header: str) -> list[str]:
    """Accept-Language's tags, most wanted first (q=0 and `*` left out)."""
    return [value for value, _ in _weighted(header) if value != "*"]


def media_types(header: str) -> set[str]:
    """The concrete media types an Accept header names (wildcards say nothing about a link)."""
    return {value for value, _ in _weighted(header) if "*" not in value}


def _weighted(header: str) -> list[tuple[str, float]]:
    items = []
    for position, part in enumerate(header.split(",")):
        value, *params = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, number = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(number)
                except ValueError:
                    quality = 0.0
        if value and quality > 0:
            items.append((value.lower(), quality, position))
    items.sort(key=lambda item: (-item[1], item[2]))
    return [(value, quality) for value, quality, _ in items]


def with_query(href: str, query: str) -> str:
    """The target with the request's query string carried on (GS1: all key=value pairs by default)."""
    if not query:
        return href
    return href + ("&" if "?" in href else "?") + query


def linkset(entity: Entity, only: list[Link] | None = None) -> dict:
    """The RFC 9264 JSON linkset: one context object, link relations named by their GS1 URIs, and exactly one
    gs1:defaultLink (unless `only` restricts it to the links a 300 offers)."""
    item: dict = {"anchor": entity.anchor, "itemDescription": entity.description}
    links = only if only is not None else [entity.default, *entity.links]
    for link in links:
        relation = linktypes.uri(link.link_type)
        if link is entity.default and only is None:
            item[linktypes.uri(linktypes.DEFAULT)] = [{"href": link.href, "title": link.title}]
        else:
            item.setdefault(relation, []).append(link.as_object())
    return {"linkset": [item]}


def linkset_link(anchor: str) -> str:
    """The Link header pointing a client at the linkset (on redirects and preflights)."""
    return f'<{anchor}?linkType=linkset>; rel="linkset"; type="{LINKSET_TYPE}"'


def context_link() -> str:
    """The Link header naming the linkset's JSON-LD context."""
    return f'<{CONTEXT}>; rel="{JSON_LD_CONTEXT_REL}"; type="application/ld+json"'


def description_file(*, root: str, name: str) -> dict:
    """/.well-known/gs1resolver: what this resolver supports (GS1's description-file schema 1.2.0)."""
    return {
        "name": name,
        "resolverRoot": root,
        "supportedPrimaryKeys": ["01"],
        "supportedLinkType": [{"namespace": linktypes.VOC, "prefix": linktypes.PREFIX}],
        "linkTypeDefaultCanBeLinkset": False,
        "jsonLdContextLocation": CONTEXT,
    }


def dumps(document: dict) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))
