"""Ways to damage a real file, as Hypothesis-drawn edits: generic and format-aware.

Generic edits (bit flips, overwrites, truncation, cut/duplicated ranges,
splices of two files) find what random damage finds. Format-aware edits go
where parsers make decisions — a PNG's IHDR width and height (with the CRC
fixed so the lie gets past the checksum), a JPEG's SOF dimensions, a TIFF's
IFD offsets and tag values, a PDF's xref offsets, object numbers, references
and ``/Length``/``/Count`` values — and put the values that break arithmetic
there (0, 1, 2³¹−1, 2³², off-by-one of the real value). Each mutator takes a
``draw`` function (Hypothesis' ``data.draw``) and the bytes, and returns new
bytes; on input it does not understand it falls back to a generic edit, so
every draw changes something and shrinks well.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable
from typing import Literal

from hypothesis import strategies as st

Draw = st.DrawFn
Mutator = Callable[[Draw, bytes], bytes]

INTERESTING = (
    0,
    1,
    2,
    7,
    8,
    15,
    16,
    255,
    256,
    0x7FFF,
    0x8000,
    0xFFFF,
    0x10000,
    0x7FFFFFFF,
    0x80000000,
    0xFFFFFFFF,
)


def _position(draw: Draw, data: bytes) -> int:
    return int(draw(st.integers(0, max(len(data) - 1, 0))))


def interesting_number(draw: Draw, current: int, bits: int) -> int:
    """An interesting value, or the current one nudged, that fits in ``bits``."""
    nudged = (current + draw(st.sampled_from((-1, 1, -2, 2, 1000)))) % (1 << bits)
    value = draw(st.sampled_from((*INTERESTING, nudged, current * 2)))
    return int(value) % (1 << bits)


# --- generic ---------------------------------------------------------------------------------


def flip_bits(draw: Draw, data: bytes) -> bytes:
    """Flip 1–8 single bits at drawn positions."""
    if not data:
        return b"\x00"
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 8))):
        out[_position(draw, data)] ^= 1 << draw(st.integers(0, 7))
    return bytes(out)


def overwrite_number(draw: Draw, data: bytes) -> bytes:
    """Overwrite 1, 2 or 4 bytes (either byte order) with an interesting value."""
    if len(data) < 4:
        return flip_bits(draw, data)
    width = draw(st.sampled_from((1, 2, 4)))
    at = draw(st.integers(0, len(data) - width))
    order: Literal["big", "little"] = draw(st.sampled_from(("big", "little")))
    value = interesting_number(draw, int.from_bytes(data[at : at + width], order), 8 * width)
    return data[:at] + value.to_bytes(width, order) + data[at + width :]


def truncate(draw: Draw, data: bytes) -> bytes:
    """Cut the file short (from 0 bytes up to one byte less)."""
    return data[: draw(st.integers(0, max(len(data) - 1, 0)))]


def cut_or_copy_range(draw: Draw, data: bytes) -> bytes:
    """Delete a range, or copy a range over/into another place."""
    if len(data) < 2:
        return flip_bits(draw, data)
    start = _position(draw, data)
    end = draw(st.integers(start + 1, min(len(data), start + 4096)))
    if draw(st.booleans()):
        return data[:start] + data[end:]
    at = _position(draw, data)
    return data[:at] + data[start:end] + data[at + draw(st.sampled_from((0, end - start))) :]


def splice(other: bytes) -> Mutator:
    """Head of this file, tail of ``other`` (same format: a plausible Frankenstein)."""

    def splice_files(draw: Draw, data: bytes) -> bytes:
        head = draw(st.integers(0, len(data)))
        tail = draw(st.integers(0, len(other)))
        return data[:head] + other[tail:]

    return splice_files


GENERIC: tuple[Mutator, ...] = (flip_bits, overwrite_number, truncate, cut_or_copy_range)


# --- PNG ------------------------------------------------------------------------------------

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_IHDR_FIELDS = {
    "width": (16, 4),
    "height": (20, 4),
    "bit_depth": (24, 1),
    "color_type": (25, 1),
    "compression": (26, 1),
    "filter": (27, 1),
    "interlace": (28, 1),
}


def png_chunks(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of every whole chunk after the signature, as far as they parse."""
    chunks, at = [], len(_PNG_SIGNATURE)
    while at + 12 <= len(data):
        length = struct.unpack(">I", data[at : at + 4])[0]
        end = at + 12 + length
        if end > len(data):
            break
        chunks.append((at, end))
        at = end
    return chunks


