"""Colour test material: a wide-gamut ICC profile built here, images that carry it, and
the colour poppler renders at a page's centre.

The profile is a small ICC v2 display profile with Display P3's primaries
(Apple's published D50-adapted colorants) and a plain 2.2 gamma: enough to
make a colour that means something else in sRGB. LittleCMS (through Pillow)
turns the same values into sRGB for the expected, colour-managed answer.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

from PIL import Image, ImageCms

from tests.support.images import render

RGB = tuple[int, int, int]

_D50 = (0.9642, 1.0, 0.8249)
DISPLAY_P3_COLORANTS = (
    (0.5151, 0.2412, -0.0011),
    (0.2920, 0.6922, 0.0419),
    (0.1571, 0.0666, 0.7841),
)
"""Red, green and blue XYZ of Display P3 adapted to the D50 connection space."""


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz_tag(xyz: tuple[float, float, float]) -> bytes:
    return b"XYZ \0\0\0\0" + b"".join(_s15(v) for v in xyz)


def _gamma_tag(gamma: float) -> bytes:
    return b"curv\0\0\0\0" + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0"


def _text_description(text: str) -> bytes:
    ascii_text = text.encode("ascii") + b"\0"
    body = b"desc\0\0\0\0" + struct.pack(">I", len(ascii_text)) + ascii_text
    body += struct.pack(">II", 0, 0) + struct.pack(">HB", 0, 0) + bytes(67)
    return body + bytes(-len(body) % 4)


def matrix_profile(
    description: str,
    colorants: tuple[tuple[float, float, float], ...] = DISPLAY_P3_COLORANTS,
    gamma: float = 2.2,
) -> bytes:
    """An ICC v2 RGB display profile: ``colorants`` (D50 XYZ) and one gamma for all three."""
    tags = [
        (b"desc", _text_description(description)),
        (b"cprt", b"text\0\0\0\0No copyright, test data.\0\0\0\0"),
        (b"wtpt", _xyz_tag(_D50)),
        (b"rXYZ", _xyz_tag(colorants[0])),
        (b"gXYZ", _xyz_tag(colorants[1])),
        (b"bXYZ", _xyz_tag(colorants[2])),
        (b"rTRC", _gamma_tag(gamma)),
        (b"gTRC", _gamma_tag(gamma)),
        (b"bTRC", _gamma_tag(gamma)),
    ]
    table_size = 4 + 12 * len(tags)
    offset = 128 + table_size
    table = struct.pack(">I", len(tags))
    data = b""
    for signature, body in tags:
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += body + bytes(-len(body) % 4)
    size = 128 + table_size + len(data)
    header = struct.pack(">I", size) + bytes(4) + bytes([2, 0x10, 0, 0])
    header += b"mntrRGB XYZ " + bytes(12) + b"acsp" + bytes(24) + struct.pack(">I", 0)
    header += b"".join(_s15(v) for v in _D50) + bytes(128 - 80)
    assert len(header) == 128
    return header + table + data


def display_p3_profile() -> bytes:
    return matrix_profile("Display P3 (test, gamma 2.2)")


def p3_to_srgb(color: RGB) -> RGB:
    """What ``color`` in the test's Display P3 profile is in sRGB, by LittleCMS."""
    source = ImageCms.ImageCmsProfile(io.BytesIO(display_p3_profile()))
    target = ImageCms.createProfile("sRGB")
    converted = ImageCms.profileToProfile(Image.new("RGB", (1, 1), color), source, target)
    assert converted is not None
    pixel = converted.getpixel((0, 0))
    assert isinstance(pixel, tuple)
    return (int(pixel[0]), int(pixel[1]), int(pixel[2]))


def jpeg_with_profile(color: RGB, profile: bytes, size: tuple[int, int] = (48, 32)) -> bytes:
    """A flat-coloured JPEG (no chroma subsampling, so the colour survives) carrying ``profile``."""
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(
        buffer, "JPEG", quality=100, subsampling=0, icc_profile=profile
    )
    return buffer.getvalue()


def rendered_center(pdf: Path, tmp_path: Path, page: int = 1) -> RGB:
    """The colour poppler (``pdftoppm``, colour-managed into sRGB) draws at a page's centre."""
    image = render(pdf, tmp_path, dpi=72, page=page)
    pixel = image.getpixel((image.width // 2, image.height // 2))
    assert isinstance(pixel, tuple)
    return (int(pixel[0]), int(pixel[1]), int(pixel[2]))
