"""The two EXIF facts the layout needs — orientation and resolution — read from raw bytes.

EXIF is a little TIFF structure; only IFD0 is read, tag by tag, with every
offset bounds-checked so a damaged block yields "no information", never an
exception.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

_ORIENTATION = 0x0112
_X_RESOLUTION = 0x011A
_Y_RESOLUTION = 0x011B
_RESOLUTION_UNIT = 0x0128


@dataclass(frozen=True)
class ExifFacts:
    """``orientation`` is the raw tag value (may be invalid); ``dpi`` only when sane."""

    orientation: int | None = None
    dpi: tuple[float, float] | None = None


def read_exif(tiff: bytes) -> ExifFacts:
    """Orientation and resolution from an EXIF block that starts at its TIFF header."""
    if len(tiff) < 8 or tiff[:2] not in (b"II", b"MM"):
        return ExifFacts()
    order = "<" if tiff[:2] == b"II" else ">"
    (ifd,) = struct.unpack_from(order + "I", tiff, 4)
    if ifd + 2 > len(tiff):
        return ExifFacts()
    (count,) = struct.unpack_from(order + "H", tiff, ifd)
    values: dict[int, float] = {}
    for entry in range(count):
        at = ifd + 2 + 12 * entry
        if at + 12 > len(tiff):
            break
        tag, kind, _, value_at = struct.unpack_from(order + "HHII", tiff, at)
        if tag in (_ORIENTATION, _RESOLUTION_UNIT) and kind == 3:
            (values[tag],) = struct.unpack_from(order + "H", tiff, at + 8)
        elif tag in (_X_RESOLUTION, _Y_RESOLUTION) and kind == 5 and value_at + 8 <= len(tiff):
            numerator, denominator = struct.unpack_from(order + "II", tiff, value_at)
            if denominator:
                values[tag] = numerator / denominator
    orientation = values.get(_ORIENTATION)
    return ExifFacts(
        int(orientation) if orientation is not None else None,
        _dpi(values.get(_X_RESOLUTION), values.get(_Y_RESOLUTION), values.get(_RESOLUTION_UNIT, 2)),
    )


def _dpi(x: float | None, y: float | None, unit: float) -> tuple[float, float] | None:
    if x is None or y is None or unit not in (2, 3):
        return None
    scale = 2.54 if unit == 3 else 1.0
    return sane_dpi(x * scale, y * scale)


def sane_dpi(x: float, y: float) -> tuple[float, float] | None:
    """``(x, y)`` if both are plausible resolutions, else ``None`` (meaning: use the default).

    Below 10 dpi is taken as a placeholder (Pillow reports 1 for TIFFs without one).
    """
    if 10.0 <= x <= 100_000.0 and 10.0 <= y <= 100_000.0:
        return (x, y)
    return None
