"""Opening one input PDF: content sniffing, passwords and qpdf's repairs as errors and warnings.

A PDF is recognised by its content, never by its file name: an input whose
first kilobyte is an image, archive or Office signature is refused by name
instead of surfacing as a cryptic parser failure. A file without a ``%PDF-``
header is still given to qpdf's recovery (damaged PDFs lose their header too)
and refused as "not a PDF" only when that fails. qpdf repairs
damaged cross-reference tables on open; what it had to repair is returned so
the merge can report it instead of silently hiding it. qpdf also pushes the
attributes a page inherits from the page tree (/Resources, /MediaBox,
/CropBox, /Rotate) down onto every page on open, in C++, so pages copied
without their /Parent chain keep them.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from typing import BinaryIO

import pikepdf

from ..errors import CorruptInput, PasswordRequired, UnsupportedInput, WrongPassword
from ..inputs import NamedSource, Source, display_name, unwrap
from .archives import kind_of

_KIND_NAMES = {
    "image": "an image",
    "zip": "a ZIP archive",
    "office": "an Office document",
    "pdf": "a PDF",
}
PDF_HEADER_WINDOW = 1024
"""Readers accept a PDF header preceded by junk within the first kilobyte."""


@dataclass
class OpenedPdf:
    """An open input document with the facts the merge needs to report about it."""

    pdf: pikepdf.Pdf
    name: str
    repairs: list[str] = field(default_factory=list)


def head_bytes(source: Source | NamedSource, size: int = PDF_HEADER_WINDOW) -> bytes:
    """The first ``size`` bytes of ``source``, leaving a stream's position unchanged."""
    raw = unwrap(source)
    if isinstance(raw, (str, os.PathLike)):
        # A bare descriptor: a buffered file object costs several times this small read.
        descriptor = os.open(raw, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        try:
            return os.read(descriptor, size)
        finally:
            os.close(descriptor)
    if isinstance(raw, (bytes, bytearray, memoryview)):
        return bytes(raw[:size])
    position = raw.tell()
    try:
        return raw.read(size)
    finally:
        raw.seek(position)


def looks_like_pdf(head: bytes) -> bool:
    """Whether ``head`` (a file's first kilobyte) carries a PDF header."""
    return b"%PDF-" in head


def _pikepdf_source(source: Source | NamedSource) -> str | BinaryIO:
    raw = unwrap(source)
    if isinstance(raw, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(raw))
    if isinstance(raw, os.PathLike):
        return os.fspath(raw)
    return raw


def open_pdf(source: Source | NamedSource, *, index: int, password: str | None) -> OpenedPdf:
    """Open ``source`` as a PDF or raise the :class:`EngineError` that says why not."""
    name = display_name(source)
    try:
        head = head_bytes(source)
    except OSError as error:
        raise UnsupportedInput(
            f"cannot be read: {error.strerror or error}", index=index, name=name
        ) from error
    if not head:
        raise UnsupportedInput("is empty", index=index, name=name)
    headerless = not looks_like_pdf(head)
    if headerless and kind_of(head) != "unknown":
        raise UnsupportedInput(
            f"is not a PDF (it is {_KIND_NAMES[kind_of(head)]})", index=index, name=name
        )
    try:
        pdf = pikepdf.open(
            _pikepdf_source(source), password=password or "", inherit_page_attributes=True
        )
    except pikepdf.PasswordError as error:
        if password is None:
            raise PasswordRequired(
                "is encrypted; a password is required", index=index, name=name
            ) from error
        raise WrongPassword(
            "is encrypted and the password given does not open it", index=index, name=name
        ) from error
    except (pikepdf.PdfError, RuntimeError, OSError, ValueError) as error:
        if headerless:
            raise UnsupportedInput(
                "is not a PDF (no %PDF- header)", index=index, name=name
            ) from error
        raise CorruptInput(
            f"is damaged beyond repair ({_first_line(error)})", index=index, name=name
        ) from error
    repairs = [_first_line(w) for w in pdf.get_warnings()]
    if headerless:
        repairs.insert(0, "no %PDF- header; recovered the document from its objects")
    return OpenedPdf(pdf=pdf, name=name, repairs=repairs)


def _first_line(error: object) -> str:
    """qpdf messages can span lines; errors and warnings must stay one line."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
