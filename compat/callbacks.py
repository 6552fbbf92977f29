"""POSTing a finished job's JSON to the client's ``callback`` URL.

Each delivery is tried once and retried up to three times with doubling
back-off, on a small thread pool of its own so a slow receiver never holds a
job worker. ``user:password@`` in the URL becomes basic auth (and is kept out
of the request line). Policy: loopback receivers are always allowed; any other
host only when remote access is allowed (``--allow-remote``), because an
offline server sends nothing off the machine, and then only at addresses the
server's :class:`~pdfbinder.compat.netpolicy.NetPolicy` allows. The name is
resolved and checked at each delivery and the POST goes to the checked
address, so a name that answered with a public address when the job was
submitted cannot be re-pointed at an internal one by the time it ends.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from .errors import ApiError
from .netpolicy import NetPolicy, PolicyRefusal, Unresolvable
from .safefetch import PinnedTarget, tls_context

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

    def __init__(
        self,
        *,
        allow_remote: bool,
        policy: NetPolicy,
        first_delay: float = 1.0,
        timeout: float = 10.0,
    ):
        self._allow_remote = allow_remote
        self._policy = policy
        self._first_delay = first_delay
        self._timeout = timeout
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="pdfbinder-callback")

    def send(self, url: str, payload: dict[str, Any]) -> None:
        """Queue one delivery of ``payload`` to ``url``."""
        try:
            target = PinnedTarget.parse(url)
        except ApiError:
            _log.warning("callback skipped: not a valid http(s) URL")
            return
        if not (self._allow_remote or is_loopback(target.host)):
            _log.warning("callback to %s skipped: remote access is disabled", target.host)
            return
        parts = urlsplit(url)
        # The base Auth sends the request unchanged: no credentials in the URL, no header.
        auth = httpx.Auth()
        if parts.username is not None:
            auth = httpx.BasicAuth(unquote(parts.username), unquote(parts.password or ""))
        self._pool.submit(self._deliver, target, auth, payload)

    def _addresses(self, target: PinnedTarget) -> list[str]:
        """Where to connect: the checked addresses, or the loopback name itself."""
        if is_loopback(target.host):
            return [target.named_url]
        return [
            target.pinned_url(address) for address in self._policy.resolve(target.host, target.port)
        ]

    def _deliver(self, target: PinnedTarget, auth: httpx.Auth, payload: dict[str, Any]) -> None:
        delay = self._first_delay
        with httpx.Client(verify=tls_context(), trust_env=False, timeout=self._timeout) as client:
            for attempt in range(1 + RETRIES):
                try:
                    problem = self._attempt(client, target, auth, payload)
                except PolicyRefusal as error:
                    _log.warning("callback to %s refused by policy: %s", target.host, error)
                    return
                if problem is None:
                    return
                _log.warning(
                    "callback attempt %d to %s failed: %s", attempt + 1, target.host, problem
                )
                if attempt < RETRIES:
                    time.sleep(delay)
                    delay *= 2

    def _attempt(
        self,
        client: httpx.Client,
        target: PinnedTarget,
        auth: httpx.Auth,
        payload: dict[str, Any],
    ) -> str | None:
        """One delivery (each checked address in turn); what went wrong, or None."""
        try:
            urls = self._addresses(target)
        except Unresolvable as error:
            return str(error)
        problem = "no address"
        for url in urls:
            try:
                response = client.post(
                    url,
                    json=payload,
                    auth=auth,
                    headers={"Host": target.host_header},
                    extensions={"sni_hostname": target.host},
                )
            except httpx.HTTPError as error:
                problem = str(error) or type(error).__name__
                continue
            if response.is_success:
                return None
            return f"HTTP {response.status_code}"
        return problem

    def close(self) -> None:
        self._pool.shutdown(wait=True)