def _fix_crc(data: bytes, start: int, end: int) -> bytes:
    body = data[start + 4 : end - 4]
    return data[: end - 4] + struct.pack(">I", zlib.crc32(body)) + data[end:]


def png_header_field(draw: Draw, data: bytes) -> bytes:
    """Set an IHDR field (width, height, depth, colour type, ...) and usually fix the CRC."""
    chunks = png_chunks(data)
    if not data.startswith(_PNG_SIGNATURE) or not chunks or chunks[0][1] - chunks[0][0] != 25:
        return overwrite_number(draw, data)
    offset, width = _IHDR_FIELDS[draw(st.sampled_from(sorted(_IHDR_FIELDS)))]
    value = interesting_number(
        draw, int.from_bytes(data[offset : offset + width], "big"), 8 * width
    )
    out = data[:offset] + value.to_bytes(width, "big") + data[offset + width :]
    # Usually fix the CRC, so the lie reaches the code that trusts the field.
    return _fix_crc(out, *chunks[0]) if draw(st.sampled_from((True, True, False))) else out


def png_chunk_shuffle(draw: Draw, data: bytes) -> bytes:
    """Drop, duplicate or swap whole chunks (CRCs intact, so only the structure lies)."""
    chunks = png_chunks(data)
    if len(chunks) < 2:
        return cut_or_copy_range(draw, data)
    pieces = [data[start:end] for start, end in chunks]
    tail = data[chunks[-1][1] :]
    first = draw(st.integers(0, len(pieces) - 1))
    second = draw(st.integers(0, len(pieces) - 1))
    action = draw(st.sampled_from(("drop", "duplicate", "swap")))
    if action == "drop":
        del pieces[first]
    elif action == "duplicate":
        pieces.insert(second, pieces[first])
    else:
        pieces[first], pieces[second] = pieces[second], pieces[first]
    return _PNG_SIGNATURE + b"".join(pieces) + tail


def png_chunk_length(draw: Draw, data: bytes) -> bytes:
    """Lie in one chunk's length field."""
    chunks = png_chunks(data)
    if not chunks:
        return overwrite_number(draw, data)
    start, _ = chunks[draw(st.integers(0, len(chunks) - 1))]
    value = interesting_number(draw, struct.unpack(">I", data[start : start + 4])[0], 32)
    return data[:start] + struct.pack(">I", value) + data[start + 4 :]


# --- JPEG -----------------------------------------------------------------------------------

_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_SOF_FIELDS = {"precision": (4, 1), "height": (5, 2), "width": (7, 2), "components": (9, 1)}


