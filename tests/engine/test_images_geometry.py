"""Where images land: EXIF orientation (rendered), DPI-sized pages, page sizes and fit modes."""

from __future__ import annotations

from pathlib import Path

import pikepdf
import pytest
from PIL import Image, ImageChops, ImageOps, ImageStat

from tests.support.images import convert, page_image, render


def _asymmetric(size: tuple[int, int] = (120, 80)) -> Image.Image:
    """Four differently coloured quadrants and a dot: any rotation or flip shows."""
    width, height = size
    image = Image.new("RGB", size, (255, 255, 255))
    image.paste((220, 30, 30), (0, 0, width // 2, height // 2))
    image.paste((30, 200, 30), (width // 2, 0, width, height // 2))
    image.paste((30, 30, 220), (0, height // 2, width // 2, height))
    image.paste((0, 0, 0), (width // 8, height // 8, width // 4, height // 4))
    return image


def _with_orientation(image: Image.Image, orientation: int) -> Image.Exif:
    exif = image.getexif()
    exif[0x0112] = orientation
    return exif


def _mean_difference(first: Image.Image, second: Image.Image) -> float:
    assert first.size == second.size
    return sum(ImageStat.Stat(ImageChops.difference(first, second)).mean) / 3


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_renders_upright_for_every_value(tmp_path: Path, orientation: int) -> None:
    stored = _asymmetric()
    path = tmp_path / "photo.jpg"
    stored.save(path, quality=95, exif=_with_orientation(stored, orientation))
    with Image.open(path) as reopened:
        upright = ImageOps.exif_transpose(reopened).convert("RGB")

    pdf, report = convert(tmp_path, [path])

    assert report.warnings == []
    # No re-encoding: the JPEG is still byte-identical, only the page matrix turns it.
    assert page_image(pdf.pages[0]).read_raw_bytes() == path.read_bytes()
    rendered = render(tmp_path / "out.pdf", tmp_path)
    assert rendered.size == upright.size
    assert _mean_difference(rendered, upright) < 6


def test_png_exif_orientation_is_honoured_too(tmp_path: Path) -> None:
    stored = _asymmetric()
    path = tmp_path / "turned.png"
    stored.save(path, exif=_with_orientation(stored, 6))

    convert(tmp_path, [path])

    expected = stored.transpose(Image.Transpose.ROTATE_270)
    assert _mean_difference(render(tmp_path / "out.pdf", tmp_path), expected) < 3


def test_invalid_orientation_is_ignored_with_a_warning(tmp_path: Path) -> None:
    stored = _asymmetric()
    path = tmp_path / "odd.jpg"
    stored.save(path, quality=95, exif=_with_orientation(stored, 12))

    pdf, report = convert(tmp_path, [path])

    assert report.warnings == ["input 1 (odd.jpg): invalid EXIF orientation 12 ignored"]
    assert [float(v) for v in pdf.pages[0].MediaBox] == [0, 0, 90, 60]


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "TIFF"])
def test_page_size_follows_the_image_dpi(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"scan.{fmt.lower()}"
    Image.new("RGB", (600, 300), (9, 9, 9)).save(path, fmt, dpi=(300, 300))

    pdf, _ = convert(tmp_path, [path])

    width, height = (float(v) for v in pdf.pages[0].MediaBox[2:])
    assert width == pytest.approx(144, abs=0.01)  # 2 inches
    assert height == pytest.approx(72, abs=0.01)


def test_images_without_dpi_are_96_dpi(tmp_path: Path) -> None:
    path = tmp_path / "plain.png"
    Image.new("L", (96, 48)).save(path)

    pdf, _ = convert(tmp_path, [path])

    assert [float(v) for v in pdf.pages[0].MediaBox] == [0, 0, 72, 36]


def _content_matrix(pdf_page: pikepdf.Page) -> list[float]:
    operators = pikepdf.parse_content_stream(pdf_page)
    (cm,) = [each.operands for each in operators if str(each.operator) == "cm"]
    return [float(v) for v in cm]


@pytest.mark.parametrize(
    ("fit", "drawn"),
    [
        ("into", (595.28, 297.64)),
        ("fill", (1683.78, 841.89)),
        ("exact", (595.28, 841.89)),
        ("shrink", (150.0, 75.0)),
        ("enlarge", (595.28, 297.64)),
    ],
)
def test_fit_modes_on_a4(tmp_path: Path, fit: str, drawn: tuple[float, float]) -> None:
    path = tmp_path / "wide.png"
    Image.new("RGB", (200, 100), (1, 2, 3)).save(path)  # 150x75 pt at 96 dpi

    pdf, _ = convert(tmp_path, [path], page_size="A4", fit=fit)

    assert [round(float(v), 2) for v in pdf.pages[0].MediaBox] == [0, 0, 595.28, 841.89]
    a, _, _, d, e, f = _content_matrix(pdf.pages[0])
    assert (round(a, 2), round(d, 2)) == drawn
    # Centred on the page.
    assert e == pytest.approx((595.2756 - a) / 2, abs=0.01)
    assert f == pytest.approx((841.8898 - d) / 2, abs=0.01)


def test_margin_auto_orient_and_custom_size(tmp_path: Path) -> None:
    path = tmp_path / "wide.png"
    Image.new("RGB", (400, 100), (1, 2, 3)).save(path)

    pdf, _ = convert(tmp_path, [path], page_size="100x200mm", margin="10mm", auto_orient=True)

    width, height = (float(v) for v in pdf.pages[0].MediaBox[2:])
    assert (width, height) == pytest.approx((200 * 72 / 25.4, 100 * 72 / 25.4), abs=0.01)
    a, _, _, d, e, _ = _content_matrix(pdf.pages[0])
    assert a == pytest.approx(180 * 72 / 25.4, abs=0.01)  # page width less two margins
    assert e == pytest.approx(10 * 72 / 25.4, abs=0.01)
    assert d == pytest.approx(a / 4, abs=0.01)


def test_margin_without_page_size_pads_the_natural_page(tmp_path: Path) -> None:
    path = tmp_path / "small.png"
    Image.new("RGB", (96, 96)).save(path)

    pdf, _ = convert(tmp_path, [path], margin=36)

    assert [float(v) for v in pdf.pages[0].MediaBox] == [0, 0, 144, 144]


@pytest.mark.parametrize(
    ("pixels", "page"),
    [((1, 1), (3, 3)), ((2, 1), (6, 3)), ((1, 3), (3, 9)), ((3, 2), (4.5, 3)), ((4, 4), (3, 3))],
)
def test_a_few_pixels_make_a_page_of_at_least_3_pt(
    tmp_path: Path, pixels: tuple[int, int], page: tuple[float, float]
) -> None:
    path = tmp_path / "dot.png"
    Image.new("RGB", pixels, (200, 10, 10)).save(path)  # 96 dpi: 0.75 pt per pixel

    pdf, _ = convert(tmp_path, [path])

    assert [float(v) for v in pdf.pages[0].MediaBox] == pytest.approx([0, 0, *page])
    assert "/UserUnit" not in pdf.pages[0].obj
    a, _, _, d, e, f = _content_matrix(pdf.pages[0])
    assert (a, d, e, f) == pytest.approx((*page, 0, 0))  # the image fills the page


def test_a_page_over_200_inches_is_written_in_bigger_units(tmp_path: Path) -> None:
    path = tmp_path / "banner.png"
    Image.new("L", (30000, 100), 128).save(path, dpi=(72, 72))  # about 30,000 x 100 pt
    with Image.open(path) as saved:  # PNG keeps dots per metre: 72 dpi comes back as 72.009
        points_per_pixel = 72 / saved.info["dpi"][0]

    pdf, _ = convert(tmp_path, [path])

    page = pdf.pages[0].obj
    unit = float(page.UserUnit)
    width, height = (float(v) for v in page.MediaBox[2:])
    assert max(width, height) <= 14_400
    assert (width * unit, height * unit) == pytest.approx(
        (30_000 * points_per_pixel, 100 * points_per_pixel), rel=1e-5
    )
    a, _, _, d, _, _ = _content_matrix(pdf.pages[0])
    assert (a, d) == pytest.approx((width, height), rel=1e-4)
    assert pdf.pdf_version >= "1.6"
