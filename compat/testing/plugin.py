"""The pytest plugin (registered through the ``pytest11`` entry point, so installing pdfbinder
is enough): ``pdfbinder_server`` is a real server on a free loopback port; ``pdfco_mock`` also
routes every ``requests``/``httpx`` call aimed at ``https://api.pdf.co`` to it.

pytest imports this module in every run once pdfbinder is installed, so it imports only the
standard library and pytest at module level.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from .mock import PDFCO_BASE_URL, mock_pdfco

if TYPE_CHECKING:
    from .testserver import PdfbinderServer

INI_BASE_URLS = "pdfco_mock_base_urls"
MARKER = "pdfco_mock"


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
