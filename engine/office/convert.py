"""One document → PDF as merge needs it: limits first, then LibreOffice; errors name the input."""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from ..errors import CorruptInput, EngineError, TooLarge, UnsupportedInput
from ..inputs import NamedSource, Source, open_binary
from ..merge.archives import ArchiveLimits, check_member_count, check_member_size
from .detect import DocumentType
from .pool import OfficePool

_COPY_CHUNK = 1024**2
_UNSAFE = re.compile(r"[^\w.\- ]+")


@contextmanager
def document_to_pdf(
    office: OfficePool,
    source: Source | NamedSource,
    document: DocumentType,
    *,
    index: int,
    name: str,
    password: str | None,
    limits: ArchiveLimits,
) -> Iterator[str]:
    """The path of ``source`` converted to PDF, valid inside the ``with`` block.

    Before LibreOffice sees it, the document must fit ``limits``: its bytes,
    and for the ZIP-based formats (DOCX, ODT, ...) the declared size and
    compression ratio of every part, as for any archive.
    """
    if not document.supported:
        raise UnsupportedInput(
            f"is {document.label}, a kind of document merge does not convert",
            index=index,
            name=name,
        )
    with ExitStack() as stack:
        try:
            folder = stack.enter_context(office.workspace())
            # The file keeps its own name: LibreOffice prints it in some places (a CSV
            # sheet's header shows the sheet, which is named after the file).
            stem = _UNSAFE.sub("_", os.path.splitext(os.path.basename(name))[0])[:100]
            input_path = os.path.join(folder, f"{stem or 'document'}.{document.extension}")
            output_path = os.path.join(folder, "converted.pdf")
            _copy_within(source, input_path, limits.max_total_bytes)
            if document.zipped:
                _check_parts(input_path, limits, index=index, name=name)
            office.convert(
                input_path,
                output_path,
                import_filter=document.import_filter,
                filter_options=document.filter_options,
                password=password,
            )
        except EngineError as error:
            if error.index is None and error.name is None:
                raise type(error)(error.reason, index=index, name=name) from error
            raise
        yield output_path


def _copy_within(source: Source | NamedSource, path: str, max_bytes: int) -> None:
    """Copy ``source`` to ``path``, refusing it once it passes ``max_bytes``."""
    written = 0
    with open_binary(source) as handle, open(path, "wb") as copy:
        position = handle.tell()
        try:
            while chunk := handle.read(_COPY_CHUNK):
                written += len(chunk)
                if written > max_bytes:
                    raise TooLarge(f"is larger than the {max_bytes} byte limit")
                copy.write(chunk)
        finally:
            handle.seek(position)


def _check_parts(path: str, limits: ArchiveLimits, *, index: int, name: str) -> None:
    """The ZIP limits on a document that is a ZIP underneath (a bomb dressed as a DOCX)."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        kind = os.path.splitext(path)[1].lstrip(".").upper()
        raise CorruptInput(
            f"is damaged: not a readable {kind} file ({error})", index=index, name=name
        ) from error
    with archive:
        parts = archive.infolist()
        check_member_count(len(parts), limits, index=index, name=name)
        total = 0
        for part in parts:
            total = check_member_size(part, total, limits, index=index, name=name)
