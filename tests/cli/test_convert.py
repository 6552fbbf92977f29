"""``pdfbinder convert`` run as a real process: files, pipes, JSON, errors and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pikepdf
from PIL import Image

from tests.support.images import invalid_apng, truncated_tiff
from tests.support.qpdf import qpdf_check

COMMAND = [sys.executable, "-c", "from pdfbinder.cli.app import main; main()", "convert"]


def _run(*args: str, stdin: bytes | None = None, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*COMMAND, *args], input=stdin, capture_output=True, cwd=cwd, timeout=60)


def _images(tmp_path: Path) -> tuple[Path, Path]:
    photo, shot = tmp_path / "photo.jpg", tmp_path / "shot.png"
    Image.new("RGB", (64, 48), (200, 10, 10)).save(photo, dpi=(300, 300))
    Image.new("RGBA", (32, 32), (0, 0, 255, 128)).save(shot)
    return photo, shot


def test_convert_files_with_json_summary(tmp_path: Path) -> None:
    photo, shot = _images(tmp_path)
    result = _run(str(photo), str(shot), "-o", "out.pdf", "--json", "--title", "Two", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["pages"] == 2
    assert summary["output"] == "out.pdf"
    assert summary["warnings"] == []
    assert [item["embedded"] for item in summary["inputs"]] == [
        ["jpeg-passthrough"],
        ["png-alpha-split"],
    ]
    qpdf_check(tmp_path / "out.pdf")
    with pikepdf.open(tmp_path / "out.pdf") as pdf:
        assert str(pdf.docinfo.Title) == "Two"
        assert [float(v) for v in pdf.pages[0].MediaBox] == [0, 0, 15.36, 11.52]


def test_stdin_to_stdout(tmp_path: Path) -> None:
    photo, _ = _images(tmp_path)
    result = _run(
        "-",
        "-o",
        "-",
        "--page-size",
        "A5",
        "--deterministic",
        stdin=photo.read_bytes(),
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    piped = tmp_path / "piped.pdf"
    piped.write_bytes(result.stdout)
    qpdf_check(piped)
    with pikepdf.open(piped) as pdf:
        assert len(pdf.pages) == 1
        (image,) = pdf.pages[0].Resources.XObject.values()
        assert image.read_raw_bytes() == photo.read_bytes()
        assert round(float(pdf.pages[0].MediaBox[2]), 2) == 419.53


def test_bad_input_one_line_error_exit_code_and_no_file(tmp_path: Path) -> None:
    photo, _ = _images(tmp_path)
    (tmp_path / "broken.jpg").write_bytes(photo.read_bytes()[:300])

    result = _run(str(photo), "broken.jpg", "-o", "out.pdf", cwd=tmp_path)

    assert result.returncode == 3
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("pdfbinder: error: input 2 (broken.jpg): JPEG data is truncated")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.jpg", "photo.jpg", "shot.png"]


def test_missing_file_and_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.png").write_bytes(b"")
    missing = _run("nope.png", "-o", "out.pdf", cwd=tmp_path)
    empty = _run("empty.png", "-o", "out.pdf", cwd=tmp_path)
    assert missing.returncode == empty.returncode == 3
    assert b"input 1 (nope.png): cannot be read" in missing.stderr
    assert b"input 1 (empty.png): file is empty" in empty.stderr
    assert not (tmp_path / "out.pdf").exists()


def test_over_the_pixel_limit_exits_4(tmp_path: Path) -> None:
    photo, _ = _images(tmp_path)
    result = _run(str(photo), "-o", "out.pdf", "--max-pixels", "1000", cwd=tmp_path)
    assert result.returncode == 4
    assert b"over the limit of 1,000" in result.stderr
    assert not (tmp_path / "out.pdf").exists()


def test_bad_option_exits_2(tmp_path: Path) -> None:
    photo, _ = _images(tmp_path)
    result = _run(str(photo), "-o", "out.pdf", "--page-size", "huge", cwd=tmp_path)
    assert result.returncode == 2
    assert b"invalid page size 'huge'" in result.stderr


def test_pillows_warnings_never_reach_stderr(tmp_path: Path) -> None:
    (tmp_path / "cut.tif").write_bytes(truncated_tiff())
    (tmp_path / "still.png").write_bytes(invalid_apng())

    refused = _run("cut.tif", "-o", "out.pdf", cwd=tmp_path)
    converted = _run("still.png", "-o", "out.pdf", cwd=tmp_path)

    assert refused.returncode == 3
    (line,) = refused.stderr.decode().strip().splitlines()  # Pillow's "Truncated File Read" too
    assert line.startswith("pdfbinder: error: input 1 (cut.tif): ")
    assert converted.returncode == 0
    assert converted.stderr.decode().strip().splitlines() == [
        "pdfbinder: warning: input 1 (still.png): "
        "Invalid APNG, will use default PNG image if possible"
    ]
