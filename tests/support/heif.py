"""HEIC and AVIF test files, written by the libraries that read them.

HEIC is written by pillow-heif's own API (never its Pillow opener, so the
engine must register that itself), losslessly: RGB stored as is (identity
matrix, 4:4:4), so the decoded pixels are the source's exactly. AVIF is
written by Pillow's built-in plugin; that encoder has no lossless RGB mode,
so its files are checked against Pillow's own decode of the same file.
"""

from __future__ import annotations

import importlib.util
import io
import random
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from PIL import Image, features

from pdfbinder.engine.images import heif

HEIF_EXTRA_MISSING = importlib.util.find_spec("pillow_heif") is None
needs_heif = pytest.mark.skipif(
    HEIF_EXTRA_MISSING,
    reason="the heif extra is not installed (pip install 'pdfbinder[heif]'; .ci/run does)",
)
needs_avif = pytest.mark.skipif(
    not features.check("avif"), reason="this Pillow was built without AVIF"
)

FAKE_HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64)
"""Only a HEIC signature: enough to be recognised and refused without the extra."""


def sample_image(mode: str = "RGB", size: tuple[int, int] = (40, 24)) -> Image.Image:
    """A picture with gradients and noise, so pixels differ from their neighbours; the same
    for the same arguments."""
    width, height = size
    noise = Image.frombytes("L", size, random.Random(f"{mode}{size}").randbytes(width * height))
    bands = [
        Image.linear_gradient("L").resize(size),
        noise,
        Image.linear_gradient("L").rotate(90).resize(size),
    ]
    if mode == "L":
        return noise
    if mode == "RGBA":
        bands.append(Image.radial_gradient("L").resize(size))
    return Image.merge(mode, bands[: len(mode)])


def heic_bytes(*images: Image.Image, **options: object) -> bytes:
    """A lossless HEIC holding ``images`` as its top-level images, in order."""
    import pillow_heif

    heif = pillow_heif.from_pillow(images[0])
    for image in images[1:]:
        heif.add_from_pillow(image)
    buffer = io.BytesIO()
    heif.save(buffer, quality=-1, chroma=444, matrix_coefficients=0, **options)
    return buffer.getvalue()


def heic_decoded(data: bytes) -> list[Image.Image]:
    """pillow-heif's own decode of every top-level image of ``data``."""
    import pillow_heif

    return [image.to_pillow() for image in pillow_heif.open_heif(io.BytesIO(data))]


def avif_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "AVIF", quality=100, subsampling="4:4:4")
    return buffer.getvalue()


@contextmanager
def heif_extra_missing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """As if pillow-heif were not installed: its import fails, and nothing is remembered.

    Also for a server in this process (the test servers run in a thread).
    """
    monkeypatch.setitem(sys.modules, "pillow_heif", None)
    heif._register_pillow_heif.cache_clear()
    try:
        yield
    finally:  # pillow_heif comes back when ``monkeypatch`` is undone
        heif._register_pillow_heif.cache_clear()
