"""POSTing a finished job's JSON to the client's ``callback`` URL.

Each delivery is tried once and retried up to three times with doubling
back-off, on a small thread pool of its own so a slow receiver never holds a
job worker. ``user:password@`` in the URL becomes basic auth (and is kept out
of the request line). Policy: loopback receivers are always allowed; any other
host only when remote access is allowed (``--allow-remote``), because an
offline server sends nothing off the machine.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import httpx

RETRIES = 3
_log = logging.getLogger("pdfbinder.callbacks")


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or literal address, not resolved) is this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class CallbackSender:
    """Delivers callbacks in the background; :meth:`close` waits for pending ones."""

    def __init__(self, *, allow_remote: bool, first_delay: float = 1.0, timeout: float = 10.0):
        self._allow_remote = allow_remote
        self._first_delay = first_delay
        self._timeout = timeout
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="pdfbinder-callback")

    def send(self, url: str, payload: dict[str, Any]) -> None:
        """Queue one delivery of ``payload`` to ``url``."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.scheme.lower() not in {"http", "https"} or not host:
            _log.warning("callback skipped: not an http(s) URL")
            return
        if not (self._allow_remote or is_loopback(host)):
            _log.warning("callback to %s skipped: remote access is disabled", host)
            return
        auth = None
        if parts.username is not None:
            auth = httpx.BasicAuth(unquote(parts.username), unquote(parts.password or ""))
        netloc = f"[{host}]" if ":" in host else host
        if parts.port is not None:
            netloc += f":{parts.port}"
        target = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
        self._pool.submit(self._deliver, target, auth, payload)

    def _deliver(self, url: str, auth: httpx.BasicAuth | None, payload: dict[str, Any]) -> None:
        delay = self._first_delay
        for attempt in range(1 + RETRIES):
            try:
                response = httpx.post(url, json=payload, auth=auth, timeout=self._timeout)
                if response.is_success:
                    return
                problem = f"HTTP {response.status_code}"
            except httpx.HTTPError as error:
                problem = str(error) or type(error).__name__
            _log.warning("callback attempt %d to %s failed: %s", attempt + 1, url, problem)
            if attempt < RETRIES:
                time.sleep(delay)
                delay *= 2

    def close(self) -> None:
        self._pool.shutdown(wait=True)
