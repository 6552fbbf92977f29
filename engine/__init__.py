"""pdfbinder's engine: images → PDF and PDF merge, losslessly, in bounded memory.

Pure functions over paths, bytes and binary streams. Nothing here knows about
HTTP, jobs, URLs or storage; every deliberate failure is an
:class:`~pdfbinder.engine.errors.EngineError`.

The two halves load on first use: converting images never imports pikepdf or
the merge modules, and merging PDFs never imports the image path, so a
command-line run pays only for the half it uses.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .errors import (
    CorruptInput,
    EngineError,
    InvalidOption,
    PasswordRequired,
    TooLarge,
    UnsupportedInput,
    WrongPassword,
)
from .inputs import NamedSource, Source
from .report import ProgressCallback, Report

__version__ = "0.1.0"
"""pdfbinder's version: the one place it is written (the package metadata is built from it)."""

if TYPE_CHECKING:
    from .images.convert import images_to_pdf
    from .merge.merge import MergeReport, PdfInput, merge_any, merge_pdfs
    from .preflight import Preflight, inspect_inputs

_LAZY = {
    "images_to_pdf": ".images.convert",
    "MergeReport": ".merge.merge",
    "PdfInput": ".merge.merge",
    "merge_any": ".merge.merge",
    "merge_pdfs": ".merge.merge",
    "Preflight": ".preflight",
    "inspect_inputs": ".preflight",
}

__all__ = [
    "CorruptInput",
    "EngineError",
    "InvalidOption",
    "MergeReport",
    "NamedSource",
    "PasswordRequired",
    "PdfInput",
    "Preflight",
    "ProgressCallback",
    "Report",
    "Source",
    "TooLarge",
    "UnsupportedInput",
    "WrongPassword",
    "images_to_pdf",
    "inspect_inputs",
    "merge_any",
    "merge_pdfs",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value
