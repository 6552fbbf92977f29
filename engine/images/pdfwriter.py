"""A small streaming PDF object writer.

pikepdf keeps a whole document in memory until ``save()``; for image→PDF that
means the sum of all inputs. This writer instead emits each object the moment
it is produced and remembers only its byte offset, so memory stays near the
largest single object. Offsets are counted here rather than asked of the
stream, so non-seekable outputs (a pipe, stdout) work too.

Layout of every file: header, objects in any order, a classic cross-reference
table, and a trailer with ``/Root``, ``/Info`` and ``/ID``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO, Union

if TYPE_CHECKING:
    import hashlib

PdfValue = Union[
    None,
    bool,
    int,
    float,
    str,
    bytes,
    "Name",
    "Ref",
    Sequence["PdfValue"],
    Mapping[str, "PdfValue"],
]
StreamData = bytes | memoryview | Sequence[bytes | memoryview]
"""A stream's encoded data: one buffer, or consecutive parts written one after another."""


@dataclass(frozen=True)
class Name:
    """A PDF name such as ``/DeviceRGB`` (stored without the slash)."""

    value: str


@dataclass(frozen=True)
class Ref:
    """An indirect reference ``N 0 R``."""

    number: int


_NAME_SAFE = frozenset(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-_.*:;,!?@$&'\"|~^`="
)


_NAME_SAFE_BYTES = bytes(sorted(_NAME_SAFE))


def _name(value: str) -> bytes:
    raw = value.encode("utf-8")
    if raw.translate(None, _NAME_SAFE_BYTES):  # what is left needs escaping; seldom
        raw = b"".join(bytes([c]) if c in _NAME_SAFE else b"#%02X" % c for c in raw)
    return b"/" + raw


def _number(value: float) -> bytes:
    if isinstance(value, int) or float(value).is_integer():
        return b"%d" % int(value)
    # Six decimals is well below a device pixel at any realistic page size.
    return (b"%.6f" % value).rstrip(b"0").rstrip(b".")


def text_string(value: str) -> bytes:
    """A PDF text string: literal for ASCII, UTF-16BE with BOM otherwise."""
    if value.isascii():
        escaped = value.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        escaped = escaped.replace("\r", "\\r").replace("\n", "\\n")
        return b"(" + escaped.encode("ascii") + b")"
    return b"<FEFF" + value.encode("utf-16-be").hex().upper().encode("ascii") + b">"


def serialize(value: PdfValue) -> bytes:
    """PDF syntax for a Python value (str → text string, bytes → hex string)."""
    if value is None:
        return b"null"
    if isinstance(value, bool):
        return b"true" if value else b"false"
    if isinstance(value, (int, float)):
        return _number(value)
    if isinstance(value, Name):
        return _name(value.value)
    if isinstance(value, Ref):
        return b"%d 0 R" % value.number
    if isinstance(value, str):
        return text_string(value)
    if isinstance(value, bytes):
        return b"<" + value.hex().encode("ascii") + b">"
    if isinstance(value, Mapping):
        items = b"".join(_name(key) + b" " + serialize(item) + b" " for key, item in value.items())
        return b"<< " + items + b">>"
    return b"[" + b" ".join(serialize(item) for item in value) + b"]"


def _content_hash() -> hashlib._Hash:
    import hashlib  # loaded only for deterministic output: loading OpenSSL is most of its cost

    return hashlib.md5(usedforsecurity=False)


class PdfStreamWriter:
    """Writes one PDF file object by object to a binary stream.

    Call :meth:`reserve` for objects that must be referenced before they are
    written (the page tree), :meth:`write_object` / :meth:`write_stream` as
    content is produced, and :meth:`finish` once. With ``deterministic`` the
    file identifier is a hash of everything written, so identical inputs give
    identical bytes; otherwise it is random, as the spec intends.
    """

    def __init__(self, output: BinaryIO, *, deterministic: bool = False) -> None:
        self._output = output
        self._position = 0
        self._offsets: dict[int, int] = {}
        self._next_number = 1
        self._hash = _content_hash() if deterministic else None
        self._written_once: dict[bytes, Ref] = {}
        # Version 1.7: 16-bit samples and JPXDecode need 1.5, SMask 1.4.
        self._emit(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")

    def _emit(self, data: bytes | memoryview) -> None:
        self._output.write(data)
        self._position += len(data)
        if self._hash is not None:
            self._hash.update(data)

    def reserve(self) -> int:
        """Allocate an object number to write later."""
        number = self._next_number
        self._next_number += 1
        return number

    def write_object(self, value: PdfValue, number: int | None = None) -> Ref:
        """Write a non-stream object now; return its reference."""
        number = self.reserve() if number is None else number
        self._start(number)
        self._emit(serialize(value) + b"\nendobj\n")
        return Ref(number)

    def write_stream(
        self,
        dictionary: Mapping[str, PdfValue],
        data: StreamData,
        number: int | None = None,
    ) -> Ref:
        """Write a stream object whose (already encoded) data is ``data``.

        Data given in parts (a PNG's IDAT chunks) is written part by part, never joined.
        """
        number = self.reserve() if number is None else number
        self._start(number)
        parts = (data,) if isinstance(data, (bytes, memoryview)) else data
        header = dict(dictionary)
        header["Length"] = sum(len(part) for part in parts)
        self._emit(serialize(header) + b"\nstream\n")
        for part in parts:
            self._emit(part)
        self._emit(b"\nendstream\nendobj\n")
        return Ref(number)

    def write_once(self, key: bytes, write: Callable[[], Ref]) -> Ref:
        """The object ``write`` wrote for ``key``: written at the first call, referenced after.

        For objects many pages share (an ICC profile every photo carries), so the
        file holds one copy.
        """
        found = self._written_once.get(key)
        if found is None:
            found = self._written_once[key] = write()
        return found

    def _start(self, number: int) -> None:
        if number in self._offsets or not 0 < number < self._next_number:
            raise ValueError(f"object {number} was not reserved or is written twice")
        self._offsets[number] = self._position
        self._emit(b"%d 0 obj\n" % number)

    def finish(self, root: Ref, info: Ref | None) -> None:
        """Write the cross-reference table and trailer; every reserved object must exist."""
        count = self._next_number
        missing = [n for n in range(1, count) if n not in self._offsets]
        if missing:
            raise ValueError(f"objects reserved but never written: {missing}")
        xref_offset = self._position
        rows = [b"xref\n0 %d\n0000000000 65535 f \n" % count]
        rows.extend(b"%010d 00000 n \n" % self._offsets[n] for n in range(1, count))
        self._emit(b"".join(rows))
        file_id = self._hash.digest() if self._hash is not None else os.urandom(16)
        trailer: dict[str, PdfValue] = {"Size": count, "Root": root, "ID": [file_id, file_id]}
        if info is not None:
            trailer["Info"] = info
        self._emit(b"trailer\n" + serialize(trailer) + b"\nstartxref\n%d\n%%%%EOF\n" % xref_offset)
