"""Colour fidelity of images → PDF: what the file says about its colours reaches the PDF.

JPEG and TIFF ICC profiles become ``/ICCBased`` (JPEG bytes untouched); PNG's
``iCCP`` beats ``sRGB`` beats ``gAMA``/``cHRM``, the last two becoming
``/CalRGB`` or ``/CalGray``. poppler's colour-managed rendering shows that a
Display P3 photo no longer renders as if it were sRGB, also after a merge.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from PIL import Image, ImageCms, PngImagePlugin

from pdfbinder.engine import images_to_pdf, merge_pdfs
from tests.support.colour import (
    display_p3_profile,
    jpeg_with_profile,
    matrix_profile,
    p3_to_srgb,
    rendered_center,
)
from tests.support.images import convert, encode_png, page_image

P3_COLOUR = (90, 160, 120)
"""Inside sRGB's gamut once converted, yet clearly another colour: (59, 164, 117) in sRGB."""
SRGB_MATRIX = [0.4124, 0.2126, 0.0193, 0.3576, 0.7152, 0.1192, 0.1805, 0.0722, 0.9505]
D65 = [0.9505, 1.0, 1.089]


def _segments(jpeg: bytes) -> list[tuple[int, bytes]]:
    """The marker segments before the scan, as ``(marker, payload)``."""
    position, found = 2, []
    while jpeg[position + 1] != 0xDA:
        marker = jpeg[position + 1]
        (length,) = struct.unpack_from(">H", jpeg, position + 2)
        found.append((marker, jpeg[position + 4 : position + 2 + length]))
        position += 2 + length
    return found


def _rebuild(jpeg: bytes, segments: list[tuple[int, bytes]]) -> bytes:
    """``jpeg`` with its pre-scan segments replaced by ``segments``."""
    position = 2
    while jpeg[position + 1] != 0xDA:
        (length,) = struct.unpack_from(">H", jpeg, position + 2)
        position += 2 + length
    head = b"".join(
        bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body for marker, body in segments
    )
    return b"\xff\xd8" + head + jpeg[position:]


def _big_profile() -> bytes:
    """A valid profile over 150 kB, so Pillow splits it over three APP2 segments."""
    profile = bytearray(display_p3_profile())
    padding = b"\x5a" * 150_000
    profile += padding
    profile[0:4] = struct.pack(">I", len(profile))
    return bytes(profile)


def _icc_pieces(jpeg: bytes) -> list[bytes]:
    return [body for marker, body in _segments(jpeg) if body.startswith(b"ICC_PROFILE\0")]


def _space(tmp_path: Path, path: Path) -> Any:
    """The colour space of the image ``path`` converts to, as plain values (see _describe)."""
    pdf, _ = convert(tmp_path, [path])
    with pdf:
        return _describe(page_image(pdf.pages[0]).ColorSpace)


def test_jpeg_profile_split_over_segments_becomes_iccbased_bytes_untouched(
    tmp_path: Path,
) -> None:
    profile = _big_profile()
    data = jpeg_with_profile(P3_COLOUR, profile)
    assert len(_icc_pieces(data)) == 3
    path = tmp_path / "big-profile.jpg"
    path.write_bytes(data)

    pdf, report = convert(tmp_path, [path])

    image = page_image(pdf.pages[0])
    assert image.read_raw_bytes() == data
    assert report.inputs[0].methods == ["jpeg-passthrough"]
    space = image.ColorSpace
    assert space[0] == "/ICCBased"
    assert space[1]["/N"] == 3
    assert space[1].Alternate == "/DeviceRGB"
    assert space[1].read_bytes() == profile


def test_jpeg_profile_pieces_out_of_order_are_joined_by_sequence_number(tmp_path: Path) -> None:
    profile = _big_profile()
    data = jpeg_with_profile(P3_COLOUR, profile)
    segments = _segments(data)
    pieces = [s for s in segments if s[1].startswith(b"ICC_PROFILE\0")]
    others = [s for s in segments if not s[1].startswith(b"ICC_PROFILE\0")]
    shuffled = _rebuild(data, [others[0], pieces[2], pieces[0], *others[1:], pieces[1]])
    path = tmp_path / "shuffled.jpg"
    path.write_bytes(shuffled)

    assert _space(tmp_path, path)[1]["stream"] == profile


