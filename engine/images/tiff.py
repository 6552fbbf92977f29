"""Spotting a TIFF whose only image is one CCITT Group 4 strip, and lifting that strip out.

Such a strip is exactly what PDF's ``/CCITTFaxDecode`` with ``/K -1`` reads,
so a scanned fax page goes into the PDF bit for bit. Anything else about the
TIFF (several strips, reversed bit order, more than one page) sends it down
the decode-and-Flate path instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import TiffImagePlugin

_PHOTOMETRIC = 262
_FILL_ORDER = 266
_STRIP_OFFSETS = 273
_STRIP_BYTE_COUNTS = 279
_BITS_PER_SAMPLE = 258


@dataclass(frozen=True)
class G4Strip:
    """The coded strip and how its bits map to black."""

    data: bytes
    black_is_1: bool


def g4_strip(image: TiffImagePlugin.TiffImageFile, data: bytes) -> G4Strip | None:
    """The strip of a single-page, single-strip, MSB-first G4 TIFF; ``None`` otherwise."""
    if image.info.get("compression") != "group4" or getattr(image, "n_frames", 1) != 1:
        return None
    tags = image.tag_v2
    offsets = tags.get(_STRIP_OFFSETS)
    counts = tags.get(_STRIP_BYTE_COUNTS)
    if not isinstance(offsets, tuple) or not isinstance(counts, tuple):
        offsets, counts = (offsets,), (counts,)
    photometric = tags.get(_PHOTOMETRIC)
    if (
        len(offsets) != 1
        or len(counts) != 1
        or not isinstance(offsets[0], int)
        or not isinstance(counts[0], int)
        or tags.get(_FILL_ORDER, 1) != 1
        or photometric not in (0, 1)
        or tags.get(_BITS_PER_SAMPLE, 1) not in (1, (1,))
    ):
        return None
    start, length = offsets[0], counts[0]
    if start + length > len(data) or length == 0:
        return None
    # WhiteIsZero (0) is the fax norm: coded "white" runs are 0 bits, i.e. BlackIs1 false.
    return G4Strip(data[start : start + length], black_is_1=photometric == 1)