def jpeg_segments(data: bytes) -> list[tuple[int, int, int]]:
    """(marker, start, end) of the marker segments before the first scan."""
    segments, at = [], 2
    while at + 4 <= len(data) and data[at] == 0xFF:
        marker = data[at + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            at += 2
            continue
        end = at + 2 + struct.unpack(">H", data[at + 2 : at + 4])[0]
        segments.append((marker, at, min(end, len(data))))
        if marker == 0xDA or end > len(data):
            break
        at = end
    return segments


def jpeg_frame_field(draw: Draw, data: bytes) -> bytes:
    """Set a SOF field: sample precision, height, width or component count."""
    frames = [
        start
        for marker, start, end in jpeg_segments(data)
        if marker in _SOF_MARKERS and end - start >= 10
    ]
    if not frames:
        return overwrite_number(draw, data)
    start = draw(st.sampled_from(frames))
    offset, width = _SOF_FIELDS[draw(st.sampled_from(sorted(_SOF_FIELDS)))]
    at = start + offset
    value = interesting_number(draw, int.from_bytes(data[at : at + width], "big"), 8 * width)
    return data[:at] + value.to_bytes(width, "big") + data[at + width :]


def jpeg_segment_shuffle(draw: Draw, data: bytes) -> bytes:
    """Drop or duplicate a marker segment, or lie in its length."""
    segments = jpeg_segments(data)
    if not segments:
        return cut_or_copy_range(draw, data)
    _, start, end = draw(st.sampled_from(segments))
    action = draw(st.sampled_from(("drop", "duplicate", "length")))
    if action == "drop":
        return data[:start] + data[end:]
    if action == "duplicate":
        return data[:end] + data[start:end] + data[end:]
    value = interesting_number(draw, struct.unpack(">H", data[start + 2 : start + 4])[0], 16)
    return data[: start + 2] + struct.pack(">H", value) + data[start + 4 :]


# --- TIFF -----------------------------------------------------------------------------------

_TIFF_TAGS_OF_INTEREST = (
    256,
    257,
    258,
    259,
    262,
    273,
    277,
    278,
    279,
    284,
    317,
    322,
    323,
    324,
    325,
    338,
    339,
)


ByteOrder = Literal["little", "big"]


def _tiff_order(data: bytes) -> ByteOrder | None:
    orders: dict[bytes, ByteOrder] = {b"II": "little", b"MM": "big"}
    return orders.get(data[:2])


def tiff_entries(data: bytes) -> list[int]:
    """Offsets of the 12-byte entries of the first IFD (as far as they lie inside the file)."""
    order = _tiff_order(data)
    if order is None or len(data) < 8:
        return []
    ifd = int.from_bytes(data[4:8], order)
    if ifd + 2 > len(data):
        return []
    count = int.from_bytes(data[ifd : ifd + 2], order)
    return [entry for entry in range(ifd + 2, ifd + 2 + 12 * count, 12) if entry + 12 <= len(data)]


def tiff_ifd_field(draw: Draw, data: bytes) -> bytes:
    """Set the IFD offset, an entry count, or a tag's type, count or value."""
    order = _tiff_order(data)
    entries = tiff_entries(data)
    if order is None or not entries:
        return overwrite_number(draw, data)
    preferred = [
        entry
        for entry in entries
        if int.from_bytes(data[entry : entry + 2], order) in _TIFF_TAGS_OF_INTEREST
    ]
    target = draw(
        st.sampled_from(
            (
                (4, 4),  # the first IFD's offset
                (entries[0] - 2, 2),  # its entry count
                *[(entry + 2, 2) for entry in preferred],  # type
                *[(entry + 4, 4) for entry in preferred],  # count
                *[(entry + 8, 4) for entry in preferred],  # value or offset
            )
        )
    )
    at, width = target
    value = interesting_number(draw, int.from_bytes(data[at : at + width], order), 8 * width)
    return data[:at] + value.to_bytes(width, order) + data[at + width :]


# --- GIF and BMP ----------------------------------------------------------------------------


def gif_or_bmp_header(draw: Draw, data: bytes) -> bytes:
    """GIF screen/frame size, or BMP pixel offset, size, depth and compression."""
    if data.startswith(b"GIF") and len(data) >= 13:
        fields = [(6, 2), (8, 2), (10, 1)]
        descriptor = data.find(b"\x2c", 13)
        if descriptor > 0 and descriptor + 10 <= len(data):
            fields += [(descriptor + 5, 2), (descriptor + 7, 2), (descriptor + 9, 1)]
    elif data.startswith(b"BM") and len(data) >= 34:
        fields = [(10, 4), (14, 4), (18, 4), (22, 4), (28, 2), (30, 4), (46, 4)]
    else:
        return overwrite_number(draw, data)
    at, width = draw(st.sampled_from(fields))
    value = interesting_number(draw, int.from_bytes(data[at : at + width], "little"), 8 * width)
    return data[:at] + value.to_bytes(width, "little") + data[at + width :]


IMAGE_AWARE: tuple[Mutator, ...] = (
    png_header_field,
    png_chunk_shuffle,
    png_chunk_length,
    jpeg_frame_field,
    jpeg_segment_shuffle,
    tiff_ifd_field,
    gif_or_bmp_header,
)


# --- PDF ------------------------------------------------------------------------------------

_PDF_NUMBERS = {
    "startxref": re.compile(rb"startxref\s+(\d+)"),
    "xref entry": re.compile(rb"(\d{10}) \d{5} [nf]"),
    "object number": re.compile(rb"(\d+) \d+ obj"),
    "reference": re.compile(rb"(\d+) \d+ R\b"),
    "/Length": re.compile(rb"/Length\s+(\d+)"),
    "/Count": re.compile(rb"/Count\s+(-?\d+)"),
    "/Size": re.compile(rb"/Size\s+(\d+)"),
    "/Prev or /First or /N": re.compile(rb"/(?:Prev|First|N)\s+(\d+)"),
}
_PDF_NAME_SWAPS = (
    (rb"/Pages\b", b"/Page"),
    (rb"/Page\b", b"/Pages"),
    (rb"/Catalog\b", b"/Pages"),
    (rb"/Kids\b", b"/Kidz"),
    (rb"/Parent\b", b"/Kids"),
    (rb"/Root\b", b"/Info"),
    (rb"/Annots\b", b"/Kids"),
    (rb"/Outlines\b", b"/Pages"),
)


def pdf_number(draw: Draw, data: bytes) -> bytes:
    """Rewrite one structural number: startxref, an xref offset, an object number, ..."""
    kinds = [kind for kind, pattern in _PDF_NUMBERS.items() if pattern.search(data)]
    if not kinds:
        return overwrite_number(draw, data)
    matches = list(_PDF_NUMBERS[draw(st.sampled_from(kinds))].finditer(data))
    match = matches[draw(st.integers(0, len(matches) - 1))]
    current = int(match.group(1))
    value = draw(
        st.sampled_from(
            (
                0,
                1,
                -1,
                current - 1,
                current + 1,
                current + 17,
                current * 2,
                2**31 - 1,
                2**31,
                2**63,
                10**20,
            )
        )
    )
    text = str(value).encode()
    if len(match.group(1)) == 10:  # keep xref rows 20 bytes wide (only the value lies)
        text = text[-10:].rjust(10, b"0")
    return data[: match.start(1)] + text + data[match.end(1) :]


def pdf_name_swap(draw: Draw, data: bytes) -> bytes:
    """Turn one structural name into another (a page into a page tree, a catalog into one)."""
    swaps = [(re.compile(old), new) for old, new in _PDF_NAME_SWAPS if re.search(old, data)]
    if not swaps:
        return flip_bits(draw, data)
    pattern, new = draw(st.sampled_from(swaps))
    matches = list(pattern.finditer(data))
    match = matches[draw(st.integers(0, len(matches) - 1))]
    return data[: match.start()] + new + data[match.end() :]


_PDF_OBJECT = re.compile(rb"\d+ \d+ obj\b.*?endobj", re.DOTALL)


def pdf_object_shuffle(draw: Draw, data: bytes) -> bytes:
    """Delete an object, or duplicate it (so a number is defined twice)."""
    objects = list(_PDF_OBJECT.finditer(data))
    if not objects:
        return cut_or_copy_range(draw, data)
    match = objects[draw(st.integers(0, len(objects) - 1))]
    if draw(st.booleans()):
        return data[: match.start()] + data[match.end() :]
    return data[: match.end()] + b"\n" + match.group(0) + data[match.end() :]


PDF_AWARE: tuple[Mutator, ...] = (pdf_number, pdf_number, pdf_name_swap, pdf_object_shuffle)
