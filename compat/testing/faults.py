"""Fault and timing injection for the PDF.co-compatible app, as an ASGI middleware.

Tests of a PDF.co client need to see the failures the real service produces — a 442 from a
route, a job that stays ``working``, a job that ends ``failed`` or ``aborted``, a result link
that has expired — on demand and deterministically. :class:`FaultInjector` wraps the real app:
it records every request it sees (:class:`RequestLog`), and answers from a :class:`FaultPlan`
where the plan says so, in the same JSON shapes the real service uses. Everything else passes
through to the real app untouched.

The plan is filled from the test's thread while the server runs in another, so every plan and
log operation takes a lock and never holds it across an ``await``.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from ..protocol import SECRET_PARAMS, route_path

Message = MutableMapping[str, Any]
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

JOB_CHECK_ROUTE = "/job/check"
# Requests carrying this header (a fixture pre-loading files) are neither recorded nor faulted.
UNTRACKED_HEADER = "x-pdfbinder-untracked"
SECRET_HEADERS = frozenset({"x-api-key", "authorization", "proxy-authorization", "cookie"})
REDACTED = "<redacted>"
# Bodies up to this size are read to record their parameters; uploads are left streaming.
_MAX_RECORDED_BODY = 64 * 1024
_SETTLE_INTERVAL = 0.02

DEFAULT_MESSAGES: dict[int, str] = {
    400: "Bad request: the request parameters are invalid (injected by pdfbinder).",
    401: "Unauthorized: the API key is missing or invalid (injected by pdfbinder).",
    403: "Forbidden: the source URL refused access (injected by pdfbinder).",
    404: "Not found (injected by pdfbinder).",
    408: "Request timed out; use async mode (injected by pdfbinder).",
    429: "Too many requests (injected by pdfbinder).",
    441: "The input PDF is encrypted and the password is missing or wrong (injected by pdfbinder).",
    442: "Input 1 is damaged or of an unsupported type (injected by pdfbinder).",
    445: "The job ran past its time limit; use async mode (injected by pdfbinder).",
    500: "Internal server error (injected by pdfbinder).",
}
EXPIRED_MESSAGE = "File not found: the link has expired or the file was deleted."


def route_of(path: str) -> str:
    """The route a path addresses: ``/v1`` prefix and trailing slash dropped, lower case.

    Every route is served both at the root and under ``/v1``, so a rule for ``/pdf/merge``
    must catch both spellings.
    """
    return route_path(path.rstrip("/").lower() or "/")


def error_body(status: int, message: str | None = None) -> dict[str, Any]:
    """The PDF.co error answer: ``{"error": true, "status": <code>, "message": ...}``."""
    text = message if message is not None else DEFAULT_MESSAGES.get(status, f"Error {status}.")
    return {"error": True, "status": status, "message": text}


@dataclass
class RecordedRequest:
    """One request the server received, with secrets redacted."""

    method: str
    path: str
    query: str  # raw, exactly as sent
    route: str
    params: dict[str, str]
    headers: dict[str, str]
    status: int | None = None


@dataclass(frozen=True)
class SubmittedJob:
    """An async job the server accepted: its id, the route that started it, its result URL."""

    job_id: str
    route: str
    url: str | None


class RequestLog:
    """What the server saw: every request (in arrival order) and every job it started."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._jobs: list[SubmittedJob] = []

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def jobs(self) -> list[SubmittedJob]:
        with self._lock:
            return list(self._jobs)

    def add_request(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def add_job(self, job: SubmittedJob) -> None:
        with self._lock:
            self._jobs.append(job)

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()
            self._jobs.clear()


@dataclass
class RouteFailure:
    """Answer the next ``remaining`` calls to ``route`` with an error (``None``: every call)."""

    route: str
    status: int
    message: str
    remaining: int | None
    used: int = 0


Step = Literal["hold", "settle", "failed", "aborted"]


@dataclass
class JobFault:
    """How ``/job/check`` answers for one job.

    ``job_id`` is ``None`` until the fault is bound to the next job the server starts. The job
    reads ``working`` for its first ``hold_polls`` checks and for ``hold_seconds`` after it was
    bound; after that it ends with ``outcome`` (``failed``/``aborted``), or, with no outcome,
    the real job's answer is reported once the real job has finished ("settle"), so a test
    sees exactly the number of ``working`` polls it asked for.
    """

    job_id: str | None = None
    hold_polls: int = 0
    hold_seconds: float = 0.0
    outcome: Literal["failed", "aborted"] | None = None
    message: str = ""
    error_code: int = 442
    polls: int = 0
    bound_at: float | None = None
    result_url: str | None = None

    def next_step(self, now: float) -> Step:
        """Count one check and say how to answer it."""
        self.polls += 1
        held_by_time = self.bound_at is not None and now < self.bound_at + self.hold_seconds
        if self.polls <= self.hold_polls or held_by_time:
            return "hold"
        return self.outcome or "settle"


@dataclass
class FaultPlan:
    """The faults a test asked for; consumed by :class:`FaultInjector` in arrival order."""

    _lock: threading.Lock = field(default_factory=threading.Lock)
    _route_failures: list[RouteFailure] = field(default_factory=list)
    _job_faults: list[JobFault] = field(default_factory=list)
    _expired_paths: set[str] = field(default_factory=set)
    _all_downloads_expired: bool = False

    def fail_route(
        self, route: str, status: int, message: str | None = None, times: int | None = 1
    ) -> RouteFailure:
        """Make the next ``times`` calls to ``route`` fail (``times=None``: until cleared)."""
        if times is not None and times < 1:
            raise ValueError("times must be at least 1 (or None for every call)")
        failure = RouteFailure(
            route_of(route), status, error_body(status, message)["message"], times
        )
        with self._lock:
            self._route_failures.append(failure)
        return failure

    def add_job_fault(self, fault: JobFault) -> JobFault:
        """Register ``fault``; without a ``job_id`` it applies to the next job started."""
        with self._lock:
            if fault.job_id is not None:
                fault.bound_at = time.monotonic()
            self._job_faults.append(fault)
        return fault

    def expire_download(self, url: str | None) -> None:
        """Make downloads of ``url`` answer 404; ``None`` makes every download answer 404."""
        with self._lock:
            if url is None:
                self._all_downloads_expired = True
            else:
                self._expired_paths.add(urlsplit(url).path)

    def clear(self) -> None:
        with self._lock:
            self._route_failures.clear()
            self._job_faults.clear()
            self._expired_paths.clear()
            self._all_downloads_expired = False

    def take_route_failure(self, route: str) -> RouteFailure | None:
        with self._lock:
            for failure in self._route_failures:
                if failure.route == route:
                    failure.used += 1
                    if failure.remaining is not None:
                        failure.remaining -= 1
                        if failure.remaining == 0:
                            self._route_failures.remove(failure)
                    return failure
        return None

    def bind_next_job(self, job_id: str, result_url: str | None) -> None:
        """Attach the oldest unbound job fault to the job that was just started."""
        with self._lock:
            for fault in self._job_faults:
                if fault.job_id is None:
                    fault.job_id = job_id
                    fault.bound_at = time.monotonic()
                    fault.result_url = result_url
                    return

    def next_job_step(self, job_id: str) -> tuple[JobFault, Step] | None:
        """The fault bound to ``job_id`` and how to answer this check, if any."""
        with self._lock:
            for fault in self._job_faults:
                if fault.job_id == job_id:
                    step = fault.next_step(time.monotonic())
                    if step in ("failed", "aborted") and fault.result_url:
                        # A job that did not succeed has no result to download.
                        self._expired_paths.add(urlsplit(fault.result_url).path)
                    return fault, step
        return None

    def download_expired(self, path: str) -> bool:
        with self._lock:
            return self._all_downloads_expired or path in self._expired_paths


def _headers_of(scope: Scope) -> dict[str, str]:
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", []):
        name = raw_name.decode("latin-1").lower()
        value = REDACTED if name in SECRET_HEADERS else raw_value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def _body_params(body: bytes) -> list[tuple[str, str]]:
    """Parameters of a small JSON object or form body, the body shapes clients send."""
    text = body.decode("utf-8", errors="replace").strip()
    if text.startswith("{"):
        try:
            document = json.loads(text)
        except ValueError:
            document = None
        if isinstance(document, dict):
            return [
                (str(key), value if isinstance(value, str) else json.dumps(value))
                for key, value in document.items()
            ]
    return parse_qsl(text, keep_blank_values=True)


def _params_of(scope: Scope, body: bytes | None) -> dict[str, str]:
    query = scope.get("query_string", b"").decode("latin-1")
    pairs = parse_qsl(query, keep_blank_values=True)
    if body:
        pairs += _body_params(body)
    return {name: REDACTED if name.lower() in SECRET_PARAMS else value for name, value in pairs}


def _redacted_query(query: str) -> str:
    """The raw query string with secret values replaced; everything else byte for byte."""
    pieces = []
    for piece in query.split("&"):
        name = piece.split("=", 1)[0]
        pieces.append(f"{name}={REDACTED}" if name.lower() in SECRET_PARAMS else piece)
    return "&".join(pieces)


def _param(params: dict[str, str], name: str) -> str | None:
    """A parameter by case-insensitive name (``jobid`` and ``jobId`` both occur)."""
    for key, value in params.items():
        if key.lower() == name:
            return value
    return None


def _small_body_expected(scope: Scope, headers: dict[str, str]) -> bool:
    length = headers.get("content-length", "")
    content_type = headers.get("content-type", "")
    return (
        scope["method"] != "PUT"
        and not content_type.startswith("multipart/")
        and length.isdigit()
        and 0 < int(length) <= _MAX_RECORDED_BODY
    )


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the already-read body to the app, then the real channel."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replay() -> Message:
        if pending:
            return pending.pop()
        return await receive()

    return replay


async def send_json(send: Send, status: int, payload: dict[str, Any]) -> None:
    """Send ``payload`` as a complete JSON response."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


@dataclass
class _Captured:
    status: int = 500
    chunks: list[bytes] = field(default_factory=list)

    def json(self) -> dict[str, Any]:
        try:
            document = json.loads(b"".join(self.chunks))
        except ValueError:
            return {}
        return document if isinstance(document, dict) else {}


def _working_view(real: dict[str, Any], job_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = {"status": "working", "jobId": job_id}
    if "remainingCredits" in real:
        answer["remainingCredits"] = real["remainingCredits"]
    return answer


def _ended_view(fault: JobFault, step: Step, job_id: str) -> dict[str, Any]:
    return {
        "status": step,
        "message": fault.message,
        "jobId": job_id,
        "error": True,
        "errorCode": fault.error_code,
    }


class FaultInjector:
    """ASGI middleware: records requests and applies a :class:`FaultPlan` in front of ``app``.

    ``is_download`` says which paths are file downloads (the ones ``expire_download`` affects).
    ``settle_timeout`` bounds how long a check waits for a held job's real outcome.
    """

    def __init__(
        self,
        app: ASGIApp,
        plan: FaultPlan,
        log: RequestLog,
        *,
        is_download: Callable[[str], bool],
        settle_timeout: float = 30.0,
    ) -> None:
        self.app = app
        self.plan = plan
        self.log = log
        self.is_download = is_download
        self.settle_timeout = settle_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers_of(scope)
        if UNTRACKED_HEADER in headers:
            await self.app(scope, receive, send)
            return
        body: bytes | None = None
        if _small_body_expected(scope, headers):
            body = await _read_body(receive)
            receive = _replaying(body, receive)
        route = route_of(scope["path"])
        record = RecordedRequest(
            method=scope["method"],
            path=scope["path"],
            query=_redacted_query(scope.get("query_string", b"").decode("latin-1")),
            route=route,
            params=_params_of(scope, body),
            headers=headers,
        )
        self.log.add_request(record)
        send = self._recording_status(send, record)

        failure = self.plan.take_route_failure(route)
        if failure is not None:
            await send_json(send, failure.status, error_body(failure.status, failure.message))
        elif self.is_download(scope["path"]) and self.plan.download_expired(scope["path"]):
            await send_json(send, 404, error_body(404, EXPIRED_MESSAGE))
        elif route == JOB_CHECK_ROUTE:
            await self._job_check(scope, receive, send, record.params, body or b"")
        else:
            await self.app(scope, receive, self._watching_for_jobs(send, route))

    @staticmethod
    def _recording_status(send: Send, record: RecordedRequest) -> Send:
        async def recording(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
            await send(message)

        return recording

    def _watching_for_jobs(self, send: Send, route: str) -> Send:
        """Pass the answer through, noting any job it starts before the client can poll it."""
        captured = _Captured()
        is_json = False

        async def watching(message: Message) -> None:
            nonlocal is_json
            if message["type"] == "http.response.start":
                content_type = dict(message.get("headers", [])).get(b"content-type", b"")
                is_json = content_type.startswith(b"application/json")
            elif message["type"] == "http.response.body" and is_json:
                captured.chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    self._note_job(captured.json(), route)
            await send(message)

        return watching

    def _note_job(self, answer: dict[str, Any], route: str) -> None:
        job_id = answer.get("jobId")
        if isinstance(job_id, str) and job_id:
            url = answer.get("url") if isinstance(answer.get("url"), str) else None
            self.log.add_job(SubmittedJob(job_id, route, url))
            self.plan.bind_next_job(job_id, url)

    async def _job_check(
        self, scope: Scope, receive: Receive, send: Send, params: dict[str, str], body: bytes
    ) -> None:
        job_id = _param(params, "jobid")
        planned = self.plan.next_job_step(job_id) if job_id else None
        if planned is None or job_id is None:
            await self.app(scope, receive, send)
            return
        fault, step = planned
        real = await self._ask_app(scope, body)  # keeps the real job's check count honest
        if step == "hold":
            await send_json(send, 200, _working_view(real.json(), job_id))
        elif step == "settle":
            deadline = time.monotonic() + self.settle_timeout
            while real.json().get("status") == "working" and time.monotonic() < deadline:
                await asyncio.sleep(_SETTLE_INTERVAL)
                real = await self._ask_app(scope, body)
            await send_json(send, real.status, real.json())
        else:
            await send_json(send, 200, _ended_view(fault, step, job_id))

    async def _ask_app(self, scope: Scope, body: bytes) -> _Captured:
        """Run one request through the real app and keep its answer instead of sending it."""
        captured = _Captured()
        delivered = False

        async def receive() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured.status = message["status"]
            elif message["type"] == "http.response.body":
                captured.chunks.append(message.get("body", b""))

        await self.app(dict(scope), receive, send)
        return captured
