"""Opening an input image: read it, classify it by its magic bytes, yield its frames.

Classification picks the cheapest lossless route of the embedding table:
JPEG, JPEG 2000 and PNG are parsed here without Pillow deciding anything
(and a PNG is never even opened by Pillow unless animated or interlaced);
everything else is opened with Pillow (a CCITT G4 TIFF still passes its strip
through). Sizes are checked against the pixel limit from headers alone,
before any pixel buffer exists.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import CorruptInput, EngineError, TooLarge, UnsupportedInput
from ..inputs import NamedSource, Source, open_binary
from . import embed
from .exif import sane_dpi
from .heif import heif_kind, require_decoder
from .jpeg import read_jpeg
from .jpx import J2K_SIGNATURE, JP2_SIGNATURE, read_jpx_size
from .png import SIGNATURE as PNG_SIGNATURE
from .png import check_stream_start, read_png
from .routes import Route, choose_route
from .tiff import G4Strip, g4_strip

if TYPE_CHECKING:
    from PIL import Image

DEFAULT_DPI = 96.0

_EXIF_ORIENTATION = 0x0112

Warn = Callable[[str], None]


@dataclass(frozen=True)
class Frame:
    """One page's worth of image: the encoded XObject, its resolution and orientation."""

    image: embed.ImageXObject
    dpi: tuple[float, float]
    orientation: int


@dataclass(frozen=True)
class FramePlan:
    """One frame as its header describes it, the route chosen for it, and its encoder.

    ``dpi`` is what the page size is computed from (``dpi_from_file`` says
    whether the file gave it or the default was used). ``encode`` must be
    called before the next plan is taken from :func:`plan_frames`.
    """

    image_format: str
    width: int
    height: int
    dpi: tuple[float, float]
    dpi_from_file: bool
    orientation: int
    colour: str
    bits: int | None
    alpha: bool
    icc: bytes | None
    route: Route
    encode: Callable[[], embed.ImageXObject]

    def frame(self) -> Frame:
        """Encode the frame for the PDF."""
        return Frame(self.encode(), self.dpi, self.orientation)


def read_source(source: Source | NamedSource) -> bytes:
    """All bytes of one input (one input at a time is the memory bound)."""
    try:
        with open_binary(source) as stream:
            data = stream.read()
    except OSError as error:
        raise UnsupportedInput(f"cannot be read ({error.strerror or error})") from None
    if not data:
        raise UnsupportedInput("file is empty")
    return bytes(data)


def plan_frames(data: bytes, *, max_pixels: int, warn: Warn) -> Iterator[FramePlan]:
    """Every frame of the image in ``data``, its route chosen from headers alone.

    Everything that can be checked without decoding pixels is checked here
    (structure, checksums, the pixel limit), so a plan that comes out is one
    the converter will embed.
    """
    if data.startswith(b"\xff\xd8\xff"):
        yield from _jpeg_frames(data, max_pixels, warn)
    elif data.startswith(PNG_SIGNATURE):
        yield from _png_frames(data, max_pixels, warn)
    elif data.startswith((JP2_SIGNATURE, J2K_SIGNATURE)):
        width, height = read_jpx_size(data)
        check_pixels(width, height, max_pixels)
        yield FramePlan(
            "JPEG 2000",
            width,
            height,
            (DEFAULT_DPI, DEFAULT_DPI),
            False,
            1,
            "as coded in the codestream",
            None,
            False,
            None,
            choose_route("JPEG 2000"),
            lambda: embed.from_jpx(data, width, height),
        )
    else:
        kind = heif_kind(data)
        if kind is not None:
            require_decoder(kind)
        yield from _pillow_frames(data, max_pixels, warn)


def check_pixels(width: int, height: int, max_pixels: int) -> None:
    """Refuse an image over the pixel limit, from its header's size alone."""
    if width * height > max_pixels:
        raise TooLarge(
            f"image is {width}x{height} = {width * height:,} pixels, over the limit of "
            f"{max_pixels:,} (raise max_pixels to allow it)"
        )


def _orientation(value: int | None, warn: Warn) -> int:
    if value is None or value == 1:
        return 1
    if 2 <= value <= 8:
        return value
    warn(f"invalid EXIF orientation {value} ignored")
    return 1


_JPEG_COLOURS = {1: "Gray", 3: "YCbCr (RGB)", 4: "CMYK"}


def _jpeg_frames(data: bytes, max_pixels: int, warn: Warn) -> Iterator[FramePlan]:
    """One page per picture: a plain JPEG whole, an MPO file picture by picture."""
    pictures = read_jpeg(data)
    for info, _, _ in pictures:
        check_pixels(info.width, info.height, max_pixels)
    # Pillow is asked only about multi-picture files, for their frame table; a plain
    # JPEG is fully checked by our own marker walk.
    frame_count = _verify_header(data) if pictures[0][0].multi_picture else 1
    if frame_count > len(pictures):
        raise CorruptInput(f"multi-picture JPEG lists {frame_count} pictures but holds fewer")
    route = choose_route(
        "JPEG",
        dct_readable=all(info.baseline_or_progressive for info, _, _ in pictures[:frame_count]),
    )
    if not route.copied:
        yield from _pillow_frames(data, max_pixels, warn, route)
        return
    for info, start, end in pictures[:frame_count]:
        # A lone picture keeps any trailing bytes: the file goes in exactly as given.
        picture = data if frame_count == 1 else data[start:end]
        colour = _JPEG_COLOURS[info.components]
        if info.components == 4 and info.adobe:
            colour += " (Adobe, stored inverted)"
        yield FramePlan(
            "JPEG",
            info.width,
            info.height,
            info.dpi or (DEFAULT_DPI, DEFAULT_DPI),
            info.dpi is not None,
            _orientation(info.exif.orientation, warn),
            colour,
            info.bits,
            False,
            info.icc,
            route,
            lambda picture=picture, info=info: embed.from_jpeg(picture, info),  # type: ignore[misc]
        )


