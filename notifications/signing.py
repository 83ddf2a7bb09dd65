"""Webhook signatures and target checks: pure, no Django.

Header: ``Serialize-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``, the scheme
Stripe made familiar: the timestamp is signed with the body, so a receiver can refuse old replays.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import socket
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

HEADER = "Serialize-Signature"
DEFAULT_TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def header_value(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(secret: str, header: str, body: bytes, now: int, tolerance: int = DEFAULT_TOLERANCE_SECONDS) -> bool:
    """What a receiver does: recompute and compare in constant time, refuse stale timestamps."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(parts.get("v1", ""), signature(secret, timestamp, body))


Resolver = Callable[[str, int], Iterable[str]]


def _resolve(host: str, port: int) -> list[str]:
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)]


def target_problem(url: str, *, allow_private: bool, resolve: Resolver = _resolve) -> str | None:
    """Why a webhook must not be sent to `url`, or None. Blocks server-side request forgery: a target that
    resolves to a loopback, private, link-local or otherwise non-public address (unless allowed)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "Use an https:// URL."
    if parts.scheme != "https" and not allow_private:
        return "Use an https:// URL."
    if parts.username or parts.password:
        return "Put no credentials in the URL; verify the signature instead."
    if allow_private:
        return None
    try:
        addresses = list(resolve(parts.hostname, parts.port or 443))
    except (OSError, UnicodeError):
        return "That host name does not resolve."
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if not address.is_global or address.is_multicast:
            return "That address is private or local: webhooks go to public addresses only."
    return None if addresses else "That host name does not resolve."
