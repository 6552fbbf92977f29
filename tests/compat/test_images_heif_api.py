"""HEIC and AVIF through the HTTP API: converted pixel-exact, or refused with the install hint."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pikepdf
import pytest
from PIL import Image

from tests.compat.test_profiles import job, result, upload
from tests.support.compat import ThreadServer, assert_error
from tests.support.heif import (
    FAKE_HEIC,
    avif_bytes,
    heic_bytes,
    heif_extra_missing,
    needs_avif,
    needs_heif,
)
from tests.support.heif import sample_image as sample
from tests.support.images import page_image


def _only_image_samples(data: bytes) -> bytes:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        (page,) = pdf.pages
        return page_image(page).read_bytes()


@needs_heif
def test_heic_converts_and_merges_pixel_exact(server: ThreadServer) -> None:
    url = upload(server, "phone.heic", heic_bytes(sample()))
    for route in ("/pdf/convert/from/image", "/pdf/merge2"):
        body = job(server, route, url=url).json()
        assert _only_image_samples(result(body)) == sample().tobytes()


@needs_avif
def test_avif_converts(server: ThreadServer) -> None:
    data = avif_bytes(sample())
    url = upload(server, "photo.avif", data)
    body = job(server, "/pdf/convert/from/image", url=url).json()
    with Image.open(io.BytesIO(data)) as decoded:
        assert _only_image_samples(result(body)) == decoded.convert("RGB").tobytes()


@pytest.fixture
def without_heif_extra(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with heif_extra_missing(monkeypatch):
        yield


def test_heic_without_the_extra_is_442_with_the_install_hint(
    server: ThreadServer, without_heif_extra: None
) -> None:
    url = upload(server, "phone.heic", FAKE_HEIC)
    for route in ("/pdf/convert/from/image", "/pdf/merge2"):
        message = assert_error(job(server, route, url=url), 442)["message"]
        assert "phone.heic" in message
        assert "not an image in a supported format" in message
        assert "pip install 'pdfbinder[heif]'" in message
