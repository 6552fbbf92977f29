"""What the engine accepts as an input, and how it names one in errors.

An input is a path, raw bytes or a readable binary file object. Callers that
know a better display name than the path (the HTTP facade knows the uploaded
file name) wrap it in :class:`NamedSource`.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO, Union

Source = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, BinaryIO]

_READ_BUFFER = 64 * 1024
"""An input file's read buffer, given so that opening it asks nothing of the terminal or
the file system (without it, each open costs an ``isatty`` and an ``fstat``)."""


@dataclass(frozen=True)
class NamedSource:
    """A source together with the name to use for it in errors and reports."""

    source: Source
    name: str


def display_name(source: Source | NamedSource) -> str:
    """The name an error message should use for ``source``."""
    if isinstance(source, NamedSource):
        return source.name
    if isinstance(source, (str, os.PathLike)):
        return os.path.basename(os.fspath(source)) or os.fspath(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return "<bytes>"
    name = getattr(source, "name", None)
    if isinstance(name, str) and name:
        return os.path.basename(name)
    return "<stream>"


def input_label(index: int, name: str | None) -> str:
    """How errors and reports name the input at 0-based ``index``: ``input 3 (scan.tif)``."""
    return f"input {index + 1} ({name})" if name else f"input {index + 1}"


def unwrap(source: Source | NamedSource) -> Source:
    """The raw source behind an optional :class:`NamedSource`."""
    return source.source if isinstance(source, NamedSource) else source


@contextmanager
def open_binary(source: Source | NamedSource) -> Iterator[BinaryIO]:
    """Open ``source`` as a seekable binary stream; close it only if we opened it."""
    raw = unwrap(source)
    if isinstance(raw, (str, os.PathLike)):
        with open(raw, "rb", buffering=_READ_BUFFER) as handle:
            yield handle
    elif isinstance(raw, (bytes, bytearray, memoryview)):
        yield io.BytesIO(bytes(raw))
    else:
        yield raw


def read_whole(source: Source | NamedSource) -> bytes:
    """All bytes of ``source`` (a stream from its start, left where it was)."""
    raw = unwrap(source)
    if isinstance(raw, (str, os.PathLike)):
        with open(raw, "rb", buffering=_READ_BUFFER) as handle:
            return handle.read()
    if isinstance(raw, (bytes, bytearray, memoryview)):
        return bytes(raw)
    position = raw.tell()
    try:
        raw.seek(0)
        return raw.read()
    finally:
        raw.seek(position)
