"""``pdfbinder demo`` — README's first command — produces the documented result."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pikepdf

from pdfbinder.cli.demo import draw_samples


def test_demo_converts_and_merges_through_the_embedded_server(tmp_path: Path) -> None:
    output = tmp_path / "demo.pdf"
    result = subprocess.run(
        [sys.executable, "-m", "pdfbinder.cli", "demo", "-o", str(output)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "async merge finished" in result.stdout

    with pikepdf.open(output) as pdf:
        assert len(pdf.pages) == 3
        photo, screenshot, badge = pdf.pages
        # 1200x800 px at 150 dpi → 8x5.33 in; 1280x720 px without DPI → 96 dpi.
        assert [round(float(v)) for v in photo.mediabox] == [0, 0, 576, 384]
        assert [round(float(v)) for v in screenshot.mediabox] == [0, 0, 960, 540]
        (photo_image,) = photo.get_images().values()
        assert photo_image.Filter == pikepdf.Name.DCTDecode
        (badge_image,) = badge.get_images().values()
        assert "/SMask" in badge_image


def test_demo_photo_bytes_pass_through_unchanged(tmp_path: Path) -> None:
    """The JPEG in the demo's result is the drawn JPEG, byte for byte."""
    samples = draw_samples(tmp_path)
    output = tmp_path / "demo.pdf"
    subprocess.run(
        [sys.executable, "-m", "pdfbinder.cli", "demo", "-o", str(output)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    with pikepdf.open(output) as pdf:
        (image,) = pdf.pages[0].get_images().values()
        assert image.read_raw_bytes() == samples[0].read_bytes()
