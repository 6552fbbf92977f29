"""The HTTP/1.1 connection handler: uvicorn's, answering what it refuses in the error shape,
and sending each answer's head and body in one write.

uvicorn writes an answer's head and its body to the socket separately: two
system calls, and two wake-ups of the client, for every answer. Here the head is
held until the body's first bytes, which follow it at once, and both go out in
one write (:class:`HeadWithBody`); a head with no body right behind it (a
streamed answer waiting for its first piece) is sent when the event loop turns.

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

import asyncio
import json
from collections.abc import Iterable
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from .protocol import error_body

MAX_TARGET_BYTES = 64 * 1024
"""Longest request target (path and query) served; longer parameters belong in a POST body."""
_MAX_DRAINED_BYTES = 16 * 1024 * 1024
_DRAIN_SECONDS = 10.0
_HEAD_END = b"\r\n\r\n"
_HEAD_START = b"HTTP/"


class HeadWithBody(asyncio.Transport):
    """A connection's transport that sends an answer's head together with its body.

    A write that is a whole response head (the status line through the blank line)
    is held; the next write goes out with it in one ``writelines``. Whatever is held
    is sent when the event loop turns, or before the connection closes.
    """

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._transport = transport
        self._loop = loop
        self._head: bytes | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        head = self._head
        if head is not None:
            self._head = None
            self._transport.writelines((head, data))
        elif isinstance(data, bytes) and data.startswith(_HEAD_START) and data.endswith(_HEAD_END):
            self._head = data
            self._loop.call_soon(self.flush)
        else:
            self._transport.write(data)

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        self.flush()
        self._transport.writelines(list_of_data)

    def flush(self) -> None:
        """Send a head still held (called when the loop turns)."""
        head = self._head
        if head is not None:
            self._head = None
            if not self._transport.is_closing():
                self._transport.write(head)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._head = None
        self._transport.abort()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()

    def get_write_buffer_size(self) -> int:
        held = len(self._head) if self._head is not None else 0
        return self._transport.get_write_buffer_size() + held

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()


class _TargetTooLong(Exception):
    """Raised inside the parser's URL callback to stop parsing the request."""


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with 414 for long targets, JSON refusals, and each
    answer's head and body in one write."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._refusal: tuple[int, str] | None = None
        self._chunk = b""
        self._draining = False
        self._drained = 0
        self._tail = b""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(HeadWithBody(transport, self.loop))

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