_PNG_COLOURS = {0: "Gray", 2: "RGB", 3: "Palette (RGB)", 4: "Gray + alpha", 6: "RGB + alpha"}


def _png_frames(data: bytes, max_pixels: int, warn: Warn) -> Iterator[FramePlan]:
    """A PNG from our own chunk parse alone; only an animated one goes to Pillow."""
    info = read_png(data)
    check_pixels(info.width, info.height, max_pixels)
    palette_alpha = info.color_type == 3 and info.transparency is not None
    route = choose_route(
        "PNG",
        animated=info.animated,
        interlaced=info.interlaced,
        alpha_channel=info.has_alpha,
        palette_transparency=palette_alpha,
    )
    if info.animated:
        yield from _pillow_frames(data, max_pixels, warn, route)
        return
    if not info.interlaced:
        check_stream_start(info)
    yield FramePlan(
        "PNG",
        info.width,
        info.height,
        info.dpi or (DEFAULT_DPI, DEFAULT_DPI),
        info.dpi is not None,
        _orientation(info.exif.orientation, warn),
        _PNG_COLOURS[info.color_type],
        info.bit_depth,
        info.has_alpha or info.transparency is not None,
        info.icc,
        route,
        lambda: embed.from_png(info, route),
    )


def _verify_header(data: bytes) -> int:
    """Let Pillow's parser (headers only, no pixels) second our own on a multi-picture JPEG.

    It checks what ours skips: the multi-picture (MPO) frame table. Its bomb
    guard is ignored here because our own pixel limit was already applied.
    Returns Pillow's frame count.
    """
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            frame_count: int = getattr(image, "n_frames", 1)
            for index in range(1, frame_count):
                image.seek(index)
            return frame_count
    except Image.DecompressionBombError:
        return 1
    except Exception as error:  # Pillow raises many types on damaged data
        raise CorruptInput(f"damaged image header ({_describe(error)})") from None


def _pillow_frames(
    data: bytes, max_pixels: int, warn: Warn, route: Route | None = None
) -> Iterator[FramePlan]:
    """Frames decoded by Pillow; any Pillow failure on damaged data becomes CorruptInput.

    ``route`` is given when the caller already chose decoding for its format.
    """
    from PIL import Image, TiffImagePlugin

    with _pillow_errors(), Image.open(io.BytesIO(data)) as image:
        image_format = image.format or "image"
        orientation = _orientation(image.getexif().get(_EXIF_ORIENTATION), warn)
        strip = None
        if isinstance(image, TiffImagePlugin.TiffImageFile):
            check_pixels(image.width, image.height, max_pixels)
            strip = g4_strip(image, data)
        if route is None:
            route = choose_route(image_format, g4_strip=strip is not None)
        for index in range(getattr(image, "n_frames", 1)):
            image.seek(index)
            check_pixels(image.width, image.height, max_pixels)
            dpi, dpi_from_file = _dpi(image)
            icc = image.info.get("icc_profile")
            yield FramePlan(
                image_format,
                image.width,
                image.height,
                dpi,
                dpi_from_file,
                orientation,
                _PILLOW_COLOURS.get(image.mode, image.mode),
                1 if image.mode == "1" else 16 if image.mode.startswith("I;16") else None,
                "A" in image.mode or "a" in image.mode or "transparency" in image.info,
                icc if isinstance(icc, bytes) and icc else None,
                route,
                lambda image=image, strip=strip: _decode_pillow(image, strip),  # type: ignore[misc]
            )


_PILLOW_COLOURS = {
    "1": "bilevel",
    "L": "Gray",
    "LA": "Gray + alpha",
    "P": "Palette",
    "PA": "Palette + alpha",
    "RGB": "RGB",
    "RGBA": "RGB + alpha",
    "CMYK": "CMYK",
    "YCbCr": "YCbCr",
    "LAB": "CIE L*a*b*",
    "I;16": "Gray",
    "I;16B": "Gray",
    "I;16L": "Gray",
    "I": "Gray (32-bit integer)",
    "F": "Gray (32-bit float)",
}


@contextmanager
def _pillow_errors() -> Iterator[None]:
    """Pillow's many exception types on damaged data as the engine's errors."""
    from PIL import Image, UnidentifiedImageError

    try:
        yield
    except EngineError:
        raise
    except UnidentifiedImageError:
        raise UnsupportedInput("not an image in a supported format") from None
    except Image.DecompressionBombError as error:
        raise TooLarge(str(error)) from None
    except Exception as error:  # Pillow raises many types on damaged data
        raise CorruptInput(f"cannot decode image ({_describe(error)})") from None


def _decode_pillow(image: Image.Image, strip: G4Strip | None) -> embed.ImageXObject:
    """The current frame of ``image`` for the PDF: its G4 strip, or its decoded samples."""
    with _pillow_errors():
        image.load()  # a G4 strip, too, is proved to decode before it is copied
    if strip is not None:
        return embed.from_g4(strip.data, image.width, image.height, strip.black_is_1)
    return embed.from_pillow(image)


def _dpi(image: Image.Image) -> tuple[tuple[float, float], bool]:
    """The image's resolution, and whether it came from the file (else the default)."""
    dpi = image.info.get("dpi")
    if isinstance(dpi, tuple) and len(dpi) == 2:
        try:
            sane = sane_dpi(float(dpi[0]), float(dpi[1]))
        except (TypeError, ValueError):
            sane = None
        if sane is not None:
            return sane, True
    return (DEFAULT_DPI, DEFAULT_DPI), False


def _describe(error: Exception) -> str:
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
