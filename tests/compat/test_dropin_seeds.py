"""The vendor's own samples run unedited under ``pdfco_mock``, offline: their hard-coded
``https://localhost`` is routed to the local server, and the internet image URLs they convert are
served from the URL map, never fetched."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from pdfbinder.compat.testing.testserver import PdfbinderServer
from tests.support.seeds import IMAGES_SEED, seed_code

IMAGE_URLS = {
    "https://bytescout-com.s3.amazonaws.com/files/demo-files/cloud-api/image-to-pdf/image1.png": (
        "PNG",
        (120, 80),
    ),
    "https://bytescout-com.s3.amazonaws.com/files/demo-files/cloud-api/image-to-pdf/image2.jpg": (
        "JPEG",
        (64, 96),
    ),
}


def image_bytes(kind: str, size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 40, 90)).save(buffer, kind, dpi=(72, 72))
    return buffer.getvalue()


@pytest.mark.pdfco_mock("https://localhost")
def test_seed_converts_internet_images_from_the_url_map(
    pdfco_mock: PdfbinderServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for url, (kind, size) in IMAGE_URLS.items():
        pdfco_mock.map_url(url, image_bytes(kind, size))
    monkeypatch.chdir(tmp_path)
    real_sleep = time.sleep
    monkeypatch.setattr(time, "sleep", lambda seconds: real_sleep(min(seconds, 0.05)))
    namespace: dict[str, object] = {"__name__": "seed"}
    exec(compile(seed_code(IMAGES_SEED), "seed_000.py", "exec"), namespace)

    namespace["main"]()  # type: ignore[operator]

    with pikepdf.open(tmp_path / ".\\result.pdf") as pdf:
        # PNG stores resolution in dots per metre, so 72 dpi comes back as 72.009.
        sizes = [tuple(round(float(side)) for side in page.mediabox[2:]) for page in pdf.pages]
    assert sizes == [(120, 80), (64, 96)]
    convert = pdfco_mock.requests_to("/pdf/convert/from/image")[0]
    assert convert.headers["host"] == "localhost"
    assert convert.query.endswith("url=" + ",".join(IMAGE_URLS))
