"""Bad inputs: one clear error naming the input, never a partial output file."""

from __future__ import annotations

import struct
import time
import zlib
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from pdfbinder.engine import (
    CorruptInput,
    EngineError,
    InvalidOption,
    TooLarge,
    UnsupportedInput,
    images_to_pdf,
)


def _good_png(tmp_path: Path) -> Path:
    path = tmp_path / "good.png"
    Image.new("RGB", (20, 20), (5, 6, 7)).save(path)
    return path


def _png_header_only(width: int, height: int) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunks = b""
    for kind, body in ((b"IHDR", header), (b"IDAT", zlib.compress(b"\0" * 16)), (b"IEND", b"")):
        crc = zlib.crc32(kind + body)
        chunks += struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)
    return b"\x89PNG\r\n\x1a\n" + chunks


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[bytes, type[EngineError], str]]:
    jpeg = tmp_path / "j.jpg"
    Image.new("RGB", (64, 64), (1, 100, 200)).save(jpeg)
    png = _good_png(tmp_path).read_bytes()
    damaged_png = bytearray(png)
    damaged_png[60] ^= 0xFF  # inside IDAT: checksum no longer matches
    return {
        "empty.png": (b"", UnsupportedInput, "file is empty"),
        "notes.txt": (b"just some text, not a picture\n", UnsupportedInput, "not an image"),
        "truncated.jpg": (jpeg.read_bytes()[:-200], CorruptInput, "truncated"),
        "damaged.png": (bytes(damaged_png), CorruptInput, "bad checksum"),
        "cut.png": (png[: len(png) // 2], CorruptInput, "truncated"),
    }


@pytest.mark.parametrize(
    "name", ["empty.png", "notes.txt", "truncated.jpg", "damaged.png", "cut.png"]
)
def test_bad_input_is_named_and_leaves_no_output(tmp_path: Path, name: str) -> None:
    data, kind, reason = _bad_inputs(tmp_path)[name]
    bad = tmp_path / name
    bad.write_bytes(data)
    output = tmp_path / "out" / "result.pdf"
    output.parent.mkdir()

    with pytest.raises(kind) as caught:
        images_to_pdf([_good_png(tmp_path), bad], output)

    message = str(caught.value)
    assert message.startswith(f"input 2 ({name}): ")
    assert reason in message
    assert "\n" not in message
    assert list(output.parent.iterdir()) == []  # no output, no temporary file


def test_failure_keeps_an_existing_output_untouched(tmp_path: Path) -> None:
    output = tmp_path / "result.pdf"
    output.write_bytes(b"previous")
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(CorruptInput):
        images_to_pdf([bad], output)
    assert output.read_bytes() == b"previous"


def test_pixel_bomb_header_is_refused_before_any_decoding(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png_header_only(100_000, 100_000))
    started = time.perf_counter()
    with pytest.raises(TooLarge, match=r"input 1 \(bomb.png\): image is 100000x100000"):
        images_to_pdf([bomb], tmp_path / "out.pdf")
    assert time.perf_counter() - started < 0.5
    assert not (tmp_path / "out.pdf").exists()


def test_pixel_limit_is_configurable(tmp_path: Path) -> None:
    path = tmp_path / "big.jpg"
    Image.new("RGB", (300, 200)).save(path)
    with pytest.raises(TooLarge, match="over the limit of 50,000"):
        images_to_pdf([path], tmp_path / "out.pdf", max_pixels=50_000)
    report = images_to_pdf([path], tmp_path / "out.pdf", max_pixels=60_000)
    assert report.page_count == 1


@pytest.mark.parametrize(
    "options",
    [
        {"page_size": "A99"},
        {"fit": "stretch"},
        {"margin": "5 furlongs"},
        {"page_size": "A4", "margin": "20cm"},
        {"max_pixels": 0},
    ],
)
def test_invalid_options_are_refused(tmp_path: Path, options: dict[str, Any]) -> None:
    with pytest.raises(InvalidOption):
        images_to_pdf([_good_png(tmp_path)], tmp_path / "out.pdf", **options)
    assert not (tmp_path / "out.pdf").exists()


def test_no_inputs_is_an_invalid_option(tmp_path: Path) -> None:
    with pytest.raises(InvalidOption, match="no input images"):
        images_to_pdf([], tmp_path / "out.pdf")


def test_float_tiff_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "float.tif"
    Image.new("F", (8, 8), 0.5).save(path)
    with pytest.raises(UnsupportedInput, match=r"input 1 \(float.tif\): 32-bit floating-point"):
        images_to_pdf([path], tmp_path / "out.pdf")
