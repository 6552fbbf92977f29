"""A small PNG of an input's first page, and how many pages the input makes.

PDF pages are rendered by PDFium (pypdfium2); images are scaled down by
Pillow after the same pixel-limit check the converter makes, with their EXIF
orientation applied as a viewer shows them. The preview is bounded by
``max_side`` pixels on its longer side whatever the page size, so a poster-sized
page costs no more than a letter-sized one.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import CorruptInput, EngineError, PasswordRequired, TooLarge, WrongPassword
from .images import DEFAULT_MAX_PIXELS
from .images.heif import heif_kind, require_decoder
from .images.images import check_pixels
from .inputs import NamedSource, Source, display_name, open_binary
from .merge.pdfopen import head_bytes, looks_like_pdf

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

_PDFIUM_PASSWORD_ERROR = 4
"""FPDF_ERR_PASSWORD: the document is encrypted and the password does not open it."""
_MAX_SCALE = 4.0
"""Tiny pages (a business card) are enlarged at most this much."""

# PDFium is not thread-safe: one render at a time in this process.
_pdfium_lock = threading.Lock()


@dataclass(frozen=True)
class Preview:
    """The first page as PNG bytes, and the number of pages the input stands for."""

    png: bytes
    page_count: int
    width: int
    height: int


def first_page_preview(
    source: Source | NamedSource,
    *,
    max_side: int,
    password: str | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> Preview:
    """A PNG of the first page of a PDF or image, at most ``max_side`` pixels wide and high.

    Raises :class:`~pdfbinder.engine.errors.EngineError` subclasses naming the
    input: damaged or unsupported data, a missing or wrong PDF password, an
    image over ``max_pixels``.
    """
    name = display_name(source)
    head = head_bytes(source)
    if looks_like_pdf(head):
        return _pdf_preview(source, name, max_side, password)
    kind = heif_kind(head)
    if kind is not None:
        try:
            require_decoder(kind)
        except EngineError as error:
            raise type(error)(error.reason, name=name) from None
    return _image_preview(source, name, max_side, max_pixels)


def _pdf_preview(
    source: Source | NamedSource, name: str, max_side: int, password: str | None
) -> Preview:
    import pypdfium2 as pdfium  # loaded only when a PDF is previewed

    with open_binary(source) as stream, _pdfium_lock:
        try:
            document = pdfium.PdfDocument(stream, password=password)
        except pdfium.PdfiumError as error:
            if error.err_code == _PDFIUM_PASSWORD_ERROR:
                if password:
                    raise WrongPassword("the password does not open this PDF", name=name) from None
                raise PasswordRequired(
                    "this PDF is encrypted: give its password", name=name
                ) from None
            raise CorruptInput("damaged or not a PDF: it cannot be opened", name=name) from None
        try:
            page_count = len(document)
            if page_count == 0:
                raise CorruptInput("this PDF has no pages", name=name)
            page = document[0]
            try:
                width, height = page.get_size()
                longest = max(width, height, 1.0)
                scale = min(max_side / longest, _MAX_SCALE)
                bitmap = page.render(scale=scale, may_draw_forms=True)
                image = bitmap.to_pil()
            except pdfium.PdfiumError:
                raise CorruptInput("page 1 cannot be rendered", name=name) from None
            finally:
                page.close()
        finally:
            document.close()
    return _png(image, page_count)


def _image_preview(
    source: Source | NamedSource, name: str, max_side: int, max_pixels: int
) -> Preview:
    from PIL import Image, ImageOps, UnidentifiedImageError

    with open_binary(source) as stream:
        try:
            with Image.open(stream) as image:
                try:
                    check_pixels(image.width, image.height, max_pixels)
                except TooLarge as error:
                    raise TooLarge(error.reason, name=name) from None
                page_count = getattr(image, "n_frames", 1)
                image.draft("RGB", (max_side, max_side))  # JPEG: decode at a fraction
                upright = ImageOps.exif_transpose(image)
                upright.thumbnail((max_side, max_side))
                return _png(upright, page_count)
        except EngineError:
            raise
        except UnidentifiedImageError:
            raise CorruptInput("not a PDF nor an image in a supported format", name=name) from None
        except Image.DecompressionBombError as error:
            raise TooLarge(str(error), name=name) from None
        except Exception as error:  # Pillow raises many types on damaged data
            raise CorruptInput(f"cannot decode image ({type(error).__name__})", name=name) from None


def _png(image: PILImage, page_count: int) -> Preview:
    if image.mode not in {"RGB", "RGBA", "L", "LA"}:
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return Preview(buffer.getvalue(), page_count, image.width, image.height)
