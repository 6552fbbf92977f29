"""What stands in for inflating a copied PNG: chunk checksums, IEND, the stream's start.

The IDAT of a non-interlaced PNG without alpha is copied into the PDF without
being inflated, so these tests pin down which damage is still caught (and
with which message) and that the copy really is chunk by chunk. The alpha
path inflates every row, so a short stream under good checksums is caught
there in full.
"""

from __future__ import annotations

import random
import struct
import zlib
from pathlib import Path

import pikepdf
import pytest

from pdfbinder.engine import CorruptInput, EngineError, TooLarge, images_to_pdf
from tests.support.images import encode_png, page_image
from tests.support.qpdf import qpdf_check

_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png(
    width: int,
    height: int,
    color_type: int,
    idat_parts: list[bytes],
    *,
    extra: bytes = b"",
    end: bool = True,
) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    chunks = _chunk(b"IHDR", header) + extra
    chunks += b"".join(_chunk(b"IDAT", part) for part in idat_parts)
    return _SIGNATURE + chunks + (_chunk(b"IEND", b"") if end else b"")


def _gray_rows(width: int, height: int, seed: int, *, unfiltered: bool = False) -> bytes:
    """Rows of random 8-bit gray, each led by a random filter type (or type 0, None)."""
    rng = random.Random(seed)
    return b"".join(
        bytes([0 if unfiltered else rng.randrange(5)]) + rng.randbytes(width) for _ in range(height)
    )


def _convert_error(tmp_path: Path, data: bytes) -> EngineError:
    source = tmp_path / "bad.png"
    source.write_bytes(data)
    output = tmp_path / "out.pdf"
    with pytest.raises(EngineError) as caught:
        images_to_pdf([source], output)
    assert not output.exists()
    assert str(caught.value).startswith("input 1 (bad.png): ")
    return caught.value


def test_copied_idat_is_written_chunk_by_chunk_unchanged(tmp_path: Path) -> None:
    rows = _gray_rows(300, 200, seed=1, unfiltered=True)
    stream = zlib.compress(rows, 9)
    parts = [stream[start : start + 997] for start in range(0, len(stream), 997)]
    source = tmp_path / "many-chunks.png"
    source.write_bytes(_png(300, 200, 0, parts))
    output = tmp_path / "out.pdf"

    report = images_to_pdf([source], output)

    assert report.inputs[0].methods == ["png-idat-copy"]
    qpdf_check(output)
    with pikepdf.open(output) as pdf:
        image = page_image(pdf.pages[0])
        assert image.read_raw_bytes() == stream
        assert image.read_bytes() == b"".join(
            rows[start + 1 : start + 301] for start in range(0, len(rows), 301)
        )


def test_missing_iend_is_truncation(tmp_path: Path) -> None:
    data = _png(8, 8, 0, [zlib.compress(_gray_rows(8, 8, seed=2))], end=False)
    error = _convert_error(tmp_path, data)
    assert isinstance(error, CorruptInput)
    assert "no IEND chunk" in error.reason


def test_damaged_ancillary_chunk_is_an_error(tmp_path: Path) -> None:
    text = bytearray(_chunk(b"tEXt", b"Comment\0hello"))
    text[-1] ^= 0xFF
    data = _png(8, 8, 0, [zlib.compress(_gray_rows(8, 8, seed=3))], extra=bytes(text))
    error = _convert_error(tmp_path, data)
    assert error.reason == "PNG tEXt chunk is damaged (bad checksum)"


def test_garbage_under_good_checksums_is_damaged_image_data(tmp_path: Path) -> None:
    data = _png(64, 64, 2, [random.Random(4).randbytes(5000)])
    error = _convert_error(tmp_path, data)
    assert error.reason.startswith("PNG image data is damaged (")


def test_empty_first_idat_chunk_is_fine(tmp_path: Path) -> None:
    source = tmp_path / "empty-first.png"
    source.write_bytes(_png(8, 8, 0, [b"", zlib.compress(_gray_rows(8, 8, seed=11))]))
    assert images_to_pdf([source], tmp_path / "out.pdf").page_count == 1


def test_bad_row_filter_at_the_start_is_caught(tmp_path: Path) -> None:
    rows = bytearray(_gray_rows(100, 100, seed=5))
    rows[0] = 9
    error = _convert_error(tmp_path, _png(100, 100, 0, [zlib.compress(bytes(rows))]))
    assert error.reason == "PNG image data has an invalid row filter"


@pytest.mark.parametrize(
    ("damage", "reason"), [("cut", "truncated"), ("extra row", "does not match")]
)
def test_small_image_stream_is_checked_in_full(tmp_path: Path, damage: str, reason: str) -> None:
    """Rows that fit in the 64 KB checked prefix: a short or long stream is caught."""
    rows = _gray_rows(40, 40, seed=6)
    stream = zlib.compress(rows)[:-50] if damage == "cut" else zlib.compress(rows + rows[:41])
    error = _convert_error(tmp_path, _png(40, 40, 0, [stream]))
    assert isinstance(error, CorruptInput)
    assert reason in error.reason


def test_compressed_text_bomb_is_refused(tmp_path: Path) -> None:
    bomb = _chunk(b"zTXt", b"big\0\0" + zlib.compress(b"\0" * (2 << 20), 9))
    data = _png(8, 8, 0, [zlib.compress(_gray_rows(8, 8, seed=7))], extra=bomb)
    error = _convert_error(tmp_path, data)
    assert isinstance(error, TooLarge)
    assert error.reason == "PNG zTXt chunk inflates to over 1 MB"


def test_small_compressed_text_is_fine(tmp_path: Path) -> None:
    text = _chunk(b"iTXt", b"Title\0\x01\0en\0Titel\0" + zlib.compress("Grüße".encode()))
    source = tmp_path / "text.png"
    source.write_bytes(_png(8, 8, 0, [zlib.compress(_gray_rows(8, 8, seed=8))], extra=text))
    assert images_to_pdf([source], tmp_path / "out.pdf").page_count == 1


@pytest.mark.parametrize("color_type", [4, 6])
def test_alpha_stream_cut_under_good_checksums_is_truncation(
    tmp_path: Path, color_type: int
) -> None:
    """The alpha path inflates every row, so any short stream is caught."""
    channels = 2 if color_type == 4 else 4
    width, height = 700, 500  # well past the 64 KB a copied stream is checked for
    samples = [[random.Random(9).randrange(256) for _ in range(width * channels)]] * height
    idat = encode_png(tmp_path / "alpha.png", width, height, color_type, 8, samples)
    error = _convert_error(tmp_path, _png(width, height, color_type, [idat[:-20]]))
    assert error.reason == "PNG image data is truncated"


def test_alpha_split_keeps_the_png_filters(tmp_path: Path) -> None:
    """Colour and alpha rows stay PNG-filtered: both streams carry /Predictor 15."""
    width, height = 50, 40
    rng = random.Random(10)
    samples = [[rng.randrange(256) for _ in range(width * 4)] for _ in range(height)]
    source = tmp_path / "rgba.png"
    encode_png(source, width, height, 6, 8, samples)
    output = tmp_path / "out.pdf"

    images_to_pdf([source], output)

    with pikepdf.open(output) as pdf:
        image = page_image(pdf.pages[0])
        for stream, colors in ((image, 3), (image.SMask, 1)):
            assert stream.DecodeParms == pikepdf.Dictionary(
                Predictor=15, Colors=colors, BitsPerComponent=8, Columns=width
            )
            filters = zlib.decompress(stream.read_raw_bytes())[:: 1 + colors * width]
            assert list(filters) == [row % 5 for row in range(height)]
