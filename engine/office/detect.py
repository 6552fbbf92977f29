"""Which Office or text document an input is, from its content first and its name second.

Word, Excel and PowerPoint files of both generations, OpenDocument files,
RTF, plain text and CSV are converted. They are recognised so:

* a ZIP holding ``[Content_Types].xml`` is Office Open XML; the content
  types say whether it is a Word, Excel or PowerPoint file;
* a ZIP holding a ``mimetype`` member is OpenDocument; the member names the kind;
* an OLE2 compound file (the ``D0 CF 11 E0`` signature) is a Word 97, Excel 97
  or PowerPoint 97 file, or an encrypted Office Open XML one: LibreOffice
  tells these apart itself, and asks for the password of the encrypted ones;
* ``{\\rtf`` opens an RTF file;
* plain text and CSV have no signature, so they are recognised by their
  name (``.txt``, ``.csv``) and taken only when the content is text.

A file is handed to LibreOffice under the extension of what it is, so that
LibreOffice's own type detection agrees; text and CSV also get the import
filter and its options spelled out (the character set found here, comma
separated, formulas not evaluated), since there is nothing else to detect
them by.
"""

from __future__ import annotations

import codecs
import os
from dataclasses import dataclass

from ..inputs import NamedSource, Source, open_binary

OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
RTF_SIGNATURE = b"{\\rtf"
_CONTENT_TYPES = "[Content_Types].xml"
_ODF_MIMETYPE = "mimetype"
_MARKERS_READ = 256 * 1024
_TEXT_PROBE = 1024 * 1024

_OOXML_FAMILIES: tuple[tuple[tuple[bytes, ...], str, frozenset[str]], ...] = (
    ((b"wordprocessingml", b"ms-word."), "docx", frozenset({"docx", "docm", "dotx", "dotm"})),
    ((b"spreadsheetml", b"ms-excel."), "xlsx", frozenset({"xlsx", "xlsm", "xltx", "xltm"})),
    ((b"presentationml", b"ms-powerpoint."), "pptx", frozenset({"pptx", "pptm", "ppsx", "potx"})),
)
_ODF_KINDS = {
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.text-template": "ott",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.oasis.opendocument.spreadsheet-template": "ots",
    "application/vnd.oasis.opendocument.presentation": "odp",
    "application/vnd.oasis.opendocument.presentation-template": "otp",
}
_ZIPPED_EXTENSIONS = frozenset(
    {extension for _, _, variants in _OOXML_FAMILIES for extension in variants}
    | set(_ODF_KINDS.values())
)
_OLE2_EXTENSIONS = frozenset({"doc", "dot", "xls", "xlt", "ppt", "pps", "docx", "xlsx", "pptx"})

# LibreOffice's character set names (text filter) and numbers (CSV filter).
_TEXT_CHARSETS = {"utf-8": ("UTF8", 76), "utf-16": ("UNICODE", 65535), "cp1252": ("MS_1252", 1)}
_CSV_FILTER = "Text - txt - csv (StarCalc)"
_TEXT_FILTER = "Text (encoded)"

DOCUMENT_EXTENSIONS: tuple[str, ...] = tuple(
    "doc docx odt rtf txt xls xlsx ods csv ppt pptx odp".split()  # noqa: SIM905
)
"""The kinds of document merge converts (and their template and macro variants)."""


@dataclass(frozen=True)
class DocumentType:
    """How to hand one input to LibreOffice.

    ``extension`` is what the file is (``docx``, ``ods``, ...). ``import_filter``
    and ``filter_options`` are set only where LibreOffice has nothing to detect
    the type by (text, CSV). ``supported`` is false for an Office container
    of a kind merge does not convert (``label`` says which). ``zipped``: the
    format is a ZIP archive underneath (DOCX, ODT, ...).
    """

    extension: str
    import_filter: str | None = None
    filter_options: str | None = None
    supported: bool = True
    label: str = ""
    zipped: bool = False


def document_type(source: Source | NamedSource, head: bytes, name: str) -> DocumentType | None:
    """What Office or text document ``source`` is (``head``: its first kilobyte), or ``None``."""
    extension = os.path.splitext(name)[1].lower().lstrip(".")
    if head.startswith(b"PK\x03\x04"):
        return _zip_document(source, extension)
    if head.startswith(OLE2_SIGNATURE):
        return DocumentType(extension if extension in _OLE2_EXTENSIONS else "doc")
    if head.lstrip(b"\xef\xbb\xbf").startswith(RTF_SIGNATURE):
        return DocumentType("rtf")
    if extension in ("txt", "csv"):
        return _text_document(source, head, extension)
    return None


def _zip_document(source: Source | NamedSource, extension: str) -> DocumentType | None:
    """An Office Open XML or OpenDocument file, or ``None`` for a plain archive."""
    import zipfile  # here: a merge of PDFs alone never needs it, and it costs start-up time

    with open_binary(source) as handle:
        position = handle.tell()
        try:
            with zipfile.ZipFile(handle) as archive:
                names = set(archive.namelist())
                if _ODF_MIMETYPE in names:
                    with archive.open(_ODF_MIMETYPE) as member:
                        mimetype = member.read(200).decode("ascii", "replace").strip()
                    kind = _ODF_KINDS.get(mimetype)
                    if kind is None:
                        label = mimetype or "an unknown OpenDocument kind"
                        return DocumentType("odf", supported=False, label=label, zipped=True)
                    return DocumentType(kind, zipped=True)
                if _CONTENT_TYPES in names:
                    with archive.open(_CONTENT_TYPES) as member:
                        types = member.read(_MARKERS_READ).lower()
                    for markers, default, variants in _OOXML_FAMILIES:
                        if any(marker in types for marker in markers):
                            chosen = extension if extension in variants else default
                            return DocumentType(chosen, zipped=True)
                    if extension in _ZIPPED_EXTENSIONS:  # damaged content types: LibreOffice says
                        return DocumentType(extension, zipped=True)
                    label = "an Office Open XML file of another kind"
                    return DocumentType("ooxml", supported=False, label=label, zipped=True)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
            # Unreadable as a ZIP: a damaged document when its name says it is one (the
            # conversion then says so), else a damaged archive (the archive reader says so).
            if extension in _ZIPPED_EXTENSIONS:
                return DocumentType(extension, zipped=True)
            return None
        finally:
            handle.seek(position)
    return None


def _text_document(
    source: Source | NamedSource, head: bytes, extension: str
) -> DocumentType | None:
    """A ``.txt`` or ``.csv`` file whose content is text, with its character set."""
    charset = _text_charset(source, head)
    if charset is None:
        return None
    name, number = _TEXT_CHARSETS[charset]
    if extension == "csv":
        # separator, quote, charset, first line, column formats, language, quoted as text,
        # detect special numbers, (export only x3), ..., evaluate formulas: no.
        options = f"44,34,{number},1,,0,false,true,false,false,false,,false"
        return DocumentType("csv", _CSV_FILTER, options)
    return DocumentType("txt", _TEXT_FILTER, f"{name},LF,,,")


def _text_charset(source: Source | NamedSource, head: bytes) -> str | None:
    """``utf-8``, ``utf-16`` or ``cp1252`` for text; ``None`` for binary content."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in head:
        return None
    decoder = codecs.getincrementaldecoder("utf-8")()
    with open_binary(source) as handle:
        position = handle.tell()
        try:
            while chunk := handle.read(_TEXT_PROBE):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    return "cp1252"
        finally:
            handle.seek(position)
    return "utf-8"
