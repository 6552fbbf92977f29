"""Which network addresses the server may fetch from: the pure decision, no I/O but DNS.

With ``--allow-remote`` the server fetches ``http(s)`` sources for its clients,
which makes it a tool for reaching what only it can reach (SSRF): its own
loopback services, the private network around it, and the cloud metadata
endpoint that hands out credentials. So every address a fetch would connect to
is checked here first, and refused when it is:

* loopback, private (RFC 1918, ULA ``fc00::/7``), shared (CGNAT ``100.64/10``),
  link-local, multicast, reserved, unspecified, or otherwise not global;
* a cloud metadata endpoint (``169.254.169.254``, ``fd00:ec2::254``,
  ``100.100.100.200``, Azure's ``168.63.129.16``, ...), or a name of one;
* any of those hidden inside an IPv6 address (IPv4-mapped ``::ffff:a.b.c.d``,
  IPv4-compatible, NAT64 ``64:ff9b::/96``, 6to4 ``2002::/16``, Teredo).

Two settings relax it: ``allow_hosts`` (host names, addresses or networks such
as ``127.0.0.1`` or ``10.0.0.0/8``, allowed whatever they are — how a test suite
lets the server reach its own loopback servers) and ``allow_private_networks``
(loopback, private, shared and link-local ranges allowed; metadata endpoints
still need an explicit ``allow_hosts`` entry). Names are resolved once by
:meth:`NetPolicy.resolve`; the caller connects to the addresses it returned,
so a second DNS answer cannot swap in a forbidden address (DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(text)
    for text in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, Oracle, DigitalOcean
        "169.254.170.2",  # AWS ECS task credentials
        "169.254.169.123",  # AWS time sync
        "fd00:ec2::254",  # AWS IMDS over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "168.63.129.16",  # Azure wire server (a public address, so listed by hand)
        "192.0.0.192",  # Oracle Cloud (classic)
    )
)
METADATA_NAMES = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.azure.com",
    }
)
_LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SHARED = ipaddress.ip_network("100.64.0.0/10")


@dataclass(frozen=True)
class Verdict:
    """The answer for one address: allowed or not, and why (for the error message)."""

    allowed: bool
    reason: str


class PolicyRefusal(Exception):
    """A host or address is forbidden by policy (answered as 403)."""


class Unresolvable(Exception):
    """A host name has no address (answered as 400, like any unreachable source)."""


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """An IPv4 address carried inside an IPv6 one, in any of the usual ways."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    packed = int(address)
    if address in _NAT64 or (packed >> 32 == 0 and packed > 1):  # NAT64, IPv4-compatible
        return ipaddress.IPv4Address(packed & 0xFFFFFFFF)
    return None


def category(address: IPAddress) -> str | None:
    """Why ``address`` is not an ordinary public address, or ``None`` if it is one."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None:
            found = category(inner)
            return f"{found}, as IPv4 {inner} inside IPv6" if found else None
        if address.scope_id:
            return "scoped"
    if address in METADATA_ADDRESSES:
        return "cloud metadata"
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("shared (CGNAT)", isinstance(address, ipaddress.IPv4Address) and address in _SHARED),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
        ("not globally routable", not address.is_global),
    )
    return next((name for name, hit in checks if hit), None)


_RELAXED_BY_PRIVATE = {"loopback", "private", "shared (CGNAT)", "link-local"}


def check_address(
    address: IPAddress | str,
    *,
    allowed: Iterable[IPNetwork] = (),
    allow_private_networks: bool = False,
) -> Verdict:
    """May the server connect to ``address``? (``allowed``: networks exempted by the admin.)"""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if any(ip.version == network.version and ip in network for network in allowed):
        return Verdict(True, "explicitly allowed")
    found = category(ip)
    if found is None:
        return Verdict(True, "public address")
    base = found.split(",", 1)[0]
    if allow_private_networks and base in _RELAXED_BY_PRIVATE:
        return Verdict(True, f"{found}, private networks allowed")
    return Verdict(False, f"{ip} is not a public address ({found})")


def _host_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


@dataclass(frozen=True)
class NetPolicy:
    """The address policy of one server (see the module docstring)."""

    allow_hosts: tuple[str, ...] = ()
    allow_private_networks: bool = False

    @property
    def _allowed_networks(self) -> list[IPNetwork]:
        networks = []
        for entry in self.allow_hosts:
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                continue  # a host name: matched by name in _name_allowed
        return networks

    def _name_allowed(self, host: str) -> bool:
        return host.lower().rstrip(".") in {entry.lower().rstrip(".") for entry in self.allow_hosts}

    def check_address(self, address: IPAddress | str) -> Verdict:
        """:func:`check_address` under this policy's exemptions."""
        return check_address(
            address,
            allowed=self._allowed_networks,
            allow_private_networks=self.allow_private_networks,
        )

    def precheck(self, host: str) -> None:
        """Refuse, without any DNS, a host that is a forbidden literal or a forbidden name."""
        if self._name_allowed(host):
            return
        literal = _host_literal(host)
        if literal is not None:
            verdict = self.check_address(literal)
            if not verdict.allowed:
                raise PolicyRefusal(verdict.reason)
            return
        name = host.lower().rstrip(".")
        if name in METADATA_NAMES:
            raise PolicyRefusal(f"{host} is a cloud metadata host name")
        if (name in _LOOPBACK_NAMES or name.endswith(".localhost")) and not (
            self.allow_private_networks or self.check_address("127.0.0.1").allowed
        ):
            raise PolicyRefusal(f"{host} is a loopback host name")

    def resolve(self, host: str, port: int) -> list[IPAddress]:
        """Every address of ``host`` once, all checked; refuses if any one is forbidden.

        Refusing when *any* answer is forbidden (rather than picking a good one)
        keeps a name that mixes public and internal answers from being used.
        """
        self.precheck(host)
        literal = _host_literal(host)
        if literal is not None:
            return [literal]
        try:
            answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as error:
            raise Unresolvable(f"cannot resolve host {host!r} ({error})") from None
        addresses: list[IPAddress] = []
        for _family, _type, _proto, _name, sockaddr in answers:
            ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
            if ip not in addresses:
                addresses.append(ip)
        if self._name_allowed(host):
            return addresses
        for ip in addresses:
            verdict = self.check_address(ip)
            if not verdict.allowed:
                raise PolicyRefusal(f"{host} resolves to {verdict.reason}")
        if not addresses:
            raise Unresolvable(f"cannot resolve host {host!r} (no addresses)")
        return addresses


def resolve_and_check(host: str, port: int, policy: NetPolicy | None = None) -> list[IPAddress]:
    """The checked addresses of ``host`` under ``policy`` (default: the strict one)."""
    return (policy or NetPolicy()).resolve(host, port)
