"""Fixtures of the compat tests: an offline URL mirror and a default live server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pdfbinder.compat.settings import Settings
from tests.support.compat import MIRROR_HOST, ThreadServer, make_jpeg, make_pdf, make_png


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An offline mirror (``<host>/<path>``) holding a PNG, a JPEG and two PDFs."""
    root = tmp_path_factory.mktemp("mirror")
    folder = root / MIRROR_HOST
    folder.mkdir()
    (folder / "red.png").write_bytes(make_png(40, 30))
    (folder / "blue.jpg").write_bytes(make_jpeg(64, 48))
    (folder / "two.pdf").write_bytes(make_pdf(2, width=200, height=100))
    (folder / "three.pdf").write_bytes(make_pdf(3, width=300, height=150))
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pag")
    (folder / "locked.pdf").write_bytes(make_pdf(1, password="s3cret"))
    (folder / "annual report 2025.pdf").write_bytes(make_pdf(1))
    return root


@pytest.fixture(scope="module")
def server(mirror: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServer]:
    """A default server (offline, no keys) with the mirror as its URL map."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"), url_map=mirror, workers=2)
    with ThreadServer(settings) as running:
        yield running
