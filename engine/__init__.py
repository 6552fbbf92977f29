"""pdfbinder's engine: images → PDF and PDF merge, losslessly, in bounded memory.

Pure functions over paths, bytes and binary streams. Nothing here knows about
HTTP, jobs, URLs or storage; every deliberate failure is an
:class:`~pdfbinder.engine.errors.EngineError`.
"""

from .errors import (
    CorruptInput,
    EngineError,
    InvalidOption,
    PasswordRequired,
    TooLarge,
    UnsupportedInput,
    WrongPassword,
)
from .images.convert import images_to_pdf
from .inputs import NamedSource, Source
from .merge.merge import MergeReport, PdfInput, merge_any, merge_pdfs
from .report import ProgressCallback, Report

__all__ = [
    "CorruptInput",
    "EngineError",
    "InvalidOption",
    "MergeReport",
    "NamedSource",
    "PasswordRequired",
    "PdfInput",
    "ProgressCallback",
    "Report",
    "Source",
    "TooLarge",
    "UnsupportedInput",
    "WrongPassword",
    "images_to_pdf",
    "merge_any",
    "merge_pdfs",
]
