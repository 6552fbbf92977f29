"""Frame → PDF image XObject: one builder per row of the README's embedding table.

Each builder returns an :class:`ImageXObject` — the stream's data already in
its final encoding plus what its dictionary needs — and :func:`write_image`
writes it (with its soft mask and ICC profile) through the streaming writer.
Nothing here decodes pixels that can go through unchanged.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from zlib_ng import zlib_ng

from ..errors import UnsupportedInput
from .colorspace import SRGB_GAMMA, Calibration, calibration, srgb_profile, usable_icc
from .jpeg import JpegInfo
from .pdfwriter import Name, PdfStreamWriter, PdfValue, Ref, StreamData
from .png import CHANNELS, DecodedPng, PngInfo, decode_png
from .pngalpha import split_alpha_deflated
from .routes import (
    DECODED,
    G4_COPY,
    JPEG_COPY,
    JPX_COPY,
    PNG_ALPHA_SPLIT,
    PNG_IDAT_COPY,
    Route,
)

if TYPE_CHECKING:
    from PIL import Image

# Level 6 rather than 1: clearly smaller files (much smaller on screenshots) for
# about twice the time, paid only by images that must be decoded. zlib-ng writes
# zlib's format, faster and a little smaller (README benchmarks).
FLATE_LEVEL = 6

_DEVICE = {1: "DeviceGray", 3: "DeviceRGB", 4: "DeviceCMYK"}
# CIE L*a*b* as Pillow stores it: L 0..255 → 0..100, a/b offset by 128.
_LAB: PdfValue = [Name("Lab"), {"WhitePoint": [0.9642, 1, 0.8249], "Range": [-128, 127, -128, 127]}]


@dataclass
class ImageXObject:
    """One image stream, encoded, with the facts its dictionary is built from.

    ``colors`` is ``None`` for JPEG 2000, whose codestream carries its own
    colour space. ``palette`` makes the colour space ``/Indexed`` over an RGB
    base; ``icc`` replaces the device base with ``/ICCBased``, or else
    ``calibration`` with ``/CalRGB`` or ``/CalGray``.
    """

    width: int
    height: int
    bits: int | None
    colors: int | None
    data: StreamData
    filter: str
    method: str
    decode_parms: dict[str, PdfValue] | None = None
    decode: list[float] | None = None
    palette: bytes | None = None
    icc: bytes | None = None
    calibration: Calibration | None = None
    lab: bool = False
    color_key: list[int] | None = None
    smask: ImageXObject | None = None


def write_image(writer: PdfStreamWriter, image: ImageXObject) -> Ref:
    """Write ``image`` (soft mask and ICC profile first) and return its reference."""
    entries: dict[str, PdfValue] = {
        "Type": Name("XObject"),
        "Subtype": Name("Image"),
        "Width": image.width,
        "Height": image.height,
        "Filter": Name(image.filter),
    }
    if image.bits is not None:
        entries["BitsPerComponent"] = image.bits
    if image.colors is not None:
        entries["ColorSpace"] = _color_space(writer, image)
    if image.decode_parms is not None:
        entries["DecodeParms"] = image.decode_parms
    if image.decode is not None:
        entries["Decode"] = image.decode
    if image.color_key is not None:
        entries["Mask"] = image.color_key
    if image.smask is not None:
        entries["SMask"] = write_image(writer, image.smask)
    return writer.write_stream(entries, image.data)


def _color_space(writer: PdfStreamWriter, image: ImageXObject) -> PdfValue:
    if image.lab:
        return _LAB
    base_colors = 3 if image.palette is not None else image.colors
    assert base_colors is not None
    base: PdfValue = Name(_DEVICE[base_colors])
    if image.icc is not None:
        base = [Name("ICCBased"), _icc_stream(writer, image.icc, base_colors)]
    elif image.calibration is not None:
        kind = "CalRGB" if base_colors == 3 else "CalGray"
        base = [Name(kind), image.calibration.pdf_entries()]
    if image.palette is None:
        return base
    return [Name("Indexed"), base, len(image.palette) // 3 - 1, image.palette]


def _icc_stream(writer: PdfStreamWriter, profile: bytes, colors: int) -> Ref:
    """The profile's stream, written once per file however many images share it."""
    import hashlib  # only images that carry a profile pay for it

    def write() -> Ref:
        return writer.write_stream(
            {"N": colors, "Alternate": Name(_DEVICE[colors]), "Filter": Name("FlateDecode")},
            _flate(profile),
        )

    return writer.write_once(b"icc:" + hashlib.sha256(profile).digest(), write)


def _flate(data: bytes) -> bytes:
    return zlib_ng.compress(data, FLATE_LEVEL)


def from_jpeg(data: bytes, info: JpegInfo) -> ImageXObject:
    """JPEG bytes unchanged; Adobe-marked CMYK is stored inverted, so flip it back."""
    decode = [1.0, 0.0] * 4 if info.components == 4 and info.adobe else None
    return ImageXObject(
        info.width,
        info.height,
        8,
        info.components,
        data,
        "DCTDecode",
        JPEG_COPY,
        decode=decode,
        icc=usable_icc(info.icc, info.components),
    )


