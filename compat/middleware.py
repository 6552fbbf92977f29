"""The server's ASGI middlewares: the access log and the request-body limits.

* :class:`AccessLog` writes one JSON line per request (method, path, status,
  duration), with presign tokens, keys and passwords masked.
* :class:`BodyLimit` counts every request body as it streams in and answers 413
  past the route's limit — before reading anything when the declared
  ``Content-Length`` is already too big. File routes (multipart upload,
  presigned PUT) stream to disk and get the file limit; every other body is read
  into memory (JSON, form, base64) and gets the smaller in-memory limit.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import ApiError
from .limits import readable_size
from .protocol import API_PREFIX, SECRET_PARAMS, error_answer, route_path

access_log = logging.getLogger("pdfbinder.access")
_UPLOAD_TOKEN = re.compile(rf"^((?:{re.escape(API_PREFIX)})?/upload/)[^/]+")

_MULTIPART_SLACK = 1024 * 1024
"""Room for multipart framing and the small fields beside a file at the file limit."""
_DRAIN_BUDGET = 16 * 1024 * 1024
"""Bytes read and dropped after a refusal so the client gets to read the 413 (a server
that closes with unread input resets the connection and the answer is lost)."""
_FILE_ROUTES = ("/file/upload", "/upload/")


def loggable_target(path: str, query: str) -> tuple[str, str]:
    """The path and query with presign tokens, keys and passwords replaced by ``***``;
    the rest of the query stays as the client wrote it."""
    safe_path = _UPLOAD_TOKEN.sub(r"\1***", path) if "/upload/" in path else path
    pairs = query.split("&")
    for position, pair in enumerate(pairs):
        name, _, value = pair.partition("=")
        if "%" in name or "+" in name:
            name = unquote_plus(name)
        if value and name.lower() in SECRET_PARAMS:
            pairs[position] = f"{pair[: len(pair) - len(value)]}***"
    return safe_path, "&".join(pairs)


class AccessLog:
    """ASGI middleware: one JSON line per request (method, path, status, duration)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                self._log(scope, status, time.perf_counter() - began)

    @staticmethod
    def _log(scope: Scope, status: int, seconds: float) -> None:
        path, query = loggable_target(scope["path"], scope["query_string"].decode("latin-1"))
        entry: dict[str, Any] = {
            "method": scope["method"],
            "path": path,
            "status": status,
            "duration_ms": round(seconds * 1000, 1),
        }
        if query:
            entry["query"] = query
        # The record is made here: the logger's own info() would first look up the file and
        # line it was called from, which a line holding only the message never shows.
        record = access_log.makeRecord(
            access_log.name, logging.INFO, "", 0, json.dumps(entry), (), None
        )
        access_log.handle(record)


@dataclass(frozen=True)
class BodyLimits:
    """The two body limits: streamed file uploads and in-memory bodies."""

    file_bytes: int
    memory_bytes: int

    def for_path(self, path: str) -> int:
        """The limit of the route at ``path`` (``/`` and ``/v1`` alike)."""
        route = route_path(path)
        if route == _FILE_ROUTES[0] or route.startswith(_FILE_ROUTES[1]):
            return self.file_bytes + _MULTIPART_SLACK
        return self.memory_bytes


def body_too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        f"The request body is larger than the limit of {readable_size(limit)} ({limit} bytes).",
    )


class BodyLimit:
    """ASGI middleware enforcing :class:`BodyLimits` on every HTTP request body."""

    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.for_path(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            if declared <= limit + _DRAIN_BUDGET:
                await _drain(receive, declared)
            refusal = body_too_large(limit)
            await error_answer(refusal.status, refusal.message)(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    if message.get("more_body", False):
                        await _drain(receive, _DRAIN_BUDGET)
                    raise body_too_large(limit)
            return message

        await self.app(scope, counting_receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


async def _drain(receive: Receive, budget: int) -> None:
    """Read and drop the rest of the body, at most ``budget`` bytes."""
    dropped = 0
    while dropped <= budget:
        message = await receive()
        if message["type"] != "http.request":
            return
        dropped += len(message.get("body", b""))
        if not message.get("more_body", False):
            return
