"""Fixtures of the web page's tests: one headless Chromium, one ``pdfbinder serve``.

The server is a real process on loopback.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.support.compat import ServeProcess
from tests.support.web import CHROMEDRIVER, CHROMIUM, Browser


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    for program in (CHROMIUM, CHROMEDRIVER):
        if not shutil.which(program):
            pytest.fail(f"{program} is missing: install chromium and chromium-driver (.ci/run)")
    running = Browser(tmp_path_factory.mktemp("downloads"))
    try:
        yield running
    finally:
        running.quit()


@pytest.fixture(scope="module")
def page_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """``pdfbinder serve`` with its defaults (the web page on, no API keys)."""
    with ServeProcess(tmp_path_factory.mktemp("serve") / "data") as process:
        yield process
