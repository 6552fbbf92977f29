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

import contextlib
import io
import os
from dataclasses import dataclass, field
from typing import BinaryIO

import pikepdf

from ..errors import CorruptInput, PasswordRequired, UnsupportedInput, WrongPassword
from ..inputs import NamedSource, Source, display_name, unwrap
from ..library_warnings import capture_library_warnings, distinct
from .archives import kind_of
from .saslprep import saslprep

_NOTES = {
    "A password was provided, but no password was needed to open this PDF.": (
        "is not encrypted; the password given was not needed"
    ),
}
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
    notes: list[str] = field(default_factory=list)
    """What else the libraries said on opening it (e.g. a password that was not needed)."""


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
        with capture_library_warnings() as library:
            pdf = _open_with_password(source, password)
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
    repairs = [qpdf_message(pdf, w) for w in pdf.get_warnings()]
    if headerless:
        repairs.insert(0, "no %PDF- header; recovered the document from its objects")
    notes = [_NOTES.get(message, message) for message in distinct(library)]
    return OpenedPdf(pdf=pdf, name=name, repairs=repairs, notes=notes)


def _open_with_password(source: Source | NamedSource, password: str | None) -> pikepdf.Pdf:
    """Open with ``password`` as given, then as SASLprep makes it (what AES-256 writers use)."""
    candidates = [password or ""]
    if password:
        with contextlib.suppress(ValueError):  # SASLprep refuses it: only the given form
            prepared = saslprep(password)
            if prepared != password:
                candidates.append(prepared)
    for attempt, candidate in enumerate(candidates, start=1):
        target = _pikepdf_source(source)
        position = 0 if isinstance(target, str) else target.tell()
        try:
            return pikepdf.open(target, password=candidate, inherit_page_attributes=True)
        except pikepdf.PasswordError:
            if attempt == len(candidates):
                raise
            if not isinstance(target, str):
                target.seek(position)
    raise AssertionError("unreachable: the last attempt returns or raises")


def qpdf_message(pdf: pikepdf.Pdf, message: object) -> str:
    """One line of a qpdf message about ``pdf``, without the file path qpdf puts in it
    (a server's temporary path means nothing to its client)."""
    text = _first_line(message)
    if pdf.filename:
        text = " ".join(text.replace(pdf.filename, "").split()).lstrip(":, ")
    return text or _first_line(message)


def _first_line(error: object) -> str:
    """qpdf messages can span lines; errors and warnings must stay one line."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
