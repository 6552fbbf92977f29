"""Page geometry arithmetic: sizes, lengths, fit modes and the orientation matrices."""

from __future__ import annotations

import pytest
from PIL import Image, ImageOps

from pdfbinder.engine.errors import InvalidOption
from pdfbinder.engine.images.layout import PageOptions, parse_length, parse_page_size, place


@pytest.mark.parametrize(
    ("text", "points"),
    [
        ("A4", (595.276, 841.890)),
        ("a3", (841.890, 1190.551)),
        ("A6", (297.638, 419.528)),
        ("B5", (498.898, 708.661)),
        ("Letter", (612, 792)),
        ("legal", (612, 1008)),
        ("210x297mm", (595.276, 841.890)),
        ("8.5inx11in", (612, 792)),
        ("8.5x11in", (612, 792)),
        ("100x200", (100, 200)),
        ("10cm x 5cm", (283.465, 141.732)),
        ("960x540px", (720, 405)),
    ],
)
def test_page_sizes(text: str, points: tuple[float, float]) -> None:
    assert parse_page_size(text) == pytest.approx(points, abs=0.001)


@pytest.mark.parametrize(
    "text", ["A99", "x", "10x", "0x10mm", "10x10 furlongs", "", "2x2", "1mm x 10cm"]
)
def test_bad_page_sizes_are_refused(text: str) -> None:
    with pytest.raises(InvalidOption):
        parse_page_size(text)


def test_lengths() -> None:
    assert parse_length(12) == 12
    assert parse_length("1in") == 72
    assert parse_length("25.4mm") == pytest.approx(72)
    assert parse_length("96px") == 72
    with pytest.raises(InvalidOption):
        parse_length("-3mm")


def test_shrink_and_enlarge_only_scale_one_way() -> None:
    a4 = PageOptions.parse("A4", "shrink", None, False)
    big = place(4000, 2000, (96, 96), 1, a4)
    small = place(100, 50, (96, 96), 1, a4)
    assert big.matrix[0] == pytest.approx(595.276, abs=0.001)
    assert small.matrix[0] == pytest.approx(75)
    enlarge = PageOptions.parse("A4", "enlarge", None, False)
    assert place(4000, 2000, (96, 96), 1, enlarge).matrix[0] == pytest.approx(3000)
    assert place(100, 50, (96, 96), 1, enlarge).matrix[0] == pytest.approx(595.276, abs=0.001)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_matrix_agrees_with_pillow_exif_transpose(orientation: int) -> None:
    # A 3x2 image whose pixel values name their position.
    stored = Image.new("L", (3, 2))
    stored.putdata([10, 20, 30, 40, 50, 60])
    exif = stored.getexif()
    exif[0x0112] = orientation
    stored.info["exif"] = exif.tobytes()
    upright = ImageOps.exif_transpose(stored)

    placement = place(3, 2, (24, 24), orientation, PageOptions())  # 3 pt per pixel
    a, b, c, d, e, f = placement.matrix
    assert (placement.page_width / 3, placement.page_height / 3) == upright.size
    for y in range(2):
        for x in range(3):
            # Centre of stored pixel (x, y) in PDF image space: u right, v up.
            u, v = (x + 0.5) / 3, 1 - (y + 0.5) / 2
            page_x, page_y = a * u + c * v + e, b * u + d * v + f
            column, row = int(page_x / 3), int((placement.page_height - page_y) / 3)
            assert upright.getpixel((column, row)) == stored.getpixel((x, y))
