"""JPEG, JPEG 2000, CCITT G4 byte-identical; every other Pillow format decoded losslessly."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageSequence, features

from pdfbinder.engine.images.tiff import g4_strip
from tests.support.images import convert, page_image, render


def _photo(size: tuple[int, int] = (96, 64)) -> Image.Image:
    """A picture with structure in both directions (noise over gradients)."""
    base = Image.merge(
        "RGB",
        [
            Image.linear_gradient("L").resize(size),
            Image.linear_gradient("L").rotate(90).resize(size),
            Image.effect_noise(size, 60),
        ],
    )
    return base


@pytest.mark.parametrize(
    ("mode", "options", "space"),
    [
        ("RGB", {}, "/DeviceRGB"),
        ("L", {}, "/DeviceGray"),
        ("RGB", {"progressive": True}, "/DeviceRGB"),
        ("CMYK", {}, "/DeviceCMYK"),
    ],
)
def test_jpeg_bytes_are_embedded_unchanged(
    tmp_path: Path, mode: str, options: dict[str, Any], space: str
) -> None:
    path = tmp_path / "in.jpg"
    _photo().convert(mode).save(path, quality=85, **options)

    pdf, report = convert(tmp_path, [path])

    image = page_image(pdf.pages[0])
    assert image.Filter == "/DCTDecode"
    assert image.read_raw_bytes() == path.read_bytes()
    assert image.ColorSpace == space
    assert report.inputs[0].methods == ["jpeg-passthrough"]
    if mode == "CMYK":
        # Pillow writes Adobe APP14 and inverted CMYK, as Photoshop does.
        assert [float(v) for v in image.Decode] == [1, 0] * 4


def test_adobe_cmyk_jpeg_renders_with_the_right_colours(tmp_path: Path) -> None:
    path = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (48, 48), (0, 255, 255, 0)).save(path, quality=95)  # pure red ink

    convert(tmp_path, [path])

    pixel = render(tmp_path / "out.pdf", tmp_path).getpixel((24, 24))
    assert isinstance(pixel, tuple), pixel  # an RGB image's pixel is a triple
    red, green, blue = pixel
    assert red > 200 and green < 80 and blue < 80


@pytest.mark.parametrize("suffix", [".jp2", ".j2k"])
def test_jpeg2000_bytes_are_embedded_unchanged(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"in{suffix}"
    _photo((40, 30)).save(path)

    pdf, report = convert(tmp_path, [path])

    image = page_image(pdf.pages[0])
    assert image.Filter == "/JPXDecode"
    assert (int(image.Width), int(image.Height)) == (40, 30)
    assert image.read_raw_bytes() == path.read_bytes()
    assert report.inputs[0].methods == ["jpx-passthrough"]


def _fax_page() -> Image.Image:
    page = Image.new("1", (200, 120), 1)
    for x in range(0, 200, 7):
        for y in range((x * 3) % 50, 120, 11):
            page.putpixel((x, y), 0)
    return page


def test_ccitt_g4_tiff_strip_is_embedded_unchanged_and_renders_exactly(tmp_path: Path) -> None:
    path = tmp_path / "fax.tif"
    source = _fax_page()
    source.save(path, compression="group4")
    with Image.open(path) as opened:
        strip = g4_strip(opened, path.read_bytes())
    assert strip is not None

    pdf, report = convert(tmp_path, [path])

    image = page_image(pdf.pages[0])
    assert image.Filter == "/CCITTFaxDecode"
    assert image.read_raw_bytes() == strip.data
    assert report.inputs[0].methods == ["ccitt-g4-passthrough"]
    from pikepdf import PdfImage

    assert PdfImage(image).as_pil_image().convert("1").tobytes() == source.tobytes()
    # Polarity as a viewer shows it: poppler's rendering matches the source (black is black;
    # inverted would differ almost everywhere, poppler's sampling shifts a few dots).
    rendered = render(tmp_path / "out.pdf", tmp_path).convert("L").tobytes()
    expected = source.convert("L").tobytes()
    differing = sum((a > 127) != (b > 127) for a, b in zip(rendered, expected, strict=True))
    assert differing < 0.05 * len(expected)


def _frames_of(path: Path) -> list[Image.Image]:
    with Image.open(path) as image:
        return [frame.copy() for frame in ImageSequence.Iterator(image)]


def test_multipage_lzw_tiff_gives_one_lossless_page_per_frame(tmp_path: Path) -> None:
    path = tmp_path / "multi.tif"
    frames = [_photo(), _photo().convert("L"), _photo().convert("CMYK")]
    frames[0].save(path, save_all=True, append_images=frames[1:], compression="tiff_lzw")

    pdf, _ = convert(tmp_path, [path])

    assert len(pdf.pages) == 3
    spaces = ["/DeviceRGB", "/DeviceGray", "/DeviceCMYK"]
    for page, frame, space in zip(pdf.pages, frames, spaces, strict=True):
        image = page_image(page)
        assert image.ColorSpace == space
        assert image.read_bytes() == frame.tobytes()


def test_sixteen_bit_gray_tiff_keeps_sixteen_bits(tmp_path: Path) -> None:
    source = Image.new("I;16", (40, 20))
    source.putdata([(x * 1601 + 7) % 65536 for x in range(800)])
    path = tmp_path / "gray16.tif"
    source.save(path)

    pdf, _ = convert(tmp_path, [path])

    image = page_image(pdf.pages[0])
    assert int(image.BitsPerComponent) == 16
    assert image.read_bytes() == source.tobytes("raw", "I;16B")


def test_sixteen_bit_pgm_keeps_sixteen_bits(tmp_path: Path) -> None:
    values = [(x * 977) % 65536 for x in range(30 * 10)]
    path = tmp_path / "deep.pgm"
    path.write_bytes(b"P5 30 10 65535\n" + b"".join(v.to_bytes(2, "big") for v in values))

    pdf, _ = convert(tmp_path, [path])

    image = page_image(pdf.pages[0])
    assert int(image.BitsPerComponent) == 16
    assert image.read_bytes() == b"".join(v.to_bytes(2, "big") for v in values)


def test_animated_gif_gives_every_frame_losslessly(tmp_path: Path) -> None:
    path = tmp_path / "anim.gif"
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (250, 250, 0)]
    frames = [Image.new("RGB", (30, 20), colour).quantize(4) for colour in colours]
    for number, frame in enumerate(frames):
        frame.paste(number, (number * 5, 0, number * 5 + 5, 20))
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=50, disposal=2)
    expected = [frame.convert("RGB").tobytes() for frame in _frames_of(path)]

    pdf, _ = convert(tmp_path, [path])

    assert len(pdf.pages) == len(expected) == 4
    for number, (page, pixels) in enumerate(zip(pdf.pages, expected, strict=True)):
        image = page_image(page)
        # Flate data decodes to the frame Pillow shows, palette looked up if indexed.
        from pikepdf import PdfImage

        assert PdfImage(image).as_pil_image().convert("RGB").tobytes() == pixels, number


@pytest.mark.parametrize(
    ("fmt", "mode", "options"),
    [
        ("BMP", "RGB", {}),
        ("BMP", "P", {}),
        ("WEBP", "RGB", {"lossless": True}),
        ("WEBP", "RGBA", {"lossless": True}),
        ("PPM", "RGB", {}),
        ("TIFF", "LA", {}),
    ],
)
def test_other_pillow_formats_decode_to_the_source_pixels(
    tmp_path: Path, fmt: str, mode: str, options: dict[str, Any]
) -> None:
    path = tmp_path / f"in.{fmt.lower()}"
    source = _photo().convert("RGBA") if mode == "RGBA" else _photo()
    if mode == "RGBA":
        source.putalpha(Image.linear_gradient("L").resize(source.size))
    elif mode == "LA":
        source = source.convert("LA")
    elif mode == "P":
        source = source.quantize(64)
    source.save(path, fmt, **options)
    with Image.open(path) as reread:
        expected = reread.convert("RGBA")

    pdf, report = convert(tmp_path, [path])

    from pikepdf import PdfImage

    decoded = PdfImage(page_image(pdf.pages[0])).as_pil_image().convert("RGBA")
    assert decoded.tobytes() == expected.tobytes()
    assert report.inputs[0].methods == ["flate"]


@pytest.mark.skipif(not features.check("avif"), reason="Pillow built without AVIF")
def test_avif_is_decoded_and_stored_losslessly(tmp_path: Path) -> None:
    path = tmp_path / "in.avif"
    _photo().save(path, quality=80)
    with Image.open(path) as reread:
        expected = reread.convert("RGB").tobytes()

    pdf, _ = convert(tmp_path, [path])

    assert page_image(pdf.pages[0]).read_bytes() == expected


def test_bytes_and_stream_inputs_work_like_paths(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    _photo().save(buffer, "PNG")
    pdf, report = convert(tmp_path, [buffer.getvalue(), io.BytesIO(buffer.getvalue())])
    assert len(pdf.pages) == 2
    assert report.page_count == 2