@pytest.mark.parametrize("damage", ["missing", "repeated", "miscounted"])
def test_incomplete_jpeg_profile_leaves_the_device_space(tmp_path: Path, damage: str) -> None:
    data = jpeg_with_profile(P3_COLOUR, _big_profile())
    segments = _segments(data)
    pieces = [i for i, s in enumerate(segments) if s[1].startswith(b"ICC_PROFILE\0")]
    if damage == "missing":
        del segments[pieces[1]]
    elif damage == "repeated":
        segments.insert(pieces[1], segments[pieces[1]])
    else:
        marker, body = segments[pieces[0]]
        segments[pieces[0]] = (marker, body[:13] + b"\x07" + body[14:])
    path = tmp_path / f"{damage}.jpg"
    path.write_bytes(_rebuild(data, segments))

    pdf, _ = convert(tmp_path, [path])

    image = page_image(pdf.pages[0])
    assert image.ColorSpace == "/DeviceRGB"
    assert image.read_raw_bytes() == path.read_bytes()


def test_jpeg_profile_of_another_colour_model_is_left_out(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.new("L", (16, 16), 128).save(buffer, "JPEG", icc_profile=display_p3_profile())
    path = tmp_path / "gray-with-rgb-profile.jpg"
    path.write_bytes(buffer.getvalue())

    assert _space(tmp_path, path) == "/DeviceGray"


def test_a_profile_shared_by_many_photos_is_stored_once(tmp_path: Path) -> None:
    paths = []
    for index in range(3):
        path = tmp_path / f"photo{index}.jpg"
        path.write_bytes(jpeg_with_profile((index * 60, 100, 100), display_p3_profile()))
        paths.append(path)

    pdf, _ = convert(tmp_path, paths)

    profiles = {page_image(page).ColorSpace[1].objgen for page in pdf.pages}
    assert len(profiles) == 1


def test_display_p3_jpeg_renders_colour_managed_not_as_srgb(tmp_path: Path) -> None:
    path = tmp_path / "p3.jpg"
    path.write_bytes(jpeg_with_profile(P3_COLOUR, display_p3_profile()))
    output = tmp_path / "p3.pdf"
    images_to_pdf([path], output)

    managed, naive = p3_to_srgb(P3_COLOUR), P3_COLOUR
    rendered = rendered_center(output, tmp_path)

    assert _distance(rendered, managed) <= 3, (rendered, managed)
    assert _distance(rendered, naive) >= 25, (rendered, naive)


def _distance(a: tuple[int, int, int], b: tuple[int, int, int]) -> int:
    return max(abs(x - y) for x, y in zip(a, b, strict=True))


def _png(
    path: Path,
    mode: str = "RGB",
    chunks: Sequence[tuple[bytes, bytes]] = (),
    **options: Any,
) -> Path:
    info = PngImagePlugin.PngInfo()
    for kind, body in chunks:
        info.add(kind, body)
    colour = 128 if mode in ("L", "P") else (200, 120, 40) + ((255,) if mode == "RGBA" else ())
    Image.new(mode, (12, 8), colour).save(path, pnginfo=info, **options)
    return path


def _insert_chunk(path: Path, kind: bytes, body: bytes) -> None:
    """Put a chunk right after the PNG's header chunk."""
    data = path.read_bytes()
    chunk = struct.pack(">I", len(body)) + kind + body
    chunk += struct.pack(">I", zlib.crc32(kind + body))
    path.write_bytes(data[:33] + chunk + data[33:])


def _gama(gamma: float) -> tuple[bytes, bytes]:
    return (b"gAMA", struct.pack(">I", round(gamma * 100_000)))


def _chrm(*xy: float) -> tuple[bytes, bytes]:
    return (b"cHRM", struct.pack(">8I", *(round(v * 100_000) for v in xy)))


SRGB_CHRM = _chrm(0.3127, 0.329, 0.64, 0.33, 0.3, 0.6, 0.15, 0.06)
P3_CHRM = _chrm(0.3127, 0.329, 0.68, 0.32, 0.265, 0.69, 0.15, 0.06)
SRGB_CHUNK = (b"sRGB", b"\x00")


def _numbers(array: list[Any]) -> list[float]:
    return [float(value) for value in array]


def test_png_gama_and_chrm_become_calrgb(tmp_path: Path) -> None:
    space = _space(tmp_path, _png(tmp_path / "cal.png", chunks=[_gama(1 / 2.2), SRGB_CHRM]))

    assert space[0] == "/CalRGB"
    assert _numbers(space[1]["/WhitePoint"]) == pytest.approx(D65, abs=2e-4)
    assert _numbers(space[1]["/Gamma"]) == pytest.approx([2.2] * 3, abs=1e-3)
    assert _numbers(space[1]["/Matrix"]) == pytest.approx(SRGB_MATRIX, abs=2e-4)


def test_png_chrm_with_wide_primaries_gives_their_matrix(tmp_path: Path) -> None:
    space = _space(tmp_path, _png(tmp_path / "p3.png", chunks=[_gama(1 / 2.6), P3_CHRM]))

    # Display P3's RGB → XYZ matrix (D65), column by column.
    p3 = [0.4866, 0.2290, 0.0, 0.2657, 0.6917, 0.0451, 0.1982, 0.0793, 1.0439]
    assert space[0] == "/CalRGB"
    assert _numbers(space[1]["/Matrix"]) == pytest.approx(p3, abs=2e-4)
    assert _numbers(space[1]["/Gamma"]) == pytest.approx([2.6] * 3, abs=1e-3)


def test_png_gama_alone_assumes_srgb_primaries(tmp_path: Path) -> None:
    space = _space(tmp_path, _png(tmp_path / "gamma.png", chunks=[_gama(1 / 1.8)]))

    assert space[0] == "/CalRGB"
    assert _numbers(space[1]["/Matrix"]) == pytest.approx(SRGB_MATRIX, abs=2e-4)
    assert _numbers(space[1]["/Gamma"]) == pytest.approx([1.8] * 3, abs=1e-3)


def test_gray_png_gama_becomes_calgray(tmp_path: Path) -> None:
    space = _space(tmp_path, _png(tmp_path / "gray.png", "L", chunks=[_gama(1 / 2.2), SRGB_CHRM]))

    assert space[0] == "/CalGray"
    assert float(space[1]["/Gamma"]) == pytest.approx(2.2, abs=1e-3)
    assert _numbers(space[1]["/WhitePoint"]) == pytest.approx(D65, abs=2e-4)
    assert "/Matrix" not in space[1]


def test_png_srgb_chunk_becomes_an_srgb_profile(tmp_path: Path) -> None:
    chunks = [SRGB_CHUNK, _gama(1 / 2.2), P3_CHRM]  # sRGB overrides gAMA/cHRM
    space = _space(tmp_path, _png(tmp_path / "srgb.png", chunks=chunks))

    assert space[0] == "/ICCBased"
    assert space[1]["/N"] == 3
    profile = ImageCms.ImageCmsProfile(io.BytesIO(space[1]["stream"]))
    assert "sRGB" in ImageCms.getProfileDescription(profile)


def test_gray_png_srgb_chunk_becomes_srgb_like_calgray(tmp_path: Path) -> None:
    space = _space(tmp_path, _png(tmp_path / "gray-srgb.png", "L", chunks=[SRGB_CHUNK]))

    assert space[0] == "/CalGray"
    assert float(space[1]["/Gamma"]) == pytest.approx(2.2, abs=1e-3)


def test_png_iccp_overrides_srgb_and_gama(tmp_path: Path) -> None:
    profile = display_p3_profile()
    path = _png(tmp_path / "all.png", chunks=[SRGB_CHUNK, _gama(0.5)], icc_profile=profile)

    space = _space(tmp_path, path)

    assert space[0] == "/ICCBased"
    assert space[1]["stream"] == profile


def test_png_iccp_of_the_wrong_model_falls_back_to_gama(tmp_path: Path) -> None:
    path = _png(tmp_path / "gray-rgb-icc.png", "L", chunks=[_gama(0.5)])
    # Pillow will not write an RGB profile into a gray PNG; splice an iCCP chunk in.
    _insert_chunk(path, b"iCCP", b"p3\0\0" + zlib.compress(display_p3_profile()))

    space = _space(tmp_path, path)

    assert space[0] == "/CalGray"
    assert float(space[1]["/Gamma"]) == pytest.approx(2.0, abs=1e-3)


@pytest.mark.parametrize(
    "chunks",
    [[_gama(0)], [_chrm(0.3127, 0.0, 0.64, 0.33, 0.3, 0.6, 0.15, 0.06)], [_chrm(*[0.3] * 8)]],
    ids=["zero-gamma", "zero-white-y", "collinear-primaries"],
)
def test_meaningless_gama_or_chrm_leaves_the_device_space(
    tmp_path: Path, chunks: list[tuple[bytes, bytes]]
) -> None:
    assert _space(tmp_path, _png(tmp_path / "bad.png", chunks=chunks)) == "/DeviceRGB"


def test_palette_png_with_gama_is_indexed_over_calrgb(tmp_path: Path) -> None:
    space = _space(tmp_path, _png(tmp_path / "palette.png", "P", chunks=[_gama(1 / 2.2)]))

    assert space[0] == "/Indexed"
    assert space[1][0] == "/CalRGB"


def test_every_png_route_carries_the_colour_space(tmp_path: Path) -> None:
    """IDAT copy, filtered alpha split and full decode (16-bit, interlaced) alike."""
    rgba = _png(tmp_path / "rgba.png", "RGBA", chunks=[_gama(1 / 2.2)])
    interlaced = tmp_path / "interlaced.png"
    encode_png(interlaced, 4, 4, 2, 16, [[v * 4000 for v in range(12)]] * 4, interlace=True)
    _insert_chunk(interlaced, *_gama(1 / 2.2))
    paths = [_png(tmp_path / "plain.png", chunks=[_gama(1 / 2.2)]), rgba, interlaced]

    pdf, report = convert(tmp_path, paths)

    methods = [m for item in report.inputs for m in item.methods]
    assert methods == ["png-idat-copy", "png-alpha-split", "png-decoded-flate"]
    for page in pdf.pages:
        image = page_image(page)
        assert image.ColorSpace[0] == "/CalRGB"
        if "/SMask" in image:
            assert image.SMask.ColorSpace == "/DeviceGray"


def test_tiff_icc_profile_becomes_iccbased(tmp_path: Path) -> None:
    profile = display_p3_profile()
    path = tmp_path / "p3.tif"
    Image.new("RGB", (24, 16), P3_COLOUR).save(path, compression="tiff_lzw", icc_profile=profile)

    space = _space(tmp_path, path)

    assert space[0] == "/ICCBased"
    assert space[1]["/N"] == 3
    assert space[1]["stream"] == profile
    assert _distance(rendered_center(tmp_path / "out.pdf", tmp_path), p3_to_srgb(P3_COLOUR)) <= 3


def test_deterministic_output_stays_byte_identical_with_an_srgb_png(tmp_path: Path) -> None:
    path = _png(tmp_path / "srgb.png", chunks=[SRGB_CHUNK])
    first, second = tmp_path / "1.pdf", tmp_path / "2.pdf"
    images_to_pdf([path], first, deterministic=True)
    images_to_pdf([path], second, deterministic=True)
    assert first.read_bytes() == second.read_bytes()


def test_merge_keeps_every_colour_space_and_how_it_renders(tmp_path: Path) -> None:
    p3_jpeg = tmp_path / "p3.jpg"
    p3_jpeg.write_bytes(jpeg_with_profile(P3_COLOUR, display_p3_profile()))
    calibrated = _png(tmp_path / "cal.png", chunks=[_gama(1 / 2.2), P3_CHRM])
    lab = tmp_path / "lab.tif"
    Image.new("LAB", (8, 8), (60, 150, 100)).save(lab)
    converted = []
    for index, path in enumerate([p3_jpeg, calibrated, lab]):
        converted.append(tmp_path / f"in{index}.pdf")
        images_to_pdf([path], converted[-1])
    merged = tmp_path / "merged.pdf"

    merge_pdfs(converted, merged)

    with pikepdf.open(merged) as result:
        for page, source_path in zip(result.pages, converted, strict=True):
            with pikepdf.open(source_path) as source:
                before = page_image(source.pages[0]).ColorSpace
                after = page_image(page).ColorSpace
                assert _describe(after) == _describe(before)
    for page in (1, 2, 3):
        alone = rendered_center(converted[page - 1], tmp_path)
        assert rendered_center(merged, tmp_path, page) == alone
    assert _distance(rendered_center(merged, tmp_path, 1), p3_to_srgb(P3_COLOUR)) <= 3


def _describe(space: pikepdf.Object) -> Any:
    """A colour space as plain values, ICC streams as their bytes."""
    if isinstance(space, pikepdf.Stream):
        return {"stream": space.read_bytes(), **{k: _describe(v) for k, v in space.items()}}
    if isinstance(space, pikepdf.Array):
        return [_describe(item) for item in space]
    if isinstance(space, pikepdf.Dictionary):
        return {key: _describe(value) for key, value in space.items()}
    return str(space) if isinstance(space, pikepdf.Name) else space


def test_profile_builder_makes_a_profile_littlecms_reads() -> None:
    profile = ImageCms.ImageCmsProfile(io.BytesIO(matrix_profile("check")))
    assert ImageCms.getProfileDescription(profile).strip() == "check"
