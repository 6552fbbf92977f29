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
from .tiff import g4_strip

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


def image_frames(data: bytes, *, max_pixels: int, warn: Warn) -> Iterator[Frame]:
    """Every frame of the image in ``data``, each already encoded for the PDF."""
    if data.startswith(b"\xff\xd8\xff"):
        yield from _jpeg_frames(data, max_pixels, warn)
    elif data.startswith(PNG_SIGNATURE):
        yield from _png_frames(data, max_pixels, warn)
    elif data.startswith((JP2_SIGNATURE, J2K_SIGNATURE)):
        width, height = read_jpx_size(data)
        check_pixels(width, height, max_pixels)
        yield Frame(embed.from_jpx(data, width, height), (DEFAULT_DPI, DEFAULT_DPI), 1)
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


def _jpeg_frames(data: bytes, max_pixels: int, warn: Warn) -> Iterator[Frame]:
    """One page per picture: a plain JPEG whole, an MPO file picture by picture."""
    pictures = read_jpeg(data)
    for info, _, _ in pictures:
        check_pixels(info.width, info.height, max_pixels)
    # Pillow is asked only about multi-picture files, for their frame table; a plain
    # JPEG is fully checked by our own marker walk.
    frame_count = _verify_header(data) if pictures[0][0].multi_picture else 1
    if frame_count > len(pictures):
        raise CorruptInput(f"multi-picture JPEG lists {frame_count} pictures but holds fewer")
    if not all(info.baseline_or_progressive for info, _, _ in pictures[:frame_count]):
        # Arithmetic-coded or 12-bit JPEGs are not readable by every PDF viewer.
        yield from _pillow_frames(data, max_pixels, warn)
        return
    for info, start, end in pictures[:frame_count]:
        # A lone picture keeps any trailing bytes: the file goes in exactly as given.
        picture = data if frame_count == 1 else data[start:end]
        dpi = info.dpi or (DEFAULT_DPI, DEFAULT_DPI)
        yield Frame(embed.from_jpeg(picture, info), dpi, _orientation(info.exif.orientation, warn))


def _png_frames(data: bytes, max_pixels: int, warn: Warn) -> Iterator[Frame]:
    """A PNG from our own chunk parse alone; only an animated one goes to Pillow."""
    info = read_png(data)
    check_pixels(info.width, info.height, max_pixels)
    if info.animated:
        yield from _pillow_frames(data, max_pixels, warn)
        return
    if not info.interlaced:
        check_stream_start(info)
    orientation = _orientation(info.exif.orientation, warn)
    yield Frame(embed.from_png(info), info.dpi or (DEFAULT_DPI, DEFAULT_DPI), orientation)


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


def _pillow_frames(data: bytes, max_pixels: int, warn: Warn) -> Iterator[Frame]:
    """Frames decoded by Pillow; any Pillow failure on damaged data becomes CorruptInput."""
    from PIL import Image, TiffImagePlugin, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            orientation = _orientation(image.getexif().get(_EXIF_ORIENTATION), warn)
            if isinstance(image, TiffImagePlugin.TiffImageFile):
                check_pixels(image.width, image.height, max_pixels)
                strip = g4_strip(image, data)
                if strip is not None:
                    image.load()  # proves the strip decodes before it is copied
                    yield Frame(
                        embed.from_g4(strip.data, image.width, image.height, strip.black_is_1),
                        _dpi(image),
                        orientation,
                    )
                    return
            for index in range(getattr(image, "n_frames", 1)):
                image.seek(index)
                check_pixels(image.width, image.height, max_pixels)
                image.load()
                yield Frame(embed.from_pillow(image), _dpi(image), orientation)
    except EngineError:
        raise
    except UnidentifiedImageError:
        raise UnsupportedInput("not an image in a supported format") from None
    except Image.DecompressionBombError as error:
        raise TooLarge(str(error)) from None
    except Exception as error:  # Pillow raises many types on damaged data
        raise CorruptInput(f"cannot decode image ({_describe(error)})") from None


def _dpi(image: Image.Image) -> tuple[float, float]:
    dpi = image.info.get("dpi")
    if isinstance(dpi, tuple) and len(dpi) == 2:
        try:
            sane = sane_dpi(float(dpi[0]), float(dpi[1]))
        except (TypeError, ValueError):
            sane = None
        if sane is not None:
            return sane
    return (DEFAULT_DPI, DEFAULT_DPI)


def _describe(error: Exception) -> str:
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
