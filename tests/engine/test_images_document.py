"""The PDF as a whole: metadata, byte-reproducible output, streaming, progress."""

from __future__ import annotations

import io
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO, cast

import pikepdf
from PIL import Image

from pdfbinder.engine import images_to_pdf
from tests.support.images import convert
from tests.support.qpdf import qpdf_check


def _inputs(tmp_path: Path) -> list[Path]:
    paths = []
    for number, fmt in enumerate(["PNG", "JPEG", "GIF"]):
        path = tmp_path / f"in{number}.{fmt.lower()}"
        Image.new("RGB", (40 + number, 30), (number * 80, 20, 200)).save(path, fmt)
        paths.append(path)
    return paths


def test_metadata_is_written(tmp_path: Path) -> None:
    moment = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
    pdf, _ = convert(
        tmp_path,
        _inputs(tmp_path),
        title="Scans",
        author="Zoë",
        subject="S",
        keywords="a, b",
        creator="tests",
        creation_date=moment,
    )

    info = pdf.docinfo
    assert str(info.Title) == "Scans"
    assert str(info.Author) == "Zoë"
    assert str(info.Subject) == "S"
    assert str(info.Keywords) == "a, b"
    assert str(info.Creator) == "tests"
    assert str(info.CreationDate) == "D:20240506070809+00'00'"
    assert str(info.ModDate) == "D:20240506070809+00'00'"


def test_deterministic_output_is_byte_identical(tmp_path: Path) -> None:
    inputs = _inputs(tmp_path)
    first, second = tmp_path / "a.pdf", tmp_path / "b.pdf"
    images_to_pdf(inputs, first, deterministic=True, title="T")
    images_to_pdf(inputs, second, deterministic=True, title="T")
    assert first.read_bytes() == second.read_bytes()
    with pikepdf.open(first) as pdf:
        assert "/CreationDate" not in pdf.docinfo
    # Default mode stamps the time and a random file identifier.
    images_to_pdf(inputs, second)
    assert first.read_bytes() != second.read_bytes()


class _PipeLike(io.RawIOBase):
    """A write-only, non-seekable sink, like stdout piped to another program."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.chunks.append(bytes(data))
        return len(data)


def test_non_seekable_output_gets_a_valid_pdf(tmp_path: Path) -> None:
    sink = _PipeLike()
    # cast: typeshed's io classes are not typing.BinaryIO, which the engine's outputs are typed as.
    report = images_to_pdf(_inputs(tmp_path), cast(BinaryIO, sink))
    assert report.page_count == 3
    target = tmp_path / "piped.pdf"
    target.write_bytes(b"".join(sink.chunks))
    qpdf_check(target)
    with pikepdf.open(target) as pdf:
        assert len(pdf.pages) == 3


def test_progress_is_reported_after_each_input(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    images_to_pdf(
        _inputs(tmp_path),
        tmp_path / "out.pdf",
        on_progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(1, 3), (2, 3), (3, 3)]


def test_report_counts_pages_and_describes_embedding(tmp_path: Path) -> None:
    report = images_to_pdf(_inputs(tmp_path), tmp_path / "out.pdf")
    assert report.page_count == 3
    assert [item.methods for item in report.inputs] == [
        ["png-idat-copy"],
        ["jpeg-passthrough"],
        ["flate"],
    ]
