"""What an image's colour values mean, as the PDF colour space that says so.

An embedded ICC profile is the most exact statement and is kept as is. PNG
has two lighter ones: the ``sRGB`` chunk (the image *is* sRGB: an sRGB ICC
profile says so to the PDF reader) and ``gAMA``/``cHRM`` (a transfer
exponent, primaries and white point: exactly what PDF's calibrated spaces
``/CalRGB`` and ``/CalGray`` hold). Without any of them the image stays in
the device space, as before.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

Chromaticities = tuple[float, float, float, float, float, float, float, float]
"""White point x, y, then red, green and blue primaries x, y (CIE 1931 xy)."""

SRGB_CHROMATICITIES: Chromaticities = (0.3127, 0.329, 0.64, 0.33, 0.3, 0.6, 0.15, 0.06)
"""sRGB's (ITU-R BT.709) primaries and D65 white: what a PNG without ``cHRM`` is taken
to use, as browsers do."""
SRGB_GAMMA = 2.2
"""The plain exponent closest to sRGB's transfer curve (what an sRGB PNG's companion
``gAMA`` of 45455 says)."""

_ICC_COLOR_SPACES = {1: b"GRAY", 3: b"RGB ", 4: b"CMYK"}
_ICC_DATE = slice(24, 36)


def usable_icc(profile: bytes | None, colors: int) -> bytes | None:
    """``profile`` when its header's colour space has ``colors`` channels, else ``None``."""
    if profile is None or len(profile) < 128:
        return None
    expected = _ICC_COLOR_SPACES.get(colors)
    return profile if expected is not None and profile[16:20] == expected else None


@functools.cache
def srgb_profile() -> bytes | None:
    """An sRGB ICC profile made by LittleCMS (through Pillow), or ``None`` without LittleCMS.

    Its creation date is zeroed (a date of "not given"), so that equal inputs
    still give equal output bytes.
    """
    try:
        from PIL import ImageCms
    except ImportError:
        return None
    profile = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    profile[_ICC_DATE] = bytes(_ICC_DATE.stop - _ICC_DATE.start)
    return bytes(profile)


@dataclass(frozen=True)
class Calibration:
    """A ``/CalRGB`` (with ``matrix``) or ``/CalGray`` space: white point, gamma, primaries."""

    white_point: tuple[float, float, float]
    gamma: float
    matrix: tuple[float, ...] | None = None
    """XYZ of the red, green and blue primaries at full intensity, in that order."""

    def pdf_entries(self) -> dict[str, float | list[float]]:
        """The space's dictionary entries (rounded: six digits is well inside any display)."""
        entries: dict[str, float | list[float]] = {
            "WhitePoint": [round(value, 6) for value in self.white_point],
        }
        if self.matrix is None:
            entries["Gamma"] = round(self.gamma, 6)
        else:
            entries["Gamma"] = [round(self.gamma, 6)] * 3
            entries["Matrix"] = [round(value, 6) for value in self.matrix]
        return entries


def calibration(
    gamma: float | None, chromaticities: Chromaticities | None, colors: int
) -> Calibration | None:
    """The calibrated space for a PNG's ``gAMA`` (its encoding exponent) and ``cHRM``.

    Either chunk alone is enough: a missing gamma means 2.2, missing
    chromaticities sRGB's. ``None`` when neither is given or the values
    describe no colour space (a zero gamma, primaries on a line).
    """
    if gamma is None and chromaticities is None:
        return None
    if gamma is not None and not 0.01 <= gamma <= 100:
        return None
    decoding_gamma = 1 / gamma if gamma is not None else SRGB_GAMMA
    xy = chromaticities or SRGB_CHROMATICITIES
    white = _xyz(xy[0], xy[1])
    if white is None:
        return None
    if colors == 1:
        return Calibration(white, decoding_gamma)
    primaries = [_xyz(xy[index], xy[index + 1]) for index in (2, 4, 6)]
    known = [primary for primary in primaries if primary is not None]
    scales = _solve(known, white)
    if scales is None:
        return None
    matrix = tuple(
        scale * value for primary, scale in zip(known, scales, strict=True) for value in primary
    )
    return Calibration(white, decoding_gamma, matrix)


def _xyz(x: float, y: float) -> tuple[float, float, float] | None:
    """XYZ (Y = 1) of chromaticity ``x, y``; ``None`` when it is no colour."""
    if not (0 < y <= 1 and 0 <= x <= 1 and x + y <= 1):
        return None
    return (x / y, 1.0, (1 - x - y) / y)


def _solve(
    primaries: list[tuple[float, float, float]], white: tuple[float, float, float]
) -> tuple[float, float, float] | None:
    """How much of each primary (Y = 1 each) adds up to ``white`` (Cramer's rule)."""
    if len(primaries) != 3:
        return None
    r, g, b = primaries
    determinant = _det(r, g, b)
    if abs(determinant) < 1e-9:
        return None
    scales = (
        _det(white, g, b) / determinant,
        _det(r, white, b) / determinant,
        _det(r, g, white) / determinant,
    )
    return scales if all(scale > 0 for scale in scales) else None


def _det(
    a: tuple[float, float, float], b: tuple[float, float, float], c: tuple[float, float, float]
) -> float:
    """The determinant of the matrix whose columns are ``a``, ``b``, ``c``."""
    return (
        a[0] * (b[1] * c[2] - b[2] * c[1])
        - b[0] * (a[1] * c[2] - a[2] * c[1])
        + c[0] * (a[1] * b[2] - a[2] * b[1])
    )
