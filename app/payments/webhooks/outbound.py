"""Where outgoing webhooks may go, and the one way they are sent (docs/security.md, "SSRF").

A merchant names the URL; the platform's worker opens it from inside the network. So that the URL can never reach
the platform's own services (loopback, the private network, link-local and cloud-metadata addresses, ...):

- ``check_url`` (at creation and update, and again before every send): http or https, a host, no credentials in the
  URL, and an IP address only in its canonical form (``127.1``, ``0x7f000001``, ``2130706433`` and ``0177.0.0.1``
  are refused as such). A literal address, and every address the host name resolves to, must be public.
- ``post`` resolves the host, checks EVERY address, and connects to a checked address itself (TLS still verifies
  the certificate for the host name), so a DNS answer that changes between check and connect (rebinding) gains
  nothing. Redirects are never followed.
- What is kept of an attempt is its status code and a short fixed message: never the response body or the socket
  error (which would read an internal service back, or map its ports).

``ALLOW_LOOPBACK_WEBHOOKS`` (development and tests only; production refuses to start with it) allows loopback
addresses, for a receiver running on the same machine. Nothing else is ever allowed.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from urllib.parse import urlsplit

MAX_RESPONSE_READ = 1024  # read (and drop) a little of the answer so the connection closes cleanly

# The short, fixed messages an attempt can leave behind (shown to staff and over the API).
NOT_ALLOWED = "address not allowed"
NOT_RESOLVED = "host name not found"
NO_CONNECTION = "no connection or no answer in time"

_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


class UnsafeDestination(ValueError):
    """The URL or one of its addresses may not be opened; ``message`` is one of the fixed messages or a reason."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries (mapped, 6to4, Teredo, NAT64, IPv4-compatible): all are checked."""
    found = []
    if ip.ipv4_mapped:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour:
        found.append(ip.sixtofour)
    if ip.teredo:
        found.extend(ip.teredo)
    if any(ip in net for net in _NAT64) or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def address_allowed(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, allow_loopback: bool = False) -> bool:
    """Public unicast only (loopback too when allowed); every IPv4 address embedded in an IPv6 one as well."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded:
            return all(address_allowed(inner, allow_loopback) for inner in embedded)
    if ip.is_loopback:
        return allow_loopback
    return ip.is_global and not (ip.is_multicast or ip.is_private or ip.is_reserved or ip.is_link_local
                                 or ip.is_unspecified)


def _literal_address(host: str):
    """The IP address ``host`` is written as, or None for a name. Non-canonical IPv4 forms are refused."""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0] if ":" in host else host)
    except ValueError:
        pass
    try:
        socket.inet_aton(host)  # accepts 127.1, 0x7f000001, 2130706433, 0177.0.0.1 ...
    except OSError:
        return None
    raise UnsafeDestination("an IP address must be written as four decimal numbers (a.b.c.d)")


def check_url(url: str) -> tuple[str, int]:
    """(host, port) of a webhook URL that passes the static checks; raises UnsafeDestination with the reason."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeDestination("an absolute http or https URL is needed")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UnsafeDestination("credentials in the URL are not accepted")
    try:
        port = parts.port if parts.port is not None else (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeDestination("the port is not a number from 1 to 65535") from None
    if not 0 < port < 65536:
        raise UnsafeDestination("the port is not a number from 1 to 65535")
    return parts.hostname, port


def resolve(host: str, port: int, allow_loopback: bool = False) -> list[str]:
    """Every address of ``host``, each checked; raises UnsafeDestination (NOT_ALLOWED, NOT_RESOLVED)."""
    literal = _literal_address(host)
    if literal is not None:
        if not address_allowed(literal, allow_loopback):
            raise UnsafeDestination(NOT_ALLOWED)
        return [str(literal)]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise UnsafeDestination(NOT_RESOLVED) from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise UnsafeDestination(NOT_RESOLVED)
    for address in addresses:
        if not address_allowed(ipaddress.ip_address(address.split("%", 1)[0]), allow_loopback):
            raise UnsafeDestination(NOT_ALLOWED)
    return addresses


def check_destination(url: str, allow_loopback: bool = False, *, unresolved_ok: bool = False) -> None:
    """The checks made when a merchant names a URL: static ones, and the addresses when the name resolves now
    (``unresolved_ok``: a name that does not resolve yet is accepted; every send resolves and checks again)."""
    host, port = check_url(url)
    try:
        resolve(host, port, allow_loopback)
    except UnsafeDestination as err:
        if not (unresolved_ok and err.message == NOT_RESOLVED):
            raise


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, data: bytes, headers: dict[str, str], timeout: float, *, allow_loopback: bool = False) -> int:
    """POST ``data`` to ``url`` through a checked address; returns the HTTP status (3xx included, not followed).

    Raises UnsafeDestination with a fixed message when the URL may not be opened or nothing answered."""
    host, port = check_url(url)
    addresses = resolve(host, port, allow_loopback)
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection_class = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    for address in addresses:
        connection = connection_class(host, port, address, timeout)
        try:
            connection.request("POST", target, body=data, headers=headers)
            response = connection.getresponse()
            response.read(MAX_RESPONSE_READ)
            return response.status
        except (OSError, http.client.HTTPException, ValueError):
            continue  # the next checked address, else a fixed message: never the socket's own words
        finally:
            connection.close()
    raise UnsafeDestination(NO_CONNECTION)
