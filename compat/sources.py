"""Turning one ``url`` item into an engine input.

* Our own file URLs — any host, recognised by their path ``/files/<id>/<name>``
  (optionally under ``/v1``) — and ``filetoken://<id>`` read straight from the
  file store, with no HTTP round trip.
* ``http(s)`` URLs known to the URL map (``--url-map``) read the mapped local file.
* Other ``http(s)`` URLs are fetched with size and time limits and optional
  basic auth — only when remote fetching is allowed (``--allow-remote``); by
  default the server is offline and refuses them with a 403. Fetches obey the
  address policy of :mod:`~pdfbinder.compat.netpolicy` (no loopback, private or
  metadata addresses unless allowed; every redirect re-checked; the checked
  address is the one connected to), see :mod:`~pdfbinder.compat.safefetch`.
"""

from __future__ import annotations

import functools
import re
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from typing import BinaryIO, NamedTuple, cast
from urllib.parse import unquote, urlsplit

import httpx

from pdfbinder.engine import NamedSource

from .errors import ApiError
from .files.base import FileStore
from .netpolicy import NetPolicy
from .protocol import original_name, route_path
from .safefetch import RemoteFetcher
from .urlmap import UrlMap

_OWN_PATH = re.compile(r"/files/([A-Za-z0-9_-]{32})/[^/]+")
_SPOOL_IN_MEMORY = 8 * 1024 * 1024
_REMOTE_SCHEMES = {"http", "https"}


class OpenedSource(NamedTuple):
    """An engine input and its size in bytes (known once it is open: a job's byte
    budget is counted without another look at the file)."""

    source: NamedSource
    size: int


@dataclass(frozen=True)
class FetchAuth:
    """Basic-auth credentials for ``http(s)`` sources (``httpusername``/``httppassword``)."""

    username: str
    password: str


def own_file_id(url: str) -> str | None:
    """The store id behind one of our file URLs or a ``filetoken://`` URL, else ``None``."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "filetoken":
        return parts.netloc or parts.path.strip("/").split("/")[0] or None
    if scheme in {"http", "https"}:
        match = _OWN_PATH.fullmatch(route_path(parts.path))
        return match.group(1) if match else None
    return None


@functools.lru_cache(maxsize=1024)
def url_file_name(url: str) -> str:
    """The name an ``http(s)`` source goes by: its URL path's last part, decoded
    (remembered: a job asks for it while it fetches, reports and names each input)."""
    path = urlsplit(url).path
    return original_name(unquote(path.rsplit("/", 1)[-1])) or original_name(url) or "file"


class Sources:
    """Resolves ``url`` items against the store, the URL map and (if allowed) the network."""

    def __init__(
        self,
        store: FileStore,
        *,
        url_map: UrlMap | None,
        allow_remote: bool,
        max_bytes: int,
        timeout: float,
        policy: NetPolicy | None = None,
    ) -> None:
        self._store = store
        self._url_map = url_map
        self._allow_remote = allow_remote
        self._fetcher = RemoteFetcher(policy or NetPolicy(), max_bytes=max_bytes, timeout=timeout)

    def check(self, url: str) -> int | None:
        """Refuse at once what can never work (bad scheme, missing file, policy); the
        source's size when it is known without reading it (stored or URL-mapped), else
        ``None`` (a remote source)."""
        file_id = own_file_id(url)
        if file_id is not None:
            info = self._store.info(file_id)
            if info is None:
                raise ApiError(404, f"File not found or expired: {url}")
            return info.size
        if urlsplit(url).scheme.lower() not in _REMOTE_SCHEMES:
            raise ApiError(400, f"Unsupported source URL (need http, https or filetoken): {url}")
        mapped = self._mapped(url)
        if mapped is not None:
            return mapped[1]
        if not self._allow_remote:
            raise ApiError(
                403,
                f"Fetching remote URLs is disabled on this server (offline mode): {url}. "
                "Start it with --allow-remote, or serve the URL from a local copy with --url-map.",
            )
        self._fetcher.check(url)
        return None

    def local_size(self, url: str) -> int | None:
        """The size of ``url``'s source when it is read from this machine's disk (a file
        in a local store, or URL-mapped), found without waiting for a network; ``None``
        otherwise (remote, in a remote store, or not there)."""
        file_id = own_file_id(url)
        if file_id is not None:
            info = self._store.info(file_id) if self._store.local else None
            return info.size if info is not None else None
        mapped = self._mapped(url)
        return mapped[1] if mapped is not None else None

    def _mapped(self, url: str) -> tuple[str, int] | None:
        """The URL map's local file for an http(s) ``url`` and its size, if it has one."""
        if self._url_map is None or urlsplit(url).scheme.lower() not in _REMOTE_SCHEMES:
            return None
        return self._url_map.find(url)

    def open(self, url: str, stack: ExitStack, auth: FetchAuth | None = None) -> OpenedSource:
        """An engine input for ``url``, and its size; streams opened here are closed by
        ``stack``."""
        file_id = own_file_id(url)
        if file_id is not None:
            opened = self._store.open(file_id)
            if opened is None:
                raise ApiError(404, f"File not found or expired: {url}")
            info, stream = opened
            source = NamedSource(stack.enter_context(stream), info.shown_name)
            return OpenedSource(source, info.size)
        mapped = self._mapped(url)
        if mapped is not None:
            path, size = mapped
            return OpenedSource(NamedSource(path, url_file_name(url)), size)
        self.check(url)  # what is left is remote: the scheme, offline mode and the policy
        spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115
        stack.enter_context(spool)
        stream = cast(BinaryIO, spool)  # a full binary file object since Python 3.11
        self.fetch(url, stream, auth)
        size = stream.tell()
        stream.seek(0)
        return OpenedSource(NamedSource(stream, url_file_name(url)), size)

    def fetch(self, url: str, target: BinaryIO, auth: FetchAuth | None = None) -> None:
        """Download ``url`` into ``target`` under the address policy and the limits."""
        credentials = httpx.BasicAuth(auth.username, auth.password) if auth else None
        self._fetcher.fetch(url, target, credentials)
