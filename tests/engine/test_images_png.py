"""PNG into PDF: IDAT copied when possible, alpha split losslessly, 16 bits kept, every variant."""

from __future__ import annotations

import random
from pathlib import Path

import pikepdf
import pytest
from PIL import Image, ImageCms

from tests.support.images import convert, encode_png, pack_rows, page_image

WIDTH, HEIGHT = 29, 17


def _samples(channels: int, bit_depth: int, seed: int) -> list[list[int]]:
    rng = random.Random(seed)
    top = (1 << bit_depth) - 1
    return [[rng.randint(0, top) for _ in range(WIDTH * channels)] for _ in range(HEIGHT)]


def _plane(samples: list[list[int]], channels: int, pick: slice) -> list[list[int]]:
    """Rows restricted to the channels ``pick`` selects of each pixel."""
    return [
        [v for x in range(WIDTH) for v in row[x * channels : (x + 1) * channels][pick]]
        for row in samples
    ]


def _packed(samples: list[list[int]], bit_depth: int) -> bytes:
    return b"".join(pack_rows(samples, bit_depth))


@pytest.mark.parametrize(
    ("color_type", "bit_depth"),
    [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (2, 8), (2, 16), (3, 1), (3, 2), (3, 4), (3, 8)],
)
def test_non_interlaced_png_idat_is_copied_unchanged(
    tmp_path: Path, color_type: int, bit_depth: int
) -> None:
    channels = 3 if color_type == 2 else 1
    samples = _samples(channels, bit_depth, seed=color_type * 100 + bit_depth)
    palette = bytes(random.Random(7).randrange(256) for _ in range(3 * (1 << bit_depth)))
    path = tmp_path / "in.png"
    idat = encode_png(
        path,
        WIDTH,
        HEIGHT,
        color_type,
        bit_depth,
        samples,
        palette=palette if color_type == 3 else None,
    )

    pdf, report = convert(tmp_path, [path])

    assert len(pdf.pages) == 1
    assert report.inputs[0].methods == ["png-idat-copy"]
    image = page_image(pdf.pages[0])
    assert image.read_raw_bytes() == idat
    assert image.read_bytes() == _packed(samples, bit_depth)
    assert int(image.BitsPerComponent) == bit_depth
    if color_type == 3:
        assert image.ColorSpace[0] == "/Indexed"
        assert bytes(image.ColorSpace[3]) == palette
    else:
        assert image.ColorSpace == ("/DeviceRGB" if color_type == 2 else "/DeviceGray")


@pytest.mark.parametrize(
    ("color_type", "bit_depth", "interlace"),
    [(4, 8, False), (4, 16, False), (6, 8, False), (6, 16, False), (6, 16, True), (4, 8, True)],
)
def test_png_alpha_becomes_lossless_smask(
    tmp_path: Path, color_type: int, bit_depth: int, interlace: bool
) -> None:
    channels = 2 if color_type == 4 else 4
    samples = _samples(channels, bit_depth, seed=bit_depth + channels)
    path = tmp_path / "alpha.png"
    encode_png(path, WIDTH, HEIGHT, color_type, bit_depth, samples, interlace=interlace)

    pdf, report = convert(tmp_path, [path])

    assert report.inputs[0].methods == ["png-alpha-split"]
    image = page_image(pdf.pages[0])
    assert int(image.BitsPerComponent) == bit_depth
    assert image.read_bytes() == _packed(_plane(samples, channels, slice(0, -1)), bit_depth)
    assert int(image.SMask.BitsPerComponent) == bit_depth
    assert image.SMask.ColorSpace == "/DeviceGray"
    assert image.SMask.read_bytes() == _packed(
        _plane(samples, channels, slice(-1, None)), bit_depth
    )


@pytest.mark.parametrize(("color_type", "bit_depth"), [(0, 8), (0, 16), (2, 8), (2, 16), (3, 8)])
def test_interlaced_png_is_decoded_losslessly(
    tmp_path: Path, color_type: int, bit_depth: int
) -> None:
    channels = 3 if color_type == 2 else 1
    samples = _samples(channels, bit_depth, seed=5)
    path = tmp_path / "interlaced.png"
    palette = bytes(range(256)) * 3
    encode_png(
        path,
        WIDTH,
        HEIGHT,
        color_type,
        bit_depth,
        samples,
        interlace=True,
        palette=palette if color_type == 3 else None,
    )

    pdf, report = convert(tmp_path, [path])

    assert report.inputs[0].methods == ["png-decoded-flate"]
    image = page_image(pdf.pages[0])
    assert image.read_bytes() == _packed(samples, bit_depth)
    assert int(image.BitsPerComponent) == bit_depth


def test_palette_with_trns_gets_per_index_alpha(tmp_path: Path) -> None:
    samples = _samples(1, 8, seed=11)
    palette = bytes(range(256)) * 3
    alphas = bytes(range(0, 200, 2))  # shorter than the palette: the rest is opaque
    path = tmp_path / "ptrns.png"
    encode_png(path, WIDTH, HEIGHT, 3, 8, samples, palette=palette, transparency=alphas)

    pdf, _ = convert(tmp_path, [path])

    image = page_image(pdf.pages[0])
    assert image.ColorSpace[0] == "/Indexed"
    assert image.read_bytes() == _packed(samples, 8)
    table = alphas + b"\xff" * (256 - len(alphas))
    assert image.SMask.read_bytes() == bytes(table[v] for row in samples for v in row)


@pytest.mark.parametrize(
    ("color_type", "key"), [(0, b"\x00\x07"), (2, b"\x00\x01\x00\x02\x00\x03")]
)
def test_gray_and_rgb_trns_become_colour_key_mask(
    tmp_path: Path, color_type: int, key: bytes
) -> None:
    channels = 3 if color_type == 2 else 1
    samples = _samples(channels, 8, seed=3)
    path = tmp_path / "key.png"
    idat = encode_png(path, WIDTH, HEIGHT, color_type, 8, samples, transparency=key)

    pdf, _ = convert(tmp_path, [path])

    image = page_image(pdf.pages[0])
    assert image.read_raw_bytes() == idat
    values = [int.from_bytes(key[i : i + 2], "big") for i in range(0, len(key), 2)]
    assert [int(v) for v in image.Mask] == [v for value in values for v in (value, value)]


def test_png_icc_profile_becomes_iccbased(tmp_path: Path) -> None:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    path = tmp_path / "icc.png"
    Image.new("RGB", (8, 8), (10, 200, 30)).save(path, icc_profile=profile)

    pdf, _ = convert(tmp_path, [path])

    space = page_image(pdf.pages[0]).ColorSpace
    assert space[0] == "/ICCBased"
    assert int(space[1].N) == 3
    assert space[1].read_bytes() == profile


def test_pillow_written_rgba_png_round_trips_through_pikepdf(tmp_path: Path) -> None:
    source = Image.effect_noise((64, 48), 80).convert("RGB")
    source.putalpha(Image.linear_gradient("L").resize((64, 48)))
    path = tmp_path / "rgba.png"
    source.save(path)

    pdf, _ = convert(tmp_path, [path])

    image = page_image(pdf.pages[0])
    decoded = pikepdf.PdfImage(image).as_pil_image()  # pikepdf applies the SMask itself
    assert decoded.mode == "RGBA"
    assert decoded.tobytes() == source.tobytes()
