"""Route ``requests`` and ``httpx`` calls aimed at chosen base URLs to a local server.

Code under test hard-codes ``https://api.pdf.co/v1`` (or ``https://localhost`` for the Cloud API
Server). While an interception is active, every request whose scheme, host and port match one of
its base URLs is sent to the local server instead; path and query go on the wire byte for byte
as the client built them (GET-style clients paste raw, unencoded URLs into query strings). All
other requests pass through untouched.

The request keeps its original ``Host`` header and announces its original scheme with
``X-Forwarded-Proto``, so the server (behind uvicorn's proxy-header handling, which trusts
loopback) builds result URLs on the intercepted origin — ``https://api.pdf.co/files/...`` —
exactly as the cloud would, and the client's later bare ``GET`` of such a URL is intercepted too.

Patching happens once, when the first interception starts, and is undone when the last one ends.
Only ``requests`` and ``httpx`` are patched; each is patched only if it is installed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Origin:
    """The scheme, host and port part of a URL."""

    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str) -> Origin:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise ValueError(f"not an http(s) base URL: {url!r}")
        return cls(scheme, parts.hostname.lower(), parts.port or _DEFAULT_PORTS[scheme])

    @property
    def netloc(self) -> str:
        """``host[:port]``, the port omitted when it is the scheme's default (as in Host)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == _DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


@dataclass(frozen=True)
class Redirect:
    """Where one intercepted request goes: the local ``target`` origin, and what it replaced."""

    original: Origin
    target: Origin
    origin_length: int  # characters of "scheme://netloc" in the original URL

    def rewrite(self, url: str) -> str:
        """``url`` on the target origin; path and query kept character for character."""
        return f"{self.target.scheme}://{self.target.netloc}{url[self.origin_length :]}"


class _Registry:
    """Active interceptions (a stack: the innermost one wins) and the patches they need."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: list[tuple[object, dict[Origin, Origin]]] = []
        self._undo: list[Callable[[], None]] = []

    def push(self, token: object, routes: dict[Origin, Origin]) -> None:
        with self._lock:
            if not self._active:
                self._undo = _install_patches()
            self._active.append((token, routes))

    def pop(self, token: object) -> None:
        with self._lock:
            self._active = [entry for entry in self._active if entry[0] is not token]
            if not self._active:
                for undo in reversed(self._undo):
                    undo()
                self._undo = []

    def redirect_for(self, url: str) -> Redirect | None:
        try:
            origin = Origin.of(url)
        except ValueError:
            return None
        with self._lock:
            for _, routes in reversed(self._active):
                target = routes.get(origin)
                if target is not None:
                    origin_length = url.index("://") + 3 + len(urlsplit(url).netloc)
                    return Redirect(origin, target, origin_length)
        return None


_REGISTRY = _Registry()


class Interception:
    """Send requests for ``base_urls`` to ``target_url`` while active (re-entrant, nestable)."""

    def __init__(self, base_urls: list[str], target_url: str) -> None:
        target = Origin.of(target_url)
        self.routes = {Origin.of(url): target for url in base_urls}
        self._token = object()

    def start(self) -> None:
        _REGISTRY.push(self._token, self.routes)

    def stop(self) -> None:
        _REGISTRY.pop(self._token)


def _install_patches() -> list[Callable[[], None]]:
    undo: list[Callable[[], None]] = []
    for install in (_patch_requests, _patch_httpx):
        undo += install()
    return undo


def _replace(owner: Any, name: str, replacement: Callable[..., Any]) -> Callable[[], None]:
    original = owner.__dict__[name]
    setattr(owner, name, replacement)
    return lambda: setattr(owner, name, original)


def _patch_requests() -> list[Callable[[], None]]:
    try:
        from requests.adapters import HTTPAdapter
    except ModuleNotFoundError:
        return []
    original_send = HTTPAdapter.send

    def send(self: HTTPAdapter, request: Any, *args: Any, **kwargs: Any) -> Any:
        redirect = _REGISTRY.redirect_for(request.url)
        if redirect is None:
            return original_send(self, request, *args, **kwargs)
        local = request.copy()
        local.url = redirect.rewrite(request.url)
        local.headers["Host"] = redirect.original.netloc
        local.headers["X-Forwarded-Proto"] = redirect.original.scheme
        # Environment proxies were chosen for the original host; loopback never needs one.
        kwargs["proxies"] = {}
        response = original_send(self, local, *args, **kwargs)
        response.url = request.url
        response.request = request
        return response

    return [_replace(HTTPAdapter, "send", send)]


def _patch_httpx() -> list[Callable[[], None]]:
    try:
        import httpx
    except ModuleNotFoundError:
        return []
    original_sync = httpx.HTTPTransport.handle_request
    original_async = httpx.AsyncHTTPTransport.handle_async_request

    def redirected(request: httpx.Request) -> tuple[httpx.URL, Redirect] | None:
        redirect = _REGISTRY.redirect_for(str(request.url))
        if redirect is None:
            return None
        original_url = request.url
        request.url = httpx.URL(redirect.rewrite(str(request.url)))
        request.headers["X-Forwarded-Proto"] = redirect.original.scheme
        return original_url, redirect

    def restore(request: httpx.Request, original_url: httpx.URL) -> None:
        request.url = original_url
        del request.headers["X-Forwarded-Proto"]

    def handle_request(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        swap = redirected(request)
        try:
            return original_sync(self, request)
        finally:
            if swap is not None:
                restore(request, swap[0])

    async def handle_async_request(
        self: httpx.AsyncHTTPTransport, request: httpx.Request
    ) -> httpx.Response:
        swap = redirected(request)
        try:
            return await original_async(self, request)
        finally:
            if swap is not None:
                restore(request, swap[0])

    return [
        _replace(httpx.HTTPTransport, "handle_request", handle_request),
        _replace(httpx.AsyncHTTPTransport, "handle_async_request", handle_async_request),
    ]
