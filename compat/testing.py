"""The drop-in for test suites: swap the PDF.co cloud for a local pdfbinder server.

Two ways in, one mechanism:

* pytest (registered through the ``pytest11`` entry point, so installing pdfbinder is enough):
  ``pdfbinder_server`` is a real server on a free loopback port; ``pdfco_mock`` also routes
  every ``requests``/``httpx`` call aimed at ``https://api.pdf.co`` to it.
* anything else (unittest, scripts): ``with mock_pdfco() as server: ...`` or ``@mock_pdfco()``.

pytest imports this module in every run once pdfbinder is installed, so it imports only the
standard library at module level; the server, uvicorn and the HTTP clients load on first use.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from .intercept import Interception
    from .testserver import PdfbinderServer

try:  # pytest is only a test dependency; mock_pdfco works without it.
    import pytest
except ModuleNotFoundError:  # pragma: no cover - exercised only where pytest is absent
    pytest = None  # type: ignore[assignment]

PDFCO_BASE_URL = "https://api.pdf.co"
INI_BASE_URLS = "pdfco_mock_base_urls"
MARKER = "pdfco_mock"

Function = TypeVar("Function", bound=Callable[..., Any])


class PdfcoMock:
    """Routes ``requests``/``httpx`` calls for PDF.co (and ``extra_base_urls``) to a server.

    Use as a context manager (``with mock_pdfco() as server``), a decorator (``@mock_pdfco()``,
    sync or ``async def``), or with ``start()``/``stop()`` from ``setUp``/``tearDown``. With no
    ``server`` given, a private one is started for the duration and removed afterwards.
    """

    def __init__(
        self, server: PdfbinderServer | None = None, extra_base_urls: Iterable[str] = ()
    ) -> None:
        self.base_urls = [PDFCO_BASE_URL, *extra_base_urls]
        self._given_server = server
        self._server: PdfbinderServer | None = None
        self._interception: Interception | None = None

    @property
    def server(self) -> PdfbinderServer:
        """The server calls are routed to (only while active)."""
        if self._server is None:
            raise RuntimeError("mock_pdfco is not active")
        return self._server

    def start(self) -> PdfbinderServer:
        """Start routing (and the private server, if none was given); returns the server."""
        from .intercept import Interception
        from .testserver import PdfbinderServer

        if self._interception is not None:
            raise RuntimeError("this mock_pdfco is already active")
        server = self._given_server or PdfbinderServer().start()
        interception = Interception(self.base_urls, server.base_url)
        interception.start()
        self._server, self._interception = server, interception
        return server

    def stop(self) -> None:
        """Stop routing; stop the private server if this mock started it."""
        if self._interception is not None:
            self._interception.stop()
            self._interception = None
        if self._server is not None and self._given_server is None:
            self._server.stop()
        self._server = None

    def __enter__(self) -> PdfbinderServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __call__(self, function: Function) -> Function:
        """Decorate ``function`` (plain or ``async def``) to run with the mock active."""
        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with self:
                    return await function(*args, **kwargs)

            return run_async  # type: ignore[return-value]

        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            with self:
                return function(*args, **kwargs)

        return run  # type: ignore[return-value]


def mock_pdfco(
    server: PdfbinderServer | None = None, *, extra_base_urls: Iterable[str] = ()
) -> PdfcoMock:
    """Route calls aimed at ``https://api.pdf.co`` (and ``extra_base_urls``, e.g.
    ``https://localhost`` for Cloud API Server code) to ``server`` or a private local server.

    >>> with mock_pdfco() as server:          # doctest: +SKIP
    ...     requests.get("https://api.pdf.co/v1/file/upload/get-presigned-url?name=a.pdf")
    """
    return PdfcoMock(server, extra_base_urls)


if pytest is not None:

    def pytest_addoption(parser: pytest.Parser) -> None:
        parser.addini(
            INI_BASE_URLS,
            type="linelist",
            default=[],
            help="pdfbinder: base URLs the pdfco_mock fixture routes to the local server, "
            f"besides {PDFCO_BASE_URL} (e.g. https://localhost).",
        )

    def pytest_configure(config: pytest.Config) -> None:
        config.addinivalue_line(
            "markers",
            f"{MARKER}(*base_urls): pdfbinder: more base URLs the pdfco_mock fixture routes "
            "to the local server for this test.",
        )

    @pytest.fixture(scope="session")
    def pdfbinder_session_server(
        tmp_path_factory: pytest.TempPathFactory,
    ) -> Iterator[PdfbinderServer]:
        """One pdfbinder server for the whole session (faults and traffic not reset)."""
        from .testserver import PdfbinderServer

        data_dir: Path = tmp_path_factory.mktemp("pdfbinder-server")
        with PdfbinderServer(data_dir) as server:
            yield server

    @pytest.fixture
    def pdfbinder_server(pdfbinder_session_server: PdfbinderServer) -> Iterator[PdfbinderServer]:
        """A real pdfbinder server on a free loopback port, clean for this test.

        ``base_url``, ``requests``/``requests_to(route)``/``jobs`` (what it received),
        ``upload(content)`` and ``map_url(url, content)`` (pre-load files, serve remote URLs
        offline), ``fail_next``/``hold_job``/``fail_job``/``abort_job``/``expire_downloads``
        (fault injection). Faults, traffic and mapped URLs are reset around each test.
        """
        pdfbinder_session_server.reset()
        yield pdfbinder_session_server
        pdfbinder_session_server.reset()

    @pytest.fixture
    def pdfco_mock(
        pdfbinder_server: PdfbinderServer, request: pytest.FixtureRequest
    ) -> Iterator[PdfbinderServer]:
        """Route every requests/httpx call aimed at https://api.pdf.co to ``pdfbinder_server``.

        More base URLs: the ``pdfco_mock_base_urls`` ini option, or
        ``@pytest.mark.pdfco_mock("https://localhost")`` on a test. Other hosts pass through.
        Yields the server (the same object as ``pdfbinder_server``).
        """
        extra = list(request.config.getini(INI_BASE_URLS))
        for marker in request.node.iter_markers(MARKER):
            extra += list(marker.args)
        with mock_pdfco(pdfbinder_server, extra_base_urls=extra):
            yield pdfbinder_server
