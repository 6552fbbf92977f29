"""Request-size and job-admission limits: what keeps hostile or careless clients bounded.

* :class:`BodyLimit` (ASGI middleware) counts every request body as it streams in
  and answers 413 past the route's limit — before reading anything when the
  declared ``Content-Length`` is already too big. File routes (multipart upload,
  presigned PUT) stream to disk and get the file limit; every other body is read
  into memory (JSON, form, base64) and gets the smaller in-memory limit.
* :class:`JobSlots` admits jobs: at most ``per_key`` queued-or-running jobs per API
  key and ``capacity`` over all keys (workers + queue), else 429. The job runner's
  queue is therefore bounded whatever the runner is.
* :class:`JobBudget` adds up one job's input bytes against ``max_job_bytes``.

Every refusal is an :class:`~pdfbinder.compat.errors.ApiError` (413 or 429), so the
HTTP layer answers ``{"error": true, "status": 413|429, "message": ...}``.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pdfbinder.engine import Source

from .errors import ApiError
from .protocol import error_answer

_MULTIPART_SLACK = 1024 * 1024
"""Room for multipart framing and the small fields beside a file at the file limit."""
_DRAIN_BUDGET = 16 * 1024 * 1024
"""Bytes read and dropped after a refusal so the client gets to read the 413 (a server
that closes with unread input resets the connection and the answer is lost)."""
_FILE_ROUTES = ("/file/upload", "/upload/")


def _readable_size(count: int) -> str:
    size = float(count)
    for unit in ("bytes", "KiB", "MiB"):
        if size < 1024:
            return f"{size:.4g} {unit}"
        size /= 1024
    return f"{size:.4g} GiB"


@dataclass(frozen=True)
class BodyLimits:
    """The two body limits: streamed file uploads and in-memory bodies."""

    file_bytes: int
    memory_bytes: int

    def for_path(self, path: str) -> int:
        """The limit of the route at ``path`` (``/`` and ``/v1`` alike)."""
        route = path[len("/v1") :] if path.startswith("/v1/") else path
        if route == _FILE_ROUTES[0] or route.startswith(_FILE_ROUTES[1]):
            return self.file_bytes + _MULTIPART_SLACK
        return self.memory_bytes


def body_too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        f"The request body is larger than the limit of {_readable_size(limit)} ({limit} bytes).",
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


class JobSlots:
    """Admission of jobs: per-key and total counts of queued-or-running jobs.

    A slot is taken under a ticket (the job's output id) and given back once;
    releasing twice, or a ticket never taken, is harmless, so every path that
    ends a job may release it.
    """

    def __init__(self, *, per_key: int, capacity: int) -> None:
        self.per_key = per_key
        self.capacity = capacity
        self._lock = threading.Lock()
        self._owners: dict[str, str | None] = {}
        self._per_owner: Counter[str | None] = Counter()

    def acquire(self, ticket: str, owner: str | None) -> None:
        """Take a slot for ``ticket`` or raise 429."""
        with self._lock:
            if len(self._owners) >= self.capacity:
                raise ApiError(
                    429,
                    f"The server is busy: {len(self._owners)} jobs are "
                    "queued or running, the most it takes. Retry later.",
                )
            if self._per_owner[owner] >= self.per_key:
                raise ApiError(
                    429,
                    f"Too many jobs at once for this API key: "
                    f"{self.per_key} are queued or running, the limit. "
                    "Retry when one has finished.",
                )
            self._owners[ticket] = owner
            self._per_owner[owner] += 1

    def release(self, ticket: str) -> None:
        """Give back ``ticket``'s slot (idempotent)."""
        with self._lock:
            if ticket not in self._owners:
                return
            owner = self._owners.pop(ticket)
            self._per_owner[owner] -= 1
            if self._per_owner[owner] <= 0:
                del self._per_owner[owner]

    @property
    def in_use(self) -> int:
        with self._lock:
            return len(self._owners)


def check_input_count(count: int, limit: int) -> None:
    """413 when a job names more sources than ``limit``."""
    if count > limit:
        raise ApiError(413, f"Too many inputs: {count} source URLs, the limit per job is {limit}.")


def check_page_count(count: int, limit: int) -> None:
    """413 when a job's result would have more pages than ``limit``."""
    if count > limit:
        raise ApiError(
            413, f"The result would have {count} pages, over the limit of {limit} pages per job."
        )


def source_size(source: Source) -> int | None:
    """Bytes in a path, bytes or seekable stream (position kept); ``None`` when unknowable."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return len(source)
    if isinstance(source, (str, os.PathLike)):
        return os.path.getsize(source)
    try:
        position = source.tell()
        size = source.seek(0, os.SEEK_END)
        source.seek(position)
        return int(size)
    except (OSError, ValueError, AttributeError):
        return None


class JobBudget:
    """The running total of one job's input bytes against ``max_bytes``."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.used = 0

    def add(self, size: int | None, what: str) -> None:
        """Count ``size`` more bytes (of input ``what``); 413 past the budget."""
        self.used += size or 0
        if self.used > self.max_bytes:
            raise ApiError(
                413,
                f"The job's inputs add up to more than "
                f"{_readable_size(self.max_bytes)} ({self.max_bytes} bytes) "
                f"at {what}.",
            )
