"""``mock_pdfco``: route calls aimed at PDF.co to a local pdfbinder server, without pytest.

Usable as a context manager, a decorator (sync or ``async def``) or with ``start()``/``stop()``
from ``setUp``/``tearDown``. Imports only the standard library at module level; the server,
uvicorn and the HTTP clients load on first use.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from .intercept import Interception
    from .testserver import PdfbinderServer

PDFCO_BASE_URL = "https://api.pdf.co"

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
