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


def header_value(secret: str, timestamp: int, body: bytes, *, previous: str = "") -> str:
    """The header's value; while a rotated secret's overlap lasts, a second `v1` signed with the previous one,
    so receivers still holding it keep verifying until they switch."""
    value = f"t={timestamp},v1={signature(secret, timestamp, body)}"
    return f"{value},v1={signature(previous, timestamp, body)}" if previous else value


def verify(secret: str, header: str, body: bytes, now: int, tolerance: int = DEFAULT_TOLERANCE_SECONDS) -> bool:
    """What a receiver does: recompute and compare in constant time with every `v1` given (there are two during a
    secret's rotation), and refuse timestamps more than `tolerance` seconds from its own clock (replays)."""
    items = [item.split("=", 1) for item in header.split(",") if "=" in item]
    try:
        timestamp = int(next(value for key, value in items if key == "t"))
    except (StopIteration, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(value, expected) for key, value in items if key == "v1")


Resolver = Callable[[str, int], Iterable[str]]


def _resolve(host: str, port: int) -> list[str]:
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)]


# IPv6 forms that carry an IPv4 address inside them: a gateway or the host's own stack may turn them into that
# IPv4 address (loopback, the metadata service …), whatever the IPv6 address's own class says.
EMBEDDED_IPV4 = tuple(
    ipaddress.ip_network(net)
    for net in ("::/96", "::ffff:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48", "2002::/16", "2001::/32")
)


def target_problem(url: str, *, allow_private: bool, resolve: Resolver = _resolve) -> str | None:
    """Why a webhook must not be sent to `url`, or None (see `checked_target`)."""
    return checked_target(url, allow_private=allow_private, resolve=resolve)[0]


def checked_target(url: str, *, allow_private: bool, resolve: Resolver = _resolve) -> tuple[str | None, list[str]]:
    """(why a webhook must not be sent to `url` or None, the addresses checked). Blocks server-side request
    forgery: a target that resolves to a loopback, private, link-local or otherwise non-public address, or to an
    IPv6 form embedding an IPv4 one (unless private targets are allowed). The sender connects to an address
    returned here, never resolving the name again: a DNS answer that changes in between (rebinding) has no
    say. With private targets allowed the addresses are only resolved, not judged."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "Use an https:// URL.", []
    if parts.scheme != "https" and not allow_private:
        return "Use an https:// URL.", []
    if parts.username or parts.password:
        return "Put no credentials in the URL; verify the signature instead.", []
    try:
        addresses = list(resolve(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)))
    except (OSError, UnicodeError):
        return "That host name does not resolve.", []
    if allow_private:
        return (None, addresses) if addresses else ("That host name does not resolve.", [])
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        if isinstance(address, ipaddress.IPv6Address) and any(address in net for net in EMBEDDED_IPV4):
            return "That address embeds an IPv4 address: give the IPv4 address, or a host name.", []
        if not address.is_global or address.is_multicast:
            return "That address is private or local: webhooks go to public addresses only.", []
    return (None, addresses) if addresses else ("That host name does not resolve.", [])
