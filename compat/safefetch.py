"""Fetching one remote ``http(s)`` source under the address policy, size cap and deadline.

Every hop is checked by :class:`~pdfbinder.compat.netpolicy.NetPolicy` before
anything is sent: redirects are followed here, by hand (at most
``max_redirects``), and each new location is resolved and checked again. The
connection goes to the very address that was checked — the URL is rewritten to
the IP while the ``Host`` header and TLS SNI/certificate check keep the original
name — so DNS cannot answer differently between the check and the connect
(rebinding). Proxy variables from the environment are ignored, since a proxy
would do its own resolving. Basic-auth credentials are only sent to the
origin they were given for. The whole fetch, redirects included, must finish
within ``timeout`` seconds and ``max_bytes`` bytes.
"""

from __future__ import annotations

import functools
import ipaddress
import ssl
import time
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from .errors import ApiError
from .netpolicy import IPAddress, NetPolicy, PolicyRefusal, Unresolvable

_REDIRECTS = {301, 302, 303, 307, 308}
_DEFAULT_PORTS = {"http": 80, "https": 443}


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The verifying TLS context that every fetch and callback shares.

    Building one loads the whole CA bundle (about 0.2 s of CPU), which an HTTP client
    made per fetch would pay on every source, plain ``http`` ones included.
    """
    return httpx.create_ssl_context(trust_env=False)


@dataclass(frozen=True)
class PinnedTarget:
    """One request's URL, origin, and how to reach it at an address checked beforehand.

    Connecting to the checked address (with the name in the Host header and
    TLS SNI) rather than to the name closes the window in which a second DNS
    lookup could answer differently (DNS rebinding).
    """

    url: str
    scheme: str
    host: str
    port: int

    @classmethod
    def parse(cls, url: str) -> PinnedTarget:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise ApiError(400, f"Unsupported source URL (need http or https): {url}")
        try:
            port = parts.port or _DEFAULT_PORTS[scheme]
        except ValueError:
            raise ApiError(400, f"Invalid port in source URL: {url}") from None
        return cls(url, scheme, parts.hostname, port)

    @property
    def origin(self) -> tuple[str, str, int]:
        return self.scheme, self.host.lower(), self.port

    def pinned_url(self, address: IPAddress) -> str:
        """The URL with its host replaced by ``address`` (credentials dropped)."""
        literal = f"[{address}]" if isinstance(address, ipaddress.IPv6Address) else str(address)
        return self._url_at(f"{literal}:{self.port}")

    @property
    def named_url(self) -> str:
        """The URL with its host as given (credentials dropped)."""
        return self._url_at(self.host_header)

    def _url_at(self, netloc: str) -> str:
        parts = urlsplit(self.url)
        return urlunsplit((self.scheme, netloc, parts.path or "/", parts.query, ""))

    @property
    def host_header(self) -> str:
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == _DEFAULT_PORTS[self.scheme] else f"{name}:{self.port}"


class RemoteFetcher:
    """Downloads sources for one server; see the module docstring for the rules."""

    def __init__(
        self, policy: NetPolicy, *, max_bytes: int, timeout: float, max_redirects: int = 5
    ) -> None:
        self.policy = policy
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.max_redirects = max_redirects

    def check(self, url: str) -> None:
        """Refuse at once a URL whose host is a forbidden literal or name (no DNS, no I/O)."""
        target = PinnedTarget.parse(url)
        try:
            self.policy.precheck(target.host)
        except PolicyRefusal as error:
            raise ApiError(403, f"Source URL forbidden by policy: {url} ({error})") from None

    def fetch(self, url: str, sink: BinaryIO, auth: httpx.BasicAuth | None = None) -> None:
        """Write the body at ``url`` (after redirects) into ``sink``."""
        deadline = time.monotonic() + self.timeout
        first = current = PinnedTarget.parse(url)
        with httpx.Client(verify=tls_context(), trust_env=False, follow_redirects=False) as client:
            for _hop in range(self.max_redirects + 1):
                credentials = auth if current.origin == first.origin else None
                location = self._hop(client, current, credentials, sink, deadline, url)
                if location is None:
                    return
                current = PinnedTarget.parse(urljoin(current.url, location))
        raise ApiError(400, f"Too many redirects (over {self.max_redirects}) fetching {url}")

    def _addresses(self, target: PinnedTarget, url: str) -> list[IPAddress]:
        try:
            return self.policy.resolve(target.host, target.port)
        except PolicyRefusal as error:
            raise ApiError(403, f"Source URL forbidden by policy: {url} ({error})") from None
        except Unresolvable as error:
            raise ApiError(400, f"Cannot fetch the source URL {url}: {error}") from None

    def _hop(
        self,
        client: httpx.Client,
        target: PinnedTarget,
        auth: httpx.BasicAuth | None,
        sink: BinaryIO,
        deadline: float,
        url: str,
    ) -> str | None:
        """One request; the redirect location, or ``None`` once the body is in ``sink``."""
        addresses = self._addresses(target, url)
        last_error: Exception | None = None
        for address in addresses:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            request = client.build_request(
                "GET",
                target.pinned_url(address),
                headers={"Host": target.host_header},
                timeout=httpx.Timeout(remaining),
                extensions={"sni_hostname": target.host},
            )
            try:
                response = client.send(request, auth=auth, stream=True)
            except httpx.ConnectError as error:
                last_error = error  # try the next checked address of the same name
                continue
            except httpx.TimeoutException:
                raise ApiError(400, f"Timed out fetching the source URL: {url}") from None
            except httpx.HTTPError as error:
                raise ApiError(400, f"Cannot fetch the source URL {url}: {error}") from None
            try:
                return self._answer(response, sink, deadline, url)
            finally:
                response.close()
        if last_error is None:
            raise ApiError(400, f"Timed out fetching the source URL: {url}")
        raise ApiError(400, f"Cannot fetch the source URL {url}: {last_error}")

    def _answer(
        self, response: httpx.Response, sink: BinaryIO, deadline: float, url: str
    ) -> str | None:
        status = response.status_code
        if status in _REDIRECTS and "location" in response.headers:
            return response.headers["location"]
        if status in {401, 403}:
            raise ApiError(403, f"The source URL refused access (HTTP {status}): {url}")
        if status >= 400:
            raise ApiError(400, f"The source URL answered HTTP {status}: {url}")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise ApiError(413, f"The source is larger than {self.max_bytes} bytes: {url}")
        received = 0
        try:
            for chunk in response.iter_bytes():
                received += len(chunk)
                if received > self.max_bytes:
                    raise ApiError(413, f"The source is larger than {self.max_bytes} bytes: {url}")
                if time.monotonic() > deadline:
                    raise ApiError(400, f"Timed out fetching the source URL: {url}")
                sink.write(chunk)
        except httpx.TimeoutException:
            raise ApiError(400, f"Timed out fetching the source URL: {url}") from None
        except httpx.HTTPError as error:
            raise ApiError(400, f"Cannot fetch the source URL {url}: {error}") from None
        return None