def from_jpx(data: bytes, width: int, height: int) -> ImageXObject:
    """JPEG 2000 bytes unchanged; the codestream defines colour and precision."""
    return ImageXObject(width, height, None, None, data, "JPXDecode", JPX_COPY)


def from_g4(strip: bytes, width: int, height: int, black_is_1: bool) -> ImageXObject:
    """A CCITT Group 4 TIFF strip unchanged."""
    parms: dict[str, PdfValue] = {"K": -1, "Columns": width, "Rows": height, "BlackIs1": black_is_1}
    return ImageXObject(width, height, 1, 1, strip, "CCITTFaxDecode", G4_COPY, decode_parms=parms)


def from_png(info: PngInfo, route: Route) -> ImageXObject:
    """A PNG by its ``route``: IDAT copied, alpha split off its filtered rows, or decoded once."""
    if route.method == PNG_IDAT_COPY:
        return _png_idat_copy(info)
    if not route.decoded:
        return _png_filtered_alpha_split(info)
    palette_alpha = info.color_type == 3 and info.transparency is not None
    decoded = decode_png(info)
    colors = 1 if info.color_type in (0, 3, 4) else 3
    image = ImageXObject(
        info.width,
        info.height,
        decoded.color_bits,
        colors,
        _flate(decoded.color),
        "FlateDecode",
        route.method,
        palette=info.palette if info.color_type == 3 else None,
    )
    _png_colour(image, info)
    if decoded.alpha is not None:
        image.smask = _alpha_mask(info.width, info.height, decoded.color_bits, decoded.alpha)
    elif palette_alpha:
        image.smask = _palette_alpha(info, decoded)
    else:
        image.color_key = _png_color_key(info, scaled=True)
    return image


def _png_idat_copy(info: PngInfo) -> ImageXObject:
    colors = CHANNELS[info.color_type]
    image = ImageXObject(
        info.width,
        info.height,
        info.bit_depth,
        colors,
        info.idat,
        "FlateDecode",
        PNG_IDAT_COPY,
        decode_parms=_png_predictor(colors, info.bit_depth, info.width),
        palette=info.palette if info.color_type == 3 else None,
        color_key=_png_color_key(info, scaled=False),
    )
    _png_colour(image, info)
    return image


def _png_filtered_alpha_split(info: PngInfo) -> ImageXObject:
    """Gray+alpha or RGBA: colour and alpha rows each stored still PNG-filtered."""
    color_rows, alpha_rows = split_alpha_deflated(info)
    colors = CHANNELS[info.color_type] - 1
    bits, width = info.bit_depth, info.width
    image = ImageXObject(
        width,
        info.height,
        bits,
        colors,
        color_rows,
        "FlateDecode",
        PNG_ALPHA_SPLIT,
        decode_parms=_png_predictor(colors, bits, width),
    )
    _png_colour(image, info)
    image.smask = ImageXObject(
        width,
        info.height,
        bits,
        1,
        alpha_rows,
        "FlateDecode",
        "alpha",
        decode_parms=_png_predictor(1, bits, width),
    )
    return image


def _png_predictor(colors: int, bits: int, width: int) -> dict[str, PdfValue]:
    """``/DecodeParms`` for rows that each start with their PNG filter type."""
    return {"Predictor": 15, "Colors": colors, "BitsPerComponent": bits, "Columns": width}


def _png_color_key(info: PngInfo, *, scaled: bool) -> list[int] | None:
    """tRNS on gray/RGB as a colour-key ``/Mask`` (in the stored samples' scale)."""
    if info.transparency is None or info.color_type not in (0, 2):
        return None
    count = 1 if info.color_type == 0 else 3
    if len(info.transparency) < 2 * count:
        return None
    mask = []
    for index in range(count):
        value = int.from_bytes(info.transparency[2 * index : 2 * index + 2], "big")
        value &= (1 << info.bit_depth) - 1
        if scaled and info.bit_depth in (2, 4):
            value *= 255 // ((1 << info.bit_depth) - 1)
        mask += [value, value]
    return mask


def _palette_alpha(info: PngInfo, decoded: DecodedPng) -> ImageXObject:
    assert info.transparency is not None
    table = (info.transparency[:256] + b"\xff" * 256)[:256]
    return _alpha_mask(info.width, info.height, 8, decoded.color.translate(table))


def _alpha_mask(width: int, height: int, bits: int, alpha: bytes) -> ImageXObject:
    return ImageXObject(width, height, bits, 1, _flate(alpha), "FlateDecode", "alpha")


