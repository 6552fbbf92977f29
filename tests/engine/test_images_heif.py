"""HEIC/HEIF (the ``heif`` extra) and AVIF (Pillow's own plugin) through the engine.

Files are written by the libraries themselves; what the PDF holds must decode
to exactly their pixels. Without pillow-heif a HEIC is refused with today's
message and the command that installs the extra.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from pdfbinder.engine import UnsupportedInput, images_to_pdf, merge_any
from pdfbinder.engine.images import heif
from pdfbinder.engine.preview import first_page_preview
from tests.support.colour import display_p3_profile
from tests.support.heif import (
    FAKE_HEIC,
    avif_bytes,
    heic_bytes,
    heic_decoded,
    heif_extra_missing,
    needs_avif,
    needs_heif,
    sample_image,
)
from tests.support.images import convert, page_image


def _samples(image_object: pikepdf.Object) -> bytes:
    """The image's decoded samples, as Pillow's ``tobytes`` lays them out for 8-bit images."""
    return image_object.read_bytes()


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.fixture
def without_heif_extra(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with heif_extra_missing(monkeypatch):
        yield


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"\0\0\0\x18ftypheic\0\0\0\0mif1heic", "heif"),
        (b"\0\0\0\x1cftypmif1\0\0\0\0mif1heicmiaf", "heif"),
        (b"\0\0\0\x20ftypavif\0\0\0\0avifmif1miafMA1A", "avif"),
        (b"\0\0\0\x1cftypmif1\0\0\0\0mif1avifmiaf", "avif"),
        (b"\0\0\0\x18ftypisom\0\0\0\0isommp41", None),  # an MP4 video
        (b"\x89PNG\r\n\x1a\n" + bytes(16), None),
    ],
)
def test_heif_signature(head: bytes, kind: str | None) -> None:
    assert heif.heif_kind(head + bytes(8)) == kind


@needs_heif
def test_heic_pixels_arrive_exactly(tmp_path: Path) -> None:
    source = sample_image()
    data = heic_bytes(source)
    assert heic_decoded(data)[0].tobytes() == source.tobytes()  # the encode was lossless
    path = _write(tmp_path, "photo.heic", data)

    pdf, report = convert(tmp_path, [path])

    assert report.inputs[0].methods == ["flate"]
    image = page_image(pdf.pages[0])
    assert (int(image.Width), int(image.Height)) == source.size
    assert _samples(image) == source.tobytes()


@needs_heif
def test_heic_alpha_becomes_a_soft_mask_exactly(tmp_path: Path) -> None:
    source = sample_image("RGBA")
    path = _write(tmp_path, "alpha.heic", heic_bytes(source))

    pdf, _ = convert(tmp_path, [path])

    image = page_image(pdf.pages[0])
    assert _samples(image) == source.convert("RGB").tobytes()
    assert _samples(image.SMask) == source.getchannel("A").tobytes()


@needs_heif
def test_every_top_level_heic_image_is_a_page(tmp_path: Path) -> None:
    first, second = sample_image(size=(40, 24)), sample_image(size=(16, 30))
    path = _write(tmp_path, "burst.heic", heic_bytes(first, second))

    pdf, _ = convert(tmp_path, [path])

    # pillow-heif encodes only the primary image losslessly: the others are compared
    # with its own decode of them.
    decoded = heic_decoded(path.read_bytes())
    assert decoded[0].tobytes() == first.tobytes()
    assert len(pdf.pages) == 2
    for page, expected in zip(pdf.pages, decoded, strict=True):
        assert _samples(page_image(page)) == expected.tobytes()


@needs_heif
def test_heic_icc_profile_becomes_iccbased(tmp_path: Path) -> None:
    source = sample_image()
    source.info["icc_profile"] = display_p3_profile()
    path = _write(tmp_path, "p3.heic", heic_bytes(source))

    pdf, _ = convert(tmp_path, [path])

    space = page_image(pdf.pages[0]).ColorSpace
    assert space[0] == "/ICCBased"
    assert space[1].read_bytes() == display_p3_profile()


@needs_heif
def test_heic_rotation_is_applied_once(tmp_path: Path) -> None:
    source = sample_image(size=(40, 20))
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, shown turned 90° clockwise
    path = _write(tmp_path, "turned.heic", heic_bytes(source, exif=exif.tobytes()))

    pdf, _ = convert(tmp_path, [path])

    # libheif turns the pixels itself and clears the tag: the page is portrait, once.
    assert [float(v) for v in pdf.pages[0].MediaBox] == [0, 0, 15, 30]
    expected = heic_decoded(path.read_bytes())[0]
    assert expected.size == (20, 40)
    assert _samples(page_image(pdf.pages[0])) == expected.tobytes()


@needs_heif
def test_heic_goes_through_merge_any_and_the_preview(tmp_path: Path) -> None:
    source = sample_image()
    path = _write(tmp_path, "photo.heic", heic_bytes(source))
    output = tmp_path / "merged.pdf"

    report = merge_any([path], output)

    assert report.page_count == 1
    with pikepdf.open(output) as pdf:
        assert _samples(page_image(pdf.pages[0])) == source.tobytes()
    preview = first_page_preview(path, max_side=20)
    assert (preview.width, preview.height) == (20, 12)


@needs_avif
@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L"])
def test_avif_pixels_are_pillows_decode_exactly(tmp_path: Path, mode: str) -> None:
    source = sample_image(mode)
    path = _write(tmp_path, f"photo-{mode}.avif", avif_bytes(source))
    with Image.open(path) as decoded:
        expected = decoded.copy()  # Pillow decodes a gray AVIF as RGB

    pdf, _ = convert(tmp_path, [path])

    image = page_image(pdf.pages[0])
    assert _samples(image) == expected.convert(expected.mode.rstrip("A")).tobytes()
    if mode == "RGBA":
        assert _samples(image.SMask) == expected.getchannel("A").tobytes()


@needs_avif
def test_avif_needs_no_extra(tmp_path: Path, without_heif_extra: None) -> None:
    path = _write(tmp_path, "photo.avif", avif_bytes(sample_image()))
    pdf, _ = convert(tmp_path, [path])
    assert len(pdf.pages) == 1


def test_heic_without_the_extra_is_refused_with_the_install_hint(
    tmp_path: Path, without_heif_extra: None
) -> None:
    path = _write(tmp_path, "phone.heic", FAKE_HEIC)

    with pytest.raises(UnsupportedInput) as raised:
        images_to_pdf([path], io.BytesIO())

    message = raised.value.message
    assert message.startswith("input 1 (phone.heic): not an image in a supported format")
    assert "pip install 'pdfbinder[heif]'" in message
    with pytest.raises(UnsupportedInput, match=r"pdfbinder\[heif\]"):
        merge_any([path], io.BytesIO())
    with pytest.raises(UnsupportedInput, match=r"phone.heic: .*pdfbinder\[heif\]"):
        first_page_preview(path, max_side=20)
