"""JPEG 2000 headers (JP2 boxes or a bare J2K codestream), read without decoding.

The data goes into the PDF unchanged as ``/JPXDecode``; PDF readers take the
colour space and precision from the codestream itself, so only the size is
needed — read here rather than through Pillow, which cannot open every valid
file (it needs OpenJPEG and refuses some modes).
"""

from __future__ import annotations

import struct

from ..errors import CorruptInput

JP2_SIGNATURE = b"\x00\x00\x00\x0cjP  \r\n\x87\n"
J2K_SIGNATURE = b"\xff\x4f\xff\x51"


def read_jpx_size(data: bytes) -> tuple[int, int]:
    """``(width, height)`` of a JP2 file or J2K codestream; raises if the header is damaged."""
    if data.startswith(J2K_SIGNATURE):
        return _codestream_size(data, 0)
    codestream = _find_box(data, 0, len(data), b"jp2c")
    if codestream is None:
        raise CorruptInput("JPEG 2000 file has no codestream")
    return _codestream_size(data, codestream[0])


def _codestream_size(data: bytes, start: int) -> tuple[int, int]:
    if not data.startswith(J2K_SIGNATURE, start) or start + 28 > len(data):
        raise CorruptInput("JPEG 2000 codestream header is missing or truncated")
    x_size, y_size, x_offset, y_offset = struct.unpack_from(">IIII", data, start + 8)
    width, height = x_size - x_offset, y_size - y_offset
    if x_size <= x_offset or y_size <= y_offset:
        raise CorruptInput(f"JPEG 2000 image has invalid dimensions {width}x{height}")
    return width, height


def _find_box(data: bytes, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    """``(content_start, content_end)`` of the first top-level box of ``kind``."""
    position = start
    while position + 8 <= end:
        length, box = struct.unpack_from(">I4s", data, position)
        header = 8
        if length == 1:
            if position + 16 > end:
                return None
            (length,) = struct.unpack_from(">Q", data, position + 8)
            header = 16
        elif length == 0:
            length = end - position
        if length < header:
            raise CorruptInput("JPEG 2000 file has a malformed box")
        if box == kind:
            return position + header, min(position + length, end)
        position += length
    return None
