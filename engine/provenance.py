"""Where every output page came from, and which bytes each input was.

An engine call records, for each input it was given, the input's name, size
and SHA-256, and for each output page the input and the input's page it
shows. Pages are kept as *runs* — consecutive output pages taken from
consecutive pages of one input, forwards or backwards — so a 2,000-page merge
of five files is five entries, not 2,000.

The digest is taken from bytes the engine reads anyway where it can (an
image is read whole before it is embedded, and hashed on a helper thread
while it is embedded); a PDF is read by qpdf on its own
terms, so its digest is one sequential pass of its own, in small chunks, over
data the operating system has cached for qpdf's read.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Any

from .inputs import NamedSource, Source, unwrap

_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class InputDigest:
    """One input as the caller gave it: position, name, size in bytes and SHA-256 (hex)."""

    index: int
    name: str
    size: int
    sha256: str

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "name": self.name, "size": self.size, "sha256": self.sha256}


@dataclass(frozen=True)
class PageRun:
    """Output pages ``output_first``… (``count`` of them) from one input's pages.

    The input's pages start at ``input_first`` and go up (``step`` 1) or down
    (``step`` -1); ``member`` names the archive member they came from, for an
    input that is a ZIP. Page numbers are 1-based, ``input`` is 0-based.
    """

    output_first: int
    count: int
    input: int
    input_first: int
    step: int = 1
    member: str | None = None

    @property
    def output_last(self) -> int:
        return self.output_first + self.count - 1

    @property
    def input_last(self) -> int:
        return self.input_first + (self.count - 1) * self.step

    def extends_with(
        self, output_page: int, input_index: int, page: int, member: str | None
    ) -> int:
        """The step (1 or -1) by which this run goes on to ``page``, or 0 if it cannot."""
        if (input_index, member) != (
            self.input,
            self.member,
        ) or output_page != self.output_last + 1:
            return 0
        step = page - self.input_last
        if step not in (1, -1) or (self.count > 1 and step != self.step):
            return 0
        return step

    def to_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "output": [self.output_first, self.output_last],
            "input": self.input,
            "pages": [self.input_first, self.input_last],
        }
        if self.member is not None:
            entry["member"] = self.member
        return entry


@dataclass(frozen=True)
class PageOrigin:
    """Where one output page came from."""

    input: int
    name: str
    page: int
    member: str | None = None


@dataclass
class Provenance:
    """The inputs of one engine call and the runs of output pages they became."""

    inputs: list[InputDigest] = field(default_factory=list)
    runs: list[PageRun] = field(default_factory=list)

    def add_pages(
        self, output_first: int, input_index: int, pages: list[int], member: str | None = None
    ) -> None:
        """Record that output pages ``output_first``… show ``pages`` (1-based) of one input.

        A run is made once it ends, not page by page: a 2,000-page input is one run.
        """
        runs = self.runs
        position, end = 0, len(pages)
        while position < end:
            last = runs[-1] if runs else None
            step = (
                last.extends_with(output_first + position, input_index, pages[position], member)
                if last is not None
                else 0
            )
            if last is not None and step:
                runs.pop()
                run_output, run_input, count = last.output_first, last.input_first, last.count
            else:
                run_output, run_input, count = output_first + position, pages[position], 1
                position += 1
                step = pages[position] - run_input if position < end else 1
                if step not in (1, -1):  # the next page starts a run of its own
                    step = 1
            previous = run_input + (count - 1) * step
            while position < end and pages[position] == previous + step:
                previous += step
                count += 1
                position += 1
            runs.append(PageRun(run_output, count, input_index, run_input, step, member))

    def reorder(self, order: list[int]) -> None:
        """Output page ``i + 1`` becomes the page that was ``order[i] + 1``: the runs again.

        A page no input gave (a padding page) stays in no run.
        """
        origins: dict[int, tuple[int, int, str | None]] = {}
        for run in self.runs:
            for offset in range(run.count):
                page = run.input_first + offset * run.step
                origins[run.output_first + offset] = (run.input, page, run.member)
        self.runs = []
        for position, old in enumerate(order):
            found = origins.get(old + 1)
            if found is not None:
                self.add_pages(position + 1, found[0], [found[1]], found[2])

    def origin(self, output_page: int) -> PageOrigin:
        """Where ``output_page`` (1-based) came from; ``IndexError`` past the last page."""
        for run in self.runs:
            if run.output_first <= output_page <= run.output_last:
                page = run.input_first + (output_page - run.output_first) * run.step
                return PageOrigin(run.input, self.inputs[run.input].name, page, run.member)
        raise IndexError(f"no output page {output_page}")

    def to_json(self) -> dict[str, Any]:
        """``{"inputs": [{index, name, size, sha256}], "pages": [{output, input, pages}]}``.

        Each ``pages`` entry is a run: output pages ``output[0]..output[1]`` are
        the input's pages ``pages[0]..pages[1]`` in order (descending when
        ``pages[0] > pages[1]``), plus ``member`` for a page from a ZIP member.
        """
        return {
            "inputs": [item.to_json() for item in self.inputs],
            "pages": [run.to_json() for run in self.runs],
        }


def digest_bytes(data: bytes | bytearray | memoryview, index: int, name: str) -> InputDigest:
    """The digest of an input already read into memory."""
    import hashlib  # OpenSSL's, several times faster than the built-in; loaded when first hashing

    return InputDigest(index, name, len(data), hashlib.sha256(data).hexdigest())


class ConcurrentDigest:
    """The digest of bytes in memory, taken on a helper thread while the caller goes on.

    hashlib lets go of the interpreter lock while it hashes, so embedding an
    image and hashing it run side by side on two cores. Small inputs are
    hashed at once: a thread costs more than hashing them.
    """

    _INLINE_BELOW = 256 * 1024

    def __init__(self, data: bytes, index: int, name: str) -> None:
        self._digest: InputDigest | None = None
        self._thread: threading.Thread | None = None
        if len(data) < self._INLINE_BELOW:
            self._digest = digest_bytes(data, index, name)
            return
        self._thread = threading.Thread(
            target=self._run, args=(data, index, name), name="pdfbinder-digest", daemon=True
        )
        self._thread.start()

    def _run(self, data: bytes, index: int, name: str) -> None:
        self._digest = digest_bytes(data, index, name)

    def result(self) -> InputDigest:
        """The digest, once the helper thread has it."""
        if self._thread is not None:
            self._thread.join()
        assert self._digest is not None  # the thread always sets it; hashing bytes cannot fail
        return self._digest


def digest_source(source: Source | NamedSource, index: int, name: str) -> InputDigest:
    """The digest of an input read in chunks.

    A stream is hashed from its start, as qpdf reads it, and left at the position it had.
    """
    raw = unwrap(source)
    if isinstance(raw, (bytes, bytearray, memoryview)):
        return digest_bytes(raw, index, name)
    import hashlib

    hasher = hashlib.sha256()
    size = 0
    buffer = bytearray(_CHUNK)
    view = memoryview(buffer)
    if isinstance(raw, (str, os.PathLike)):
        with open(raw, "rb", buffering=0) as handle:
            while count := handle.readinto(view):
                hasher.update(view[:count])
                size += count
    else:
        position = raw.tell()
        raw.seek(0)
        try:
            while chunk := raw.read(_CHUNK):
                hasher.update(chunk)
                size += len(chunk)
        finally:
            raw.seek(position)
    return InputDigest(index, name, size, hasher.hexdigest())
