"""Bombs: small files that claim or expand to enormous sizes are refused, fast, in bounded memory.

Each runs in the fuzz worker (4 GB address-space cap, deadline), so a bomb
that got through would fail as a crash or a hang rather than take the test
run down. Image bombs lie in their headers or really decompress to more than
the pixel limit; ZIP bombs expand ~1000:1, nest, or lie about their size; PDF
bombs nest or loop their structure, or carry a huge compressed stream (which
a merge copies without ever decoding).
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from tests.support.engine_worker import EngineWorker, Operation
from tests.support.fuzz import judge
from tests.support.fuzz_archives import build_archive


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_claiming(width: int, height: int) -> bytes:
    """A real 1x1 PNG whose IHDR (CRC fixed) claims ``width`` x ``height``."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def png_deflate_bomb() -> bytes:
    """10000x10000 grey zeros: ~100 KB of IDAT that inflates to 100 MB, over the pixel limit."""
    side = 10_000
    compressor = zlib.compressobj(9)
    row = bytes(side + 1)
    idat = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def _pillow(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def jpeg_claiming(width: int, height: int) -> bytes:
    data = _pillow(Image.new("RGB", (8, 8)), "JPEG")
    sof = data.index(b"\xff\xc0")
    return data[: sof + 5] + struct.pack(">HH", height, width) + data[sof + 9 :]


def gif_claiming(width: int, height: int) -> bytes:
    data = bytearray(_pillow(Image.new("P", (1, 1)), "GIF"))
    data[6:10] = struct.pack("<HH", width, height)
    frame = data.index(b"\x2c", 13)
    data[frame + 5 : frame + 9] = struct.pack("<HH", width, height)
    return bytes(data)


def tiff_claiming(width: int, height: int) -> bytes:
    data = _pillow(Image.new("L", (1, 1)), "TIFF")
    for tag, value in ((256, width), (257, height)):
        at = data.index(struct.pack("<H", tag), 8)
        kind = struct.unpack("<H", data[at + 2 : at + 4])[0]
        packed = struct.pack("<H", value) + b"\0\0" if kind == 3 else struct.pack("<I", value)
        data = data[: at + 8] + packed + data[at + 12 :]
    return data


def zip_bomb() -> bytes:
    return build_archive([("zeros.pdf", bytes(64 * 1024**2))], deflate=True)


def nested_zip() -> bytes:
    return build_archive([("inner.zip", zip_bomb())], deflate=True)


def zip_lying_about_size() -> bytes:
    """A 64 MB member whose headers claim 100 bytes (so the header ratio check passes).

    zipfile reads no more than the declared size, so only 100 bytes come out, and their
    CRC (of the real 64 MB) does not match: refused as corrupt, never expanded.
    """
    data = bytearray(zip_bomb())
    data[22:26] = struct.pack("<I", 100)
    central = data.index(b"PK\x01\x02")
    data[central + 24 : central + 28] = struct.pack("<I", 100)
    return bytes(data)


def _pdf(build: Callable[[pikepdf.Pdf], None]) -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(100, 100))
    build(pdf)
    buffer = io.BytesIO()
    pdf.save(buffer)
    return buffer.getvalue()


def pdf_deep_nesting() -> bytes:
    """A page dictionary entry holding arrays nested 50,000 deep (a parser-recursion bomb)."""
    base = _pdf(lambda pdf: None)
    marker = b"/Type /Page"
    return base.replace(marker, b"/Deep " + b"[" * 50_000 + b"]" * 50_000 + b" " + marker, 1)


def pdf_page_tree_loop() -> bytes:
    """The page tree's only kid is the tree itself."""

    def loop(pdf: pikepdf.Pdf) -> None:
        pdf.Root.Pages.Kids = pikepdf.Array([pdf.Root.Pages])

    return _pdf(loop)


def pdf_flate_bomb() -> bytes:
    """A page whose content stream inflates to 256 MB: copied, never decoded, by a merge."""

    def bomb(pdf: pikepdf.Pdf) -> None:
        compressed = zlib.compress(bytes(256 * 1024**2), 9)
        stream = pikepdf.Stream(pdf, compressed)
        stream.Filter = pikepdf.Name.FlateDecode
        pdf.pages[0].Contents = pdf.make_indirect(stream)

    return _pdf(bomb)


BOMBS: dict[str, tuple[Operation, Callable[[], bytes], str]] = {
    "PNG header claims 100000x100000": (
        "images_to_pdf",
        lambda: png_claiming(100_000, 100_000),
        "TooLarge",
    ),
    "PNG IDAT inflates to 100 Mpx": ("images_to_pdf", png_deflate_bomb, "TooLarge"),
    "JPEG SOF claims 65000x65000": (
        "images_to_pdf",
        lambda: jpeg_claiming(65_000, 65_000),
        "TooLarge",
    ),
    "GIF claims 65535x65535": ("images_to_pdf", lambda: gif_claiming(65_535, 65_535), "TooLarge"),
    "TIFF claims 100000x100000": (
        "images_to_pdf",
        lambda: tiff_claiming(100_000, 100_000),
        "TooLarge",
    ),
    "PNG bomb inside merge_any": ("merge_any", lambda: png_claiming(100_000, 100_000), "TooLarge"),
    "ZIP member 64 MB of zeros": ("merge_any", zip_bomb, "TooLarge"),
    "ZIP inside ZIP": ("merge_any", nested_zip, "UnsupportedInput"),
    "ZIP headers lie about the size": ("merge_any", zip_lying_about_size, "CorruptInput"),
    "PDF arrays nested 50000 deep": ("merge_pdfs", pdf_deep_nesting, "CorruptInput"),
    "PDF page tree loops": ("merge_pdfs", pdf_page_tree_loop, "CorruptInput"),
    "PDF stream inflating to 256 MB": ("merge_pdfs", pdf_flate_bomb, "pdf"),
}


@pytest.mark.parametrize("bomb", sorted(BOMBS))
def test_bomb_is_refused_or_passed_through_untouched(
    bomb: str, worker: EngineWorker, tmp_path: Path
) -> None:
    operation, build, expected = BOMBS[bomb]
    source = tmp_path / "in" / "bomb.bin"
    source.parent.mkdir()
    source.write_bytes(build())
    assert source.stat().st_size < 2 * 1024**2  # small on the wire: that is what makes it a bomb
    output = tmp_path / "out" / "result.pdf"
    output.parent.mkdir()
    outcome = worker.run(operation, [source], output, deadline=20)
    assert judge(outcome, output, [source], bomb) == expected, outcome
