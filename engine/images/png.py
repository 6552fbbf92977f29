"""PNG, read chunk by chunk so pixel data can go into the PDF without decoding.

A non-interlaced PNG's IDAT stream *is* a PDF ``/FlateDecode`` stream with PNG
predictors, so it is copied as is, chunk by chunk, never inflated: every
chunk's CRC is checked and the IEND chunk is required, which catches
truncation and damage in transit. A zlib stream that is wrong *inside*
correct checksums (an encoder bug, not damage) is only checked at its start
— its header and first rows — since proving the rest means inflating it all,
which costs far more than the copy. PNGs that need their pixels touched are
inflated in full, which proves them complete: alpha is split off in the
filtered domain (see :mod:`.pngalpha`); a palette with transparency or
Adam7 interlacing is decoded by Pillow's C PNG decoder fed straight from our
parse, including 16-bit samples that Pillow's own PNG plugin would narrow to
8 bits.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import cast

from zlib_ng import zlib_ng

from ..errors import CorruptInput, TooLarge, UnsupportedInput
from .colorspace import Chromaticities
from .exif import ExifFacts, read_exif, sane_dpi

SIGNATURE = b"\x89PNG\r\n\x1a\n"

# zlib-ng's type stub declares ``error`` as an instance; it is the class its inflaters raise.
InflateError = cast("type[Exception]", zlib_ng.error)
_VALID_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_MAX_ICC = 16 << 20
# Pillow's limit for one compressed text chunk: past it, a file is a decompression bomb.
_MAX_TEXT = 1 << 20
# How much of a copied IDAT stream is inflated to check that it is PNG image data.
_CHECKED_PREFIX = 64 << 10


@dataclass
class PngInfo:
    """The header facts and the chunk payloads the embedder needs."""

    width: int
    height: int
    bit_depth: int
    color_type: int
    interlaced: bool
    palette: bytes | None = None
    transparency: bytes | None = None
    icc: bytes | None = None
    srgb: bool = False
    gamma: float | None = None
    """``gAMA``: the exponent the samples were encoded with (0.45455 for 1/2.2)."""
    chromaticities: Chromaticities | None = None
    """``cHRM``: white point and primaries."""
    dpi: tuple[float, float] | None = None
    exif: ExifFacts = field(default_factory=ExifFacts)
    animated: bool = False
    idat: list[memoryview] = field(default_factory=list)

    @property
    def has_alpha(self) -> bool:
        """Whether the colour type carries an alpha channel."""
        return self.color_type in (4, 6)

    @property
    def row_bytes(self) -> int:
        """Bytes in one unfiltered row of the full-size image."""
        return (self.width * CHANNELS[self.color_type] * self.bit_depth + 7) // 8

    def idat_bytes(self) -> bytes:
        """All IDAT payloads joined: one zlib stream."""
        return b"".join(self.idat)


def read_png(data: bytes) -> PngInfo:
    """Walk every chunk up to IEND (checking lengths and CRCs); no pixel is decoded.

    Any damaged chunk, even an ancillary one we would ignore, is an error (as
    in Pillow): a bad checksum anywhere means the file was damaged.
    """
    if not data.startswith(SIGNATURE):
        raise CorruptInput("not a PNG file")
    view = memoryview(data)
    position = len(SIGNATURE)
    info: PngInfo | None = None
    ended = False
    while position < len(data):
        if position + 12 > len(data):
            raise CorruptInput("PNG is truncated inside a chunk header")
        length, kind = struct.unpack_from(">I4s", data, position)
        body_start = position + 8
        body_end = body_start + length
        if body_end + 4 > len(data):
            raise CorruptInput(f"PNG is truncated inside its {_chunk_name(kind)} chunk")
        (crc,) = struct.unpack_from(">I", data, body_end)
        if zlib_ng.crc32(view[position + 4 : body_end]) != crc:
            raise CorruptInput(f"PNG {_chunk_name(kind)} chunk is damaged (bad checksum)")
        position = body_end + 4
        body = view[body_start:body_end]
        if info is None:
            if kind != b"IHDR":
                raise CorruptInput("PNG does not start with an IHDR chunk")
            info = _header(bytes(body))
        elif kind == b"IEND":
            ended = True
            break
        else:
            _ancillary(info, kind, body)
    if info is None:
        raise CorruptInput("PNG has no chunks")
    if not info.idat:
        raise CorruptInput("PNG has no image data")
    if not ended:
        raise CorruptInput("PNG is truncated (no IEND chunk)")
    if info.color_type == 3 and not info.palette:
        raise CorruptInput("palette PNG has no PLTE chunk")
    return info


def _chunk_name(kind: bytes) -> str:
    return kind.decode("latin-1") if kind.isalpha() else repr(kind)


def _header(body: bytes) -> PngInfo:
    if len(body) != 13:
        raise CorruptInput("PNG header chunk has the wrong length")
    width, height, depth, color_type, compression, filtering, interlace = struct.unpack(
        ">IIBBBBB", body
    )
    if width == 0 or height == 0 or width > 2**31 - 1 or height > 2**31 - 1:
        raise CorruptInput(f"PNG has invalid dimensions {width}x{height}")
    if depth not in _VALID_DEPTHS.get(color_type, ()):
        raise CorruptInput(f"PNG has invalid colour type {color_type} with bit depth {depth}")
    if compression != 0 or filtering != 0 or interlace not in (0, 1):
        raise UnsupportedInput("PNG uses an unknown compression, filter or interlace method")
    return PngInfo(width, height, depth, color_type, interlace == 1)


def _ancillary(info: PngInfo, kind: bytes, body: memoryview) -> None:
    """Record the chunks that matter for the PDF; ignore the rest."""
    if kind == b"IDAT":
        info.idat.append(body)
    elif kind == b"PLTE":
        if len(body) % 3 or not 0 < len(body) <= 768:
            raise CorruptInput("PNG palette has an invalid length")
        info.palette = bytes(body)
    elif kind == b"tRNS":
        info.transparency = bytes(body)
    elif kind == b"iCCP":
        info.icc = _icc_profile(bytes(body))
    elif kind == b"sRGB" and len(body) == 1:
        info.srgb = True
    elif kind == b"gAMA" and len(body) == 4:
        (gamma,) = struct.unpack(">I", body)
        info.gamma = gamma / 100_000 if gamma else None
    elif kind == b"cHRM" and len(body) == 32:
        wx, wy, rx, ry, gx, gy, bx, by = (v / 100_000 for v in struct.unpack(">8I", body))
        info.chromaticities = (wx, wy, rx, ry, gx, gy, bx, by)
    elif kind == b"pHYs" and len(body) == 9:
        x, y, unit = struct.unpack(">IIB", body)
        if unit == 1:
            info.dpi = sane_dpi(x * 0.0254, y * 0.0254)
    elif kind == b"eXIf":
        info.exif = read_exif(bytes(body))
    elif kind == b"acTL":
        info.animated = True
    elif kind in (b"zTXt", b"iTXt"):
        _check_text(kind, bytes(body))


def _check_text(kind: bytes, body: bytes) -> None:
    """Refuse a compressed text chunk that inflates past 1 MB, as Pillow does.

    The text itself is never used; the limit is what keeps a few kilobytes of
    file from costing gigabytes in any tool that does read it.
    """
    _keyword, _, rest = body.partition(b"\0")
    if kind == b"iTXt":
        if len(rest) < 2 or rest[0] == 0:
            return  # uncompressed international text
        method = rest[1]
        _language, _, rest = rest[2:].partition(b"\0")
        _translated_keyword, _, text = rest.partition(b"\0")
    else:
        if not rest:
            return
        method, text = rest[0], rest[1:]
    if method != 0:
        raise CorruptInput(f"PNG {kind.decode()} chunk uses an unknown compression method")
    inflater = zlib_ng.decompressobj()
    try:
        inflater.decompress(text, _MAX_TEXT)
    except InflateError:
        return  # damaged text only loses text nobody here reads
    if inflater.unconsumed_tail:
        raise TooLarge(f"PNG {kind.decode()} chunk inflates to over {_MAX_TEXT >> 20} MB")


def _icc_profile(body: bytes) -> bytes | None:
    """The inflated profile, or ``None`` when it is damaged (colour falls back to device)."""
    separator = body.find(b"\0")
    if separator < 0 or separator + 2 > len(body):
        return None
    if body[separator + 1] != 0:
        raise CorruptInput("PNG iCCP chunk uses an unknown compression method")
    inflater = zlib_ng.decompressobj()
    try:
        profile = inflater.decompress(body[separator + 2 :], _MAX_ICC)
    except InflateError:
        return None
    return profile if inflater.eof and len(profile) >= 128 else None


def check_stream_start(info: PngInfo) -> None:
    """Inflate a copied IDAT stream's zlib header and first 64 KB of rows, not the whole stream.

    Catches data that is not PNG image data at all (garbage under good
    checksums) cheaply; an image whose rows fit in 64 KB is checked in full.
    """
    stride = info.row_bytes + 1
    expected = stride * info.height
    inflater = zlib_ng.decompressobj()
    rows = bytearray()
    try:
        for part in info.idat:
            rows += inflater.decompress(part, _CHECKED_PREFIX + 1 - len(rows))
            if len(rows) > _CHECKED_PREFIX or inflater.eof:
                break
    except InflateError as error:
        raise CorruptInput(f"PNG image data is damaged ({error})") from None
    if len(rows) > expected or (inflater.eof and len(rows) != expected):
        raise CorruptInput("PNG image data does not match the image size")
    if not inflater.eof and len(rows) <= _CHECKED_PREFIX:
        raise CorruptInput("PNG image data is truncated")
    check_row_filters(rows, stride)


def check_row_filters(rows: bytes | bytearray, stride: int) -> None:
    """Every row's leading filter type must be one of PNG's five."""
    if max(rows[::stride], default=0) > 4:
        raise CorruptInput("PNG image data has an invalid row filter")


@dataclass(frozen=True)
class DecodedPng:
    """Unfiltered samples: colour (``color_bits`` per sample) and optional alpha plane."""

    color: bytes
    color_bits: int
    alpha: bytes | None


def decode_png(info: PngInfo) -> DecodedPng:
    """Unfilter (and de-interlace) the pixels, keeping every bit of every sample.

    Gray at 1, 2 or 4 bits comes out as 8-bit values scaled like Pillow's
    (exact gray levels, wider storage); palettes come out as one index per
    byte.
    """
    depth, color_type = info.bit_depth, info.color_type
    if color_type == 0:
        if depth == 1:
            return DecodedPng(_unfilter(info, "1", "1"), 1, None)
        if depth == 16:
            return DecodedPng(_unfilter(info, "I;16B", "I;16B"), 16, None)
        return DecodedPng(_unfilter(info, "L", "L" if depth == 8 else f"L;{depth}"), 8, None)
    if color_type == 3:
        return DecodedPng(_unfilter(info, "P", "P" if depth == 8 else f"P;{depth}"), 8, None)
    if depth == 8:
        mode = {2: "RGB", 4: "LA", 6: "RGBA"}[color_type]
        samples = _unfilter(info, mode, mode)
        return _split_alpha(samples, info.width, CHANNELS[color_type], 1, color_type != 2)
    if color_type == 4:
        # Gray+alpha at 16 bits is 4 bytes a pixel: unfiltered like 8-bit RGBA.
        return _split_alpha(_unfilter(info, "RGBA", "RGBA"), info.width, 2, 2, True)
    mode = "RGB" if color_type == 2 else "RGBA"
    high = _unfilter(info, mode, f"{mode};16B")
    low = _unfilter(info, mode, f"{mode};16L")
    samples = _interleave(
        [high[i :: len(mode)] for i in range(len(mode))],
        [low[i :: len(mode)] for i in range(len(mode))],
    )
    return _split_alpha(samples, info.width, len(mode), 2, color_type == 6)


def _unfilter(info: PngInfo, mode: str, rawmode: str) -> bytes:
    from PIL import Image  # only PNGs that must be decoded load Pillow

    try:
        image = Image.frombytes(
            mode, (info.width, info.height), info.idat_bytes(), "zip", rawmode, int(info.interlaced)
        )
    except (ValueError, OSError) as error:
        raise CorruptInput(f"PNG image data is damaged or truncated ({error})") from None
    return image.tobytes()


def _interleave(high: list[bytes], low: list[bytes]) -> bytes:
    """Big-endian 16-bit samples, channel-interleaved, from high- and low-byte planes."""
    planes = [plane for pair in zip(high, low, strict=True) for plane in pair]
    out = bytearray(len(planes[0]) * len(planes))
    for index, plane in enumerate(planes):
        out[index :: len(planes)] = plane
    return bytes(out)


def _split_alpha(
    samples: bytes, width: int, channels: int, sample_bytes: int, has_alpha: bool
) -> DecodedPng:
    """Separate the last channel (alpha) of interleaved ``samples`` into its own plane."""
    bits = 8 * sample_bytes
    if not has_alpha:
        return DecodedPng(samples, bits, None)
    color, alpha = split_lanes(samples, width, channels, sample_bytes)
    return DecodedPng(color, bits, alpha)


def split_lanes(
    samples: bytes, width: int, channels: int, sample_bytes: int
) -> tuple[bytes, bytes]:
    """Interleaved samples whose last channel is alpha → ``(colour samples, alpha samples)``."""
    if sample_bytes == 1:
        from PIL import Image

        # Pillow's C channel code: milliseconds for a 1080p image.
        mode = "RGBA" if channels == 4 else "LA"
        size = (width, len(samples) // (channels * width))
        image = Image.frombuffer(mode, size, samples, "raw", mode, 0, 1)
        color_image = image.convert("RGB") if channels == 4 else image.getchannel("L")
        return color_image.tobytes(), image.getchannel("A").tobytes()
    # Pillow has no 16-bit RGB or LA mode, so the byte lanes are sliced directly.
    pixel = channels * sample_bytes
    color_bytes = pixel - sample_bytes
    color = bytearray(len(samples) // pixel * color_bytes)
    for lane in range(color_bytes):
        color[lane::color_bytes] = samples[lane::pixel]
    alpha = bytearray(len(samples) // pixel * sample_bytes)
    for lane in range(sample_bytes):
        alpha[lane::sample_bytes] = samples[color_bytes + lane :: pixel]
    return bytes(color), bytes(alpha)
