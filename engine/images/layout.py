"""Page geometry: page sizes, lengths with units, fit modes, EXIF orientation.

Everything here is pure arithmetic in PDF points (1/72 inch). An image is
drawn by one ``cm`` matrix that scales the unit square to its placed size and,
for EXIF orientations 2–8, rotates or mirrors it — so no pixel is ever
re-encoded to turn a photo upright.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ..errors import InvalidOption

POINTS_PER_UNIT = {
    "pt": 1.0,
    "in": 72.0,
    "mm": 72.0 / 25.4,
    "cm": 72.0 / 2.54,
    "px": 72.0 / 96.0,  # CSS pixels: 96 per inch
}

_A0_MM = (841.0, 1189.0)
_B0_MM = (1000.0, 1414.0)


def _iso_series(first: tuple[float, float], prefix: str) -> dict[str, tuple[float, float]]:
    """ISO 216 sizes: each step halves the longer side (rounded down to a millimetre)."""
    sizes: dict[str, tuple[float, float]] = {}
    width, height = first
    for step in range(11):
        sizes[f"{prefix}{step}"] = (width * POINTS_PER_UNIT["mm"], height * POINTS_PER_UNIT["mm"])
        width, height = float(int(height / 2)), width
    return sizes


PAGE_SIZES: dict[str, tuple[float, float]] = {
    **_iso_series(_A0_MM, "a"),
    **_iso_series(_B0_MM, "b"),
    "letter": (612.0, 792.0),
    "legal": (612.0, 1008.0),
    "tabloid": (792.0, 1224.0),
}

FIT_MODES = ("into", "fill", "exact", "shrink", "enlarge")
MIN_PAGE_SIDE = 3.0
"""Viewers refuse pages with a side under 3 units (ISO 32000's implementation limits)."""
MAX_PAGE_SIDE = 14_400.0
"""Nor over 14,400 units (200 in); a larger page is written in bigger units (/UserUnit)."""

_LENGTH = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(pt|in|mm|cm|px)?\s*$", re.IGNORECASE)
_CUSTOM_SIZE = re.compile(
    r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(pt|in|mm|cm|px)?\s*[x×*]\s*(\d+(?:\.\d*)?|\.\d+)\s*"
    r"(pt|in|mm|cm|px)?\s*$",
    re.IGNORECASE,
)


def parse_length(value: str | float, what: str = "length") -> float:
    """A non-negative length in points from a number (points) or text like ``"10mm"``."""
    if isinstance(value, (int, float)):
        points = float(value)
    else:
        match = _LENGTH.match(value)
        if match is None:
            raise InvalidOption(f"invalid {what} {value!r}: use a number with pt, in, mm, cm or px")
        points = float(match.group(1)) * POINTS_PER_UNIT[(match.group(2) or "pt").lower()]
    if points < 0 or points != points:
        raise InvalidOption(f"invalid {what} {value!r}: must not be negative")
    return points


def parse_page_size(value: str) -> tuple[float, float]:
    """Page size in points: a name (A0–A10, B0–B10, Letter, Legal, Tabloid) or ``WxH[unit]``."""
    key = value.strip().lower()
    if key in PAGE_SIZES:
        return PAGE_SIZES[key]
    match = _CUSTOM_SIZE.match(value)
    if match is None:
        names = "A0–A10, B0–B10, Letter, Legal, Tabloid"
        raise InvalidOption(
            f"invalid page size {value!r}: use {names} or WxH with a unit, e.g. 210x297mm"
        )
    trailing_unit = match.group(4) or match.group(2) or "pt"
    width_unit = match.group(2) or trailing_unit
    width = float(match.group(1)) * POINTS_PER_UNIT[width_unit.lower()]
    height = float(match.group(3)) * POINTS_PER_UNIT[trailing_unit.lower()]
    if width < MIN_PAGE_SIDE or height < MIN_PAGE_SIDE:
        raise InvalidOption(f"invalid page size {value!r}: both sides must be at least 3 pt")
    return width, height


# (u, v) in the stored image's unit square → (a·u + c·v + e, b·u + d·v + f) in
# the upright unit square, for each EXIF orientation (1 = as stored).
_ORIENTATION_MATRICES: dict[int, tuple[int, int, int, int, int, int]] = {
    1: (1, 0, 0, 1, 0, 0),
    2: (-1, 0, 0, 1, 1, 0),
    3: (-1, 0, 0, -1, 1, 1),
    4: (1, 0, 0, -1, 0, 1),
    5: (0, -1, -1, 0, 1, 1),
    6: (0, -1, 1, 0, 0, 1),
    7: (0, 1, 1, 0, 0, 0),
    8: (0, 1, -1, 0, 1, 0),
}


def swaps_axes(orientation: int) -> bool:
    """Whether an EXIF orientation turns the image by 90° (width and height swap)."""
    return orientation >= 5


@dataclass(frozen=True)
class PageOptions:
    """The caller's layout wishes, already parsed into points."""

    page_size: tuple[float, float] | None = None
    fit: str = "into"
    margin: float = 0.0
    auto_orient: bool = False

    @classmethod
    def parse(
        cls, page_size: str | None, fit: str, margin: str | float | None, auto_orient: bool
    ) -> PageOptions:
        """Validate the public option values (raising :class:`InvalidOption`)."""
        if fit not in FIT_MODES:
            raise InvalidOption(f"invalid fit {fit!r}: use one of {', '.join(FIT_MODES)}")
        size = parse_page_size(page_size) if page_size else None
        points = parse_length(margin, "margin") if margin is not None else 0.0
        if size is not None and (2 * points >= size[0] or 2 * points >= size[1]):
            raise InvalidOption(f"margin {margin!r} leaves no room on a {page_size} page")
        return cls(size, fit, points, auto_orient)


@dataclass(frozen=True)
class Placement:
    """A page's size and the matrix that draws the image XObject on it.

    Both are in units of ``user_unit`` points (1 unless the page is over
    :data:`MAX_PAGE_SIDE` points, when the page carries ``/UserUnit``).
    """

    page_width: float
    page_height: float
    matrix: tuple[float, float, float, float, float, float]
    user_unit: float = 1.0


def place(
    pixel_width: int,
    pixel_height: int,
    dpi: tuple[float, float],
    orientation: int,
    options: PageOptions,
) -> Placement:
    """Where an image of that many pixels at ``dpi`` goes, upright, under ``options``."""
    natural_w = pixel_width * 72.0 / dpi[0]
    natural_h = pixel_height * 72.0 / dpi[1]
    if swaps_axes(orientation):
        natural_w, natural_h = natural_h, natural_w
    margin = options.margin
    if options.page_size is None:
        # A few-pixel image is drawn larger, keeping its shape, rather than on a page
        # too small to open.
        short_side = min(natural_w, natural_h) + 2 * margin
        if short_side < MIN_PAGE_SIDE:
            scale = (MIN_PAGE_SIDE - 2 * margin) / min(natural_w, natural_h)
            natural_w, natural_h = natural_w * scale, natural_h * scale
        page_w, page_h = natural_w + 2 * margin, natural_h + 2 * margin
        draw_w, draw_h = natural_w, natural_h
    else:
        page_w, page_h = options.page_size
        if (
            options.auto_orient
            and (page_w > page_h) != (natural_w > natural_h)
            and (natural_w != natural_h)
        ):
            page_w, page_h = page_h, page_w
        draw_w, draw_h = _fit(
            natural_w, natural_h, page_w - 2 * margin, page_h - 2 * margin, options.fit
        )
    # Rounded up to a thousandth, so the unit is written exactly and the page stays in bounds.
    unit = max(1.0, math.ceil(max(page_w, page_h) / MAX_PAGE_SIDE * 1000) / 1000)
    page_w, page_h, draw_w, draw_h = page_w / unit, page_h / unit, draw_w / unit, draw_h / unit
    x = (page_w - draw_w) / 2
    y = (page_h - draw_h) / 2
    a, b, c, d, e, f = _ORIENTATION_MATRICES[orientation]
    matrix = (a * draw_w, b * draw_h, c * draw_w, d * draw_h, e * draw_w + x, f * draw_h + y)
    return Placement(page_w, page_h, matrix, unit)


def _fit(width: float, height: float, box_w: float, box_h: float, fit: str) -> tuple[float, float]:
    """The drawn size of a ``width``×``height`` image in a ``box_w``×``box_h`` box."""
    if fit == "exact":
        return box_w, box_h
    into = min(box_w / width, box_h / height)
    scale = {
        "into": into,
        "fill": max(box_w / width, box_h / height),
        "shrink": min(into, 1.0),
        "enlarge": max(into, 1.0),
    }[fit]
    return width * scale, height * scale
