"""The HTTP/1.1 connection handler: uvicorn's, answering what it refuses in the error shape.

uvicorn refuses a request it cannot parse before the application sees it,
with a plain-text 400, and closes the connection at once. A request target
(path and query string) over 64 KiB is one of those: httptools' URL parser
stops at 65,535 bytes. Two changes here. Every such refusal is the API's error
JSON. A target longer than :data:`MAX_TARGET_BYTES` is refused with 414 as
soon as it passes the limit, and the rest of the request head is read and
dropped before the connection closes: closing a socket with unread bytes in
it makes the kernel reset the connection, and the client sees a reset
instead of the answer.
"""

from __future__ import annotations

import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from .protocol import error_body

MAX_TARGET_BYTES = 64 * 1024
"""Longest request target (path and query) served; longer parameters belong in a POST body."""
_MAX_DRAINED_BYTES = 16 * 1024 * 1024
_DRAIN_SECONDS = 10.0
_HEAD_END = b"\r\n\r\n"


class _TargetTooLong(Exception):
    """Raised inside the parser's URL callback to stop parsing the request."""


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with 414 for long targets and JSON refusals."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._refusal: tuple[int, str] | None = None
        self._chunk = b""
        self._draining = False
        self._drained = 0
        self._tail = b""

    def data_received(self, data: bytes) -> None:
        if self._draining:
            self._drain(data)
            return
        self._chunk = data
        super().data_received(data)

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > MAX_TARGET_BYTES:
            self._refusal = (
                414,
                f"The request URL is longer than {MAX_TARGET_BYTES:,} bytes; "
                "send the parameters in a POST body instead.",
            )
            raise _TargetTooLong  # the parser stops and calls send_400_response

    def send_400_response(self, msg: str) -> None:
        status, message = self._refusal or (400, "The request is not valid HTTP/1.1.")
        body = json.dumps(error_body(status, message)).encode("utf-8")
        head = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            head.extend([name, b": ", value, b"\r\n"])
        head.extend(
            [
                b"content-type: application/json\r\n",
                b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
                b"connection: close\r\n\r\n",
            ]
        )
        self.transport.write(b"".join(head) + body)
        if self._refusal is None:
            self.transport.close()
            return
        # The client is still sending the rest of the head: read it, then close.
        self._draining = True
        self.loop.call_later(_DRAIN_SECONDS, self.transport.close)
        self._drain(self._chunk)

    def _drain(self, data: bytes) -> None:
        self._drained += len(data)
        seen = self._tail + data
        if _HEAD_END in seen or self._drained > _MAX_DRAINED_BYTES:
            self.transport.close()
        self._tail = seen[-(len(_HEAD_END) - 1) :]
