"""Target URL validation: integrators' URLs must not reach into our own network (SSRF).

Rules (checked when a subscription is saved, and again at every delivery):

- ``https`` only, unless ``WEBHOOK_ALLOW_HTTP`` (development, tests, the demo);
- no user info, a host name or a canonical IP literal (``2130706433``, ``0177.0.0.1``,
  ``0x7f.1`` are refused: resolvers read them as 127.0.0.1);
- the host is resolved and **every** address must be public: no private, loopback,
  link-local, multicast, reserved, shared (CGNAT), unspecified or IPv4-mapped-private
  address — unless it lies in ``WEBHOOK_ALLOWED_NETWORKS`` (e.g. ``["127.0.0.1/32"]``
  for tests and the demo).

At delivery time the sender connects to the address checked here (not to a second
resolution, which DNS rebinding could point elsewhere), sending the name as the Host
header and as TLS SNI, so the certificate is still verified against the name.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeURL(ValueError):
    """A target URL refused, with a reason an admin can act on."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # the name (or literal) as written, lower case, no brackets
    port: int
    path: str  # path + query
    address: IPAddress  # the checked address to connect to

    def connect_url(self) -> str:
        """The URL with the checked address in place of the name."""
        literal = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        return f"{self.scheme}://{literal}:{self.port}{self.path}"

    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


def _resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


# Replaceable in tests that play a rebinding DNS server.
resolver: Callable[[str, int], list[str]] = _resolve


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    networks = getattr(settings, "WEBHOOK_ALLOWED_NETWORKS", [])
    return [ipaddress.ip_network(n, strict=False) for n in networks]


def address_refusal(address: IPAddress) -> str | None:
    """Why ``address`` may not be a webhook target, or None."""
    if any(address in network for network in _allowed_networks()):
        return None
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None:
            return address_refusal(mapped)
    for attribute, what in (
        ("is_loopback", "a loopback"),
        ("is_private", "a private"),
        ("is_link_local", "a link-local"),
        ("is_multicast", "a multicast"),
        ("is_reserved", "a reserved"),
        ("is_unspecified", "an unspecified"),
    ):
        if getattr(address, attribute):
            return f"{address} is {what} address"
    if not address.is_global:
        return f"{address} is not a public address"
    return None


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        socket.inet_aton(host)  # accepts 2130706433, 0177.0.0.1, 0x7f.1, 127.1
    except OSError:
        return None
    raise UnsafeURL("Write an IP address in its usual dotted form (a.b.c.d), or use a name.")


def check(url: str) -> Target:
    """The target of ``url`` if it is allowed; raises ``UnsafeURL``."""
    if not isinstance(url, str) or len(url) > 500 or any(c in url for c in "\r\n\t \\"):
        raise UnsafeURL("Enter a valid URL.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL("Enter a valid URL.") from exc
    scheme = parts.scheme.lower()
    allow_http = getattr(settings, "WEBHOOK_ALLOW_HTTP", False)
    if scheme not in (("https", "http") if allow_http else ("https",)):
        raise UnsafeURL("The URL must start with https://.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeURL("The URL must not contain a user name or password.")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise UnsafeURL("The URL has no host.")
    port = port or (443 if scheme == "https" else 80)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    literal = _literal(host)
    if literal is not None:
        addresses: list[IPAddress] = [literal]
    else:
        try:
            resolved = resolver(host, port)
        except (OSError, UnicodeError) as exc:
            raise UnsafeURL(f"The host {host} cannot be resolved.") from exc
        addresses = []
        for text in resolved:
            try:
                addresses.append(ipaddress.ip_address(text.split("%", 1)[0]))
            except ValueError as exc:
                raise UnsafeURL(f"The host {host} resolves to an invalid address.") from exc
        if not addresses:
            raise UnsafeURL(f"The host {host} cannot be resolved.")
    for address in addresses:
        reason = address_refusal(address)
        if reason:
            raise UnsafeURL(f"The URL must point to a public address: {reason}.")
    return Target(scheme, host, port, path, addresses[0])