def _png_colour(image: ImageXObject, info: PngInfo) -> None:
    """The PNG's own colour statement, strongest first: iCCP, then sRGB, then gAMA/cHRM.

    A chunk that does not fit the image (a CMYK profile, a zero gamma) is
    passed over for the next one, as a PNG decoder would.
    """
    colors = 3 if info.color_type in (2, 3, 6) else 1
    image.icc = usable_icc(info.icc, colors)
    if image.icc is not None:
        return
    if info.srgb:
        # Gray has no sRGB ICC profile at hand; sRGB's own gAMA/cHRM stand-in says the same.
        image.icc = srgb_profile() if colors == 3 else None
        if image.icc is None:
            image.calibration = calibration(1 / SRGB_GAMMA, None, colors)
        return
    image.calibration = calibration(info.gamma, info.chromaticities, colors)


def from_pillow(image: Image.Image) -> ImageXObject:
    """A decoded Pillow frame, stored Flate-compressed with every sample kept.

    The frame's ICC profile (a TIFF's tag, a WebP's or HEIF's colour box) comes
    along when it fits the stored channels.
    """
    result = _pillow_samples(image)
    profile = image.info.get("icc_profile")
    if not result.lab and isinstance(profile, bytes) and result.colors is not None:
        result.icc = usable_icc(profile, 3 if result.palette is not None else result.colors)
    return result


def _pillow_samples(image: Image.Image) -> ImageXObject:
    mode = image.mode
    width, height = image.size
    if mode in ("I;16", "I;16L", "I;16B", "I;16N"):
        return _decoded(width, height, 16, 1, _big_endian_16(image))
    if mode == "I":
        low, high = image.getextrema()
        if not (isinstance(low, int) and isinstance(high, int)) or low < 0 or high > 0xFFFF:
            raise UnsupportedInput("32-bit integer samples outside 0–65535 are not supported")
        return _decoded(width, height, 16, 1, image.tobytes("raw", "I;16B"))
    if mode == "F":
        raise UnsupportedInput("32-bit floating-point images are not supported")
    if mode == "1":
        return _decoded(width, height, 1, 1, image.tobytes())
    if mode in ("L", "RGB"):
        plain = _decoded(width, height, 8, len(mode), image.tobytes())
        plain.color_key = _pillow_color_key(image.info.get("transparency"), len(mode))
        return plain
    if mode == "CMYK":
        return _decoded(width, height, 8, 4, image.tobytes())
    if mode == "LAB":
        lab = _decoded(width, height, 8, 3, image.tobytes())
        lab.lab = True
        return lab
    if mode == "P":
        return _from_palette(image)
    if mode == "LA":
        gray = _decoded(width, height, 8, 1, image.getchannel("L").tobytes())
        gray.smask = _alpha_mask(width, height, 8, image.getchannel("A").tobytes())
        return gray
    if "A" in mode or "a" in mode:
        rgba = image.convert("RGBA")
        color = _decoded(width, height, 8, 3, rgba.convert("RGB").tobytes())
        color.smask = _alpha_mask(width, height, 8, rgba.getchannel("A").tobytes())
        return color
    return _decoded(width, height, 8, 3, image.convert("RGB").tobytes())


def _pillow_color_key(transparency: object, colors: int) -> list[int] | None:
    """Pillow's single transparent colour (an int for L, a tuple for RGB) as ``/Mask``."""
    if colors == 1 and isinstance(transparency, int):
        return [transparency, transparency]
    if colors == 3 and isinstance(transparency, tuple) and len(transparency) == 3:
        return [int(v) for v in transparency for _ in range(2)]
    return None


def _from_palette(image: Image.Image) -> ImageXObject:
    width, height = image.size
    palette_mode = image.palette.mode if image.palette is not None else "RGB"
    entries = image.getpalette(palette_mode) or []
    channels = len(palette_mode)
    rgb = bytes(v for i, v in enumerate(entries) if i % channels < 3)[: 256 * 3] or b"\0\0\0"
    indices = image.tobytes()
    result = ImageXObject(width, height, 8, 1, _flate(indices), "FlateDecode", DECODED, palette=rgb)
    table: bytes | None = None
    transparency = image.info.get("transparency")
    if palette_mode == "RGBA":
        table = bytes(entries[3::4])
    elif isinstance(transparency, int):
        table = bytes(0 if i == transparency else 255 for i in range(256))
    elif isinstance(transparency, bytes):
        table = transparency
    if table is not None:
        table = (table[:256] + b"\xff" * 256)[:256]
        result.smask = _alpha_mask(width, height, 8, indices.translate(table))
    return result


def _decoded(width: int, height: int, bits: int, colors: int, samples: bytes) -> ImageXObject:
    return ImageXObject(width, height, bits, colors, _flate(samples), "FlateDecode", DECODED)


def _big_endian_16(image: Image.Image) -> bytes:
    if image.mode in ("I;16", "I;16B"):
        return image.tobytes("raw", "I;16B")
    raw = image.tobytes()
    if image.mode == "I;16N" and sys.byteorder == "big":
        return raw
    swapped = bytearray(len(raw))
    swapped[0::2] = raw[1::2]
    swapped[1::2] = raw[0::2]
    return bytes(swapped)
