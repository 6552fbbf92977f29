"""Helpers shared by the image→PDF tests: a reference PNG encoder and PDF image readers.

The encoder exists because Pillow cannot write 16-bit colour, 16-bit alpha or
interlaced PNGs; it uses every PNG row filter in turn so the engine's
unfiltering is exercised, and the samples the test gives it are the ground
truth the PDF must decode back to.
"""

from __future__ import annotations

import io
import struct
import subprocess
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pikepdf
from PIL import Image

from pdfbinder.engine import NamedSource, Source, images_to_pdf
from pdfbinder.engine.images.convert import ImagesReport
from tests.support.qpdf import qpdf_check

CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_ADAM7 = [
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
]


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _filter_rows(rows: list[bytes], bpp: int) -> bytes:
    """Filter each row with filter type (row index mod 5): None, Sub, Up, Average, Paeth."""
    out = bytearray()
    previous = bytes(len(rows[0])) if rows else b""
    for index, row in enumerate(rows):
        kind = index % 5
        filtered = bytearray()
        for i, value in enumerate(row):
            left = row[i - bpp] if i >= bpp else 0
            up = previous[i]
            upper_left = previous[i - bpp] if i >= bpp else 0
            predictor = (0, left, up, (left + up) // 2, _paeth(left, up, upper_left))[kind]
            filtered.append((value - predictor) & 0xFF)
        out += bytes([kind]) + filtered
        previous = row
    return bytes(out)


def pack_rows(samples: list[list[int]], bit_depth: int) -> list[bytes]:
    """Rows of integer samples packed big-endian at ``bit_depth`` bits, PNG/PDF style."""
    rows = []
    for row in samples:
        if bit_depth == 16:
            rows.append(b"".join(struct.pack(">H", v) for v in row))
        elif bit_depth == 8:
            rows.append(bytes(row))
        else:
            bits = "".join(format(v, f"0{bit_depth}b") for v in row)
            bits += "0" * (-len(bits) % 8)
            rows.append(int(bits, 2).to_bytes(len(bits) // 8, "big") if bits else b"")
    return rows


def encode_png(
    path: Path,
    width: int,
    height: int,
    color_type: int,
    bit_depth: int,
    samples: list[list[int]],
    *,
    interlace: bool = False,
    palette: bytes | None = None,
    transparency: bytes | None = None,
) -> bytes:
    """Write a PNG of ``samples`` (rows of channel-interleaved ints); return its IDAT data."""
    channels = CHANNELS[color_type]
    bpp = max(1, channels * bit_depth // 8)
    if interlace:
        raw = b""
        for x0, y0, dx, dy in _ADAM7:
            sub = [row[:] for row in samples[y0::dy]]
            sub = [
                [v for x in range(x0, width, dx) for v in row[x * channels : (x + 1) * channels]]
                for row in sub
            ]
            if sub and sub[0]:
                raw += _filter_rows(pack_rows(sub, bit_depth), bpp)
    else:
        raw = _filter_rows(pack_rows(samples, bit_depth), bpp)
    idat = zlib.compress(raw, 9)
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, int(interlace))
    body = _chunk(b"IHDR", header)
    if palette is not None:
        body += _chunk(b"PLTE", palette)
    if transparency is not None:
        body += _chunk(b"tRNS", transparency)
    # Split the data over two IDAT chunks: they must be joined.
    middle = len(idat) // 2
    body += _chunk(b"IDAT", idat[:middle]) + _chunk(b"IDAT", idat[middle:])
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body + _chunk(b"IEND", b""))
    return idat


def convert(
    tmp_path: Path, inputs: Iterable[Source | NamedSource], **options: Any
) -> tuple[pikepdf.Pdf, ImagesReport]:
    """Convert ``inputs``, check the result with qpdf, return the opened PDF and the report."""
    output = tmp_path / "out.pdf"
    report = images_to_pdf(inputs, output, **options)
    qpdf_check(output)
    return pikepdf.open(output), report


def page_image(page: pikepdf.Page) -> pikepdf.Stream:
    """The single image XObject drawn on ``page``."""
    (image,) = list(page.Resources.XObject.values())
    assert isinstance(image, pikepdf.Stream), image  # an XObject is a stream
    return image


def render(pdf_path: Path, tmp_path: Path, dpi: int = 96, page: int = 1) -> Image.Image:
    """Page ``page`` rendered by poppler's pdftoppm as an RGB image."""
    prefix = tmp_path / f"render{page}"
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            str(dpi),
            "-f",
            str(page),
            "-l",
            str(page),
            "-png",
            "-singlefile",
            str(pdf_path),
            str(prefix),
        ],
        check=True,
        capture_output=True,
    )
    # Not ``with Image.open(...) as image``: Pillow types ``__enter__`` as returning
    # ``typing.Self``, which is Any to a Python 3.10 type check.
    image = Image.open(prefix.with_suffix(".png"))
    with image:
        return image.convert("RGB")


def truncated_tiff() -> bytes:
    """A TIFF cut off inside its first directory: Pillow warns "Truncated File Read" and
    then cannot identify it."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 200, 30)).save(buffer, "TIFF")
    return buffer.getvalue()[:60]


def invalid_apng() -> bytes:
    """A PNG with an animation control chunk announcing zero frames: Pillow warns "Invalid
    APNG" and reads the still image."""
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 30, 30)).save(buffer, "PNG")
    data = buffer.getvalue()
    header_end = 8 + 8 + 13 + 4  # signature, then the IHDR chunk
    return data[:header_end] + _chunk(b"acTL", struct.pack(">II", 0, 0)) + data[header_end:]
