"""A real pdfbinder server for test suites, with fault injection and a record of its traffic.

:class:`PdfbinderServer` runs the same app ``pdfbinder serve`` runs, in a background thread on a
free loopback port, behind :class:`~.faults.FaultInjector`. Tests drive it over
real HTTP and use its methods to pre-load files, map remote URLs to local content, inject
faults and inspect what was called.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

from .faults import (
    UNTRACKED_HEADER,
    FaultInjector,
    FaultPlan,
    JobFault,
    RecordedRequest,
    RequestLog,
    RouteFailure,
    SubmittedJob,
    route_of,
)

Content = bytes | str | Path
ABORTED_ERROR_CODE = 499  # what compat.service reports for a cancelled job


def _read(content: Content) -> bytes:
    """Bytes given directly, or the bytes of the file at a path."""
    return content if isinstance(content, bytes) else Path(content).read_bytes()


class PdfbinderServer:
    """A pdfbinder server on ``127.0.0.1`` for tests; use as a context manager or start/stop.

    ``data_dir`` holds its files, job database and URL mirror (a temporary directory, removed
    on stop, when not given). ``settings`` override the test defaults (offline, any API key,
    unknown job ids answered ``unknown`` so a broken client cannot poll forever).
    """

    def __init__(self, data_dir: Path | None = None, **settings: Any) -> None:
        self._temporary = None if data_dir else tempfile.TemporaryDirectory(prefix="pdfbinder-")
        self.data_dir = Path(data_dir or self._temporary.name)  # type: ignore[union-attr]
        self.url_mirror = self.data_dir / "url-map"
        self.plan = FaultPlan()
        self.log = RequestLog()
        self._settings_overrides = settings
        self._server: Any = None

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> PdfbinderServer:
        """Start serving; returns ``self`` once the server accepts connections."""
        from .background import BackgroundServer

        if self._server is not None:
            raise RuntimeError("this PdfbinderServer is already running")
        self.url_mirror.mkdir(parents=True, exist_ok=True)
        self._server = BackgroundServer(self._wrapped_app())
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving and remove the temporary data directory, if one was made."""
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._temporary is not None:
            self._temporary.cleanup()

    def __enter__(self) -> PdfbinderServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _wrapped_app(self) -> FaultInjector:
        from ..app import create_app
        from ..settings import Settings

        defaults: dict[str, Any] = {
            "data_dir": self.data_dir,
            "api_keys": [],
            "allow_remote": False,
            "url_map": self.url_mirror,
            "public_url": None,
            "unknown_job_status": "unknown",
            "workers": 2,
        }
        settings = Settings(**{**defaults, **self._settings_overrides})
        return FaultInjector(create_app(settings), self.plan, self.log, is_download=_is_download)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` — where the server listens."""
        if self._server is None:
            raise RuntimeError("the server is not running; call start() first")
        return str(self._server.base_url)

    @property
    def port(self) -> int:
        return int(urlsplit(self.base_url).port or 0)

    def reset(self) -> None:
        """Forget faults, recorded traffic and mapped URLs (between tests)."""
        self.plan.clear()
        self.log.clear()
        for path in sorted(self.url_mirror.rglob("*"), reverse=True):
            if path.is_dir():
                path.rmdir()
            else:
                path.unlink()

    # -- what the server saw ------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received since the last reset, in arrival order, secrets redacted."""
        return self.log.requests

    def requests_to(self, route: str) -> list[RecordedRequest]:
        """The recorded requests for ``route`` (``/pdf/merge`` also matches ``/v1/pdf/merge``)."""
        wanted = route_of(route)
        return [request for request in self.log.requests if request.route == wanted]

    @property
    def jobs(self) -> list[SubmittedJob]:
        """The async jobs started since the last reset: id, route and result URL."""
        return self.log.jobs

    # -- content --------------------------------------------------------------------------

    def map_url(self, url: str, content: Content) -> Path:
        """Serve ``content`` whenever a job fetches the remote ``url`` (nothing is fetched).

        The file goes into the server's URL mirror (``<host>/<path>``, see ``urlmap.py``).
        """
        parts = urlsplit(url)
        segments = [unquote(piece) for piece in parts.path.split("/") if piece]
        if parts.scheme not in ("http", "https") or not parts.hostname or not segments:
            raise ValueError(f"not an http(s) URL of a file: {url!r}")
        if any(piece in {".", ".."} for piece in segments):
            raise ValueError(f"URL path escapes the mirror: {url!r}")
        target = self.url_mirror.joinpath(parts.hostname.lower(), *segments)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(_read(content))
        return target

    def upload(self, content: Content, name: str | None = None) -> str:
        """Store ``content`` on the server (as a client upload would) and return its URL."""
        import httpx

        data = _read(content)
        filename = name or (Path(content).name if not isinstance(content, bytes) else None)
        filename = filename or f"{hashlib.sha256(data).hexdigest()[:12]}.bin"
        response = httpx.post(
            f"{self.base_url}/file/upload",
            files={"file": (filename, data)},
            headers={UNTRACKED_HEADER: "1"},
            timeout=30,
        )
        answer = response.json()
        if response.status_code != 200 or answer.get("error") is not False:
            raise RuntimeError(f"pre-loading {filename} failed: {answer}")
        return str(answer["url"])

    # -- faults ---------------------------------------------------------------------------

    def fail_next(
        self, route: str, status: int = 442, message: str | None = None, times: int | None = 1
    ) -> RouteFailure:
        """Answer the next ``times`` calls to ``route`` with ``{"error": true, "status": ...}``.

        ``times=None`` fails every call until reset. ``message`` defaults to a sentence fitting
        the status (e.g. 442: input damaged or unsupported).
        """
        return self.plan.fail_route(route, status, message, times)

    def hold_job(self, polls: int = 0, seconds: float = 0.0, job_id: str | None = None) -> JobFault:
        """Keep a job ``working`` for ``polls`` checks and/or ``seconds``, then report its
        real outcome. Without ``job_id`` it applies to the next job started."""
        if polls < 0 or seconds < 0 or (polls == 0 and seconds == 0):
            raise ValueError("hold_job needs polls > 0 or seconds > 0")
        return self.plan.add_job_fault(
            JobFault(job_id=job_id, hold_polls=polls, hold_seconds=seconds)
        )

    def fail_job(
        self,
        message: str = "Input 1 (sample1.pdf): the file is damaged.",
        *,
        job_id: str | None = None,
        after_polls: int = 0,
        error_code: int = 442,
    ) -> JobFault:
        """Make a job end ``failed`` with ``message`` (after ``after_polls`` ``working`` checks);
        its result link then answers 404."""
        return self.plan.add_job_fault(
            JobFault(
                job_id=job_id,
                hold_polls=after_polls,
                outcome="failed",
                message=message,
                error_code=error_code,
            )
        )

    def abort_job(
        self,
        message: str = "The job was aborted.",
        *,
        job_id: str | None = None,
        after_polls: int = 0,
    ) -> JobFault:
        """Make a job end ``aborted`` (after ``after_polls`` ``working`` checks), with
        ``errorCode`` 499 as the server reports a cancelled job."""
        return self.plan.add_job_fault(
            JobFault(
                job_id=job_id,
                hold_polls=after_polls,
                outcome="aborted",
                message=message,
                error_code=ABORTED_ERROR_CODE,
            )
        )

    def expire_downloads(self, url: str | None = None) -> None:
        """Make downloads of ``url`` (or, with no ``url``, of every file) answer 404."""
        self.plan.expire_download(url)


def _is_download(path: str) -> bool:
    """File and result URLs are ``/files/<id>/<name>``, at the root or under ``/v1``."""
    return route_of(path).startswith("/files/")
