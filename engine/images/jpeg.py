"""JPEG headers, read without decoding a pixel.

A JPEG goes into the PDF byte for byte (``/DCTDecode``), so all we need is its
frame header (size, components, precision), whether Adobe's APP14 marks CMYK
as inverted, its orientation, its resolution and its ICC profile (APP2
segments, which split a large profile into numbered pieces). The marker structure is
checked to the end — a file without its end-of-image marker after the first
scan is refused as truncated; multi-picture files are walked marker by marker
(entropy-coded data skipped with one regular-expression search per scan) to
find where each picture ends.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from ..errors import CorruptInput, UnsupportedInput
from .exif import ExifFacts, read_exif, sane_dpi

_SOF_MARKERS = frozenset(
    {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
)
# What every PDF reader's DCTDecode handles: 8-bit Huffman baseline/extended/progressive.
_HUFFMAN_SOF = frozenset({0xC0, 0xC1, 0xC2})
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
# Inside entropy-coded data 0xFF is followed only by 0x00 (stuffing), RSTn or more 0xFF.
_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_MAX_EMBEDDED_IMAGES = 16
_ICC_MARKER = b"ICC_PROFILE\0"


@dataclass(frozen=True)
class JpegInfo:
    """What the PDF image dictionary needs from a JPEG header."""

    width: int
    height: int
    components: int
    bits: int
    adobe: bool
    baseline_or_progressive: bool
    multi_picture: bool
    dpi: tuple[float, float] | None
    exif: ExifFacts
    icc: bytes | None = None
    """The ICC profile, its pieces joined in order; ``None`` when absent or incomplete."""


def read_jpeg(data: bytes) -> list[tuple[JpegInfo, int, int]]:
    """Every JPEG in ``data`` as ``(facts, start, end)``; raises if a structure is damaged.

    The first is the main image; more follow its end marker in multi-picture
    files (MPO stereo pairs, gain maps), and those must be intact too.
    """
    found = [_read_one(data, 0)]
    if not found[0][0].multi_picture:
        return found  # bytes after the end marker are someone's trailer: ignored
    for _ in range(_MAX_EMBEDDED_IMAGES):
        start = data.find(b"\xff\xd8\xff", found[-1][2])
        if start < 0:
            break
        found.append(_read_one(data, start))
    return found


def _read_one(data: bytes, start: int) -> tuple[JpegInfo, int, int]:
    """Parse the JPEG beginning at ``start``; return its facts, start and end offsets."""
    if not data.startswith(b"\xff\xd8", start):
        raise CorruptInput("not a JPEG file (no start-of-image marker)")
    position = start + 2
    frame: tuple[int, int, int, int] | None = None
    huffman_8bit = False
    multi_picture = False
    adobe = False
    jfif_dpi: tuple[float, float] | None = None
    exif = ExifFacts()
    icc_pieces: list[bytes] = []
    while True:
        while (
            position < len(data)
            and data[position] == 0xFF
            and (position + 1 < len(data) and data[position + 1] == 0xFF)
        ):
            position += 1  # fill bytes before a marker
        if position + 2 > len(data):
            raise CorruptInput("JPEG data is truncated (no end-of-image marker)")
        if data[position] != 0xFF:
            # Like libjpeg: skip extraneous bytes up to the next marker.
            position = data.find(b"\xff", position)
            if position < 0:
                raise CorruptInput("JPEG data is truncated (no end-of-image marker)")
            continue
        marker = data[position + 1]
        position += 2
        if marker == 0xD9:
            break
        if marker in _STANDALONE:
            continue
        if position + 2 > len(data):
            raise CorruptInput("JPEG data is truncated inside a marker segment")
        (length,) = struct.unpack_from(">H", data, position)
        segment = data[position + 2 : position + length]
        if length < 2 or len(segment) != length - 2:
            raise CorruptInput("JPEG data is truncated inside a marker segment")
        position += length
        if marker in _SOF_MARKERS:
            frame = _frame(segment)
            huffman_8bit = marker in _HUFFMAN_SOF and frame[3] == 8
        elif marker == 0xE0 and segment.startswith(b"JFIF\0") and len(segment) >= 12:
            jfif_dpi = _jfif_dpi(segment)
        elif marker == 0xE1 and segment.startswith(b"Exif\0\0") and exif.orientation is None:
            exif = read_exif(segment[6:])
        elif marker == 0xE2 and segment.startswith(b"MPF\0"):
            multi_picture = True
        elif marker == 0xE2 and segment.startswith(_ICC_MARKER):
            icc_pieces.append(segment)
        elif marker == 0xEE and segment.startswith(b"Adobe"):
            adobe = True
        elif marker == 0xDA:
            if frame is None:
                raise CorruptInput("JPEG scan comes before its frame header")
            if not multi_picture:
                # Everything needed is known; entropy data never holds FF D9, so a file
                # whose last EOI lies beyond this scan's start is complete.
                end = data.rfind(b"\xff\xd9", position)
                if end < 0:
                    raise CorruptInput("JPEG data is truncated (no end-of-image marker)")
                position = end + 2
                break
            found = _NEXT_MARKER.search(data, position)
            if found is None:
                raise CorruptInput("JPEG data is truncated (scan data has no end)")
            position = found.start()
    if frame is None:
        raise CorruptInput("JPEG has no frame header")
    width, height, components, bits = frame
    dpi = jfif_dpi or exif.dpi
    info = JpegInfo(
        width,
        height,
        components,
        bits,
        adobe,
        huffman_8bit,
        multi_picture,
        dpi,
        exif,
        _icc_profile(icc_pieces),
    )
    return info, start, position


def _icc_profile(segments: list[bytes]) -> bytes | None:
    """The profile from its APP2 pieces, each numbered ``sequence`` of ``count`` (from 1).

    Pieces may come in any order; a missing, repeated or inconsistently counted
    piece means the profile cannot be trusted, and the image is left in its
    device colour space, as viewers do.
    """
    if not segments:
        return None
    header = len(_ICC_MARKER)
    pieces: dict[int, bytes] = {}
    counts = set()
    for segment in segments:
        if len(segment) < header + 2:
            return None
        sequence, count = segment[header], segment[header + 1]
        if sequence in pieces:
            return None
        pieces[sequence] = segment[header + 2 :]
        counts.add(count)
    if len(counts) != 1 or sorted(pieces) != list(range(1, len(pieces) + 1)):
        return None
    if counts.pop() != len(pieces):
        return None
    return b"".join(pieces[sequence] for sequence in sorted(pieces))


def _frame(segment: bytes) -> tuple[int, int, int, int]:
    if len(segment) < 6:
        raise CorruptInput("JPEG frame header is truncated")
    bits, height, width, components = struct.unpack_from(">BHHB", segment)
    if width == 0 or height == 0:
        raise UnsupportedInput("JPEG with zero or deferred (DNL) dimensions is not supported")
    if components not in (1, 3, 4):
        raise UnsupportedInput(f"JPEG with {components} colour components is not supported")
    if bits not in (8, 12, 16):
        raise CorruptInput(f"JPEG with {bits}-bit samples is invalid")
    return width, height, components, bits


def _jfif_dpi(segment: bytes) -> tuple[float, float] | None:
    units, x, y = struct.unpack_from(">BHH", segment, 7)
    if units == 1:
        return sane_dpi(x, y)
    if units == 2:
        return sane_dpi(x * 2.54, y * 2.54)
    return None
