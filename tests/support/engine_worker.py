"""The engine entry points run in a child process, under a deadline and a memory cap.

Fuzzed inputs can make native code (Pillow's decoders, qpdf) hang, crash the
interpreter or allocate without bound; none of that may take the test run
down with it. So every call goes to a long-lived worker process over a pipe:
a hang is a missed deadline (the worker is killed and replaced), a segfault
is a worker that died, and a runaway allocation hits ``RLIMIT_AS`` in the
worker, not in pytest. What the call did is reported as an :class:`Outcome`
for the test to judge; the worker never judges anything itself.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Literal

from pdfbinder.engine import EngineError, images_to_pdf, merge_any, merge_pdfs

Operation = Literal["images_to_pdf", "merge_pdfs", "merge_any"]
Verdict = Literal["pdf", "engine-error", "crash", "died", "hang"]

DEADLINE_SECONDS = float(os.environ.get("PDFBINDER_FUZZ_DEADLINE", "30"))
"""Longest one call may take: generous, the slowest legitimate example takes ~1 s."""

MEMORY_CAP_BYTES = 4 * 1024**3
"""Address-space cap of the worker: far above any legitimate example (they are tiny)."""

_OPERATIONS: dict[str, Callable[..., Any]] = {
    "images_to_pdf": lambda inputs, output: images_to_pdf(inputs, output, deterministic=True),
    "merge_pdfs": merge_pdfs,
    "merge_any": merge_any,
}


@dataclass(frozen=True)
class Outcome:
    """What one engine call did: a PDF (with its reported page count) or an error.

    ``error_type`` is the exception's class name, ``detail`` its message (or
    the traceback, for anything that is not an :class:`EngineError`);
    ``error_bases`` lists the class's ancestors so the parent can check the
    family without unpickling exceptions.
    """

    verdict: Verdict
    page_count: int = 0
    error_type: str = ""
    error_bases: tuple[str, ...] = ()
    detail: str = ""


def _serve(connection: Connection) -> None:
    """Worker loop: run each requested call, answer with an :class:`Outcome`."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP_BYTES, MEMORY_CAP_BYTES))
    while True:
        request = connection.recv()
        if request is None:
            return
        operation, inputs, output = request
        try:
            report = _OPERATIONS[operation](inputs, output)
            outcome = Outcome("pdf", page_count=report.page_count)
        except EngineError as error:
            bases = tuple(cls.__name__ for cls in type(error).__mro__)
            outcome = Outcome(
                "engine-error",
                error_type=type(error).__name__,
                error_bases=bases,
                detail=error.message,
            )
        except BaseException as error:  # the very thing being hunted: report, keep serving
            outcome = Outcome(
                "crash", error_type=type(error).__name__, detail=traceback.format_exc()
            )
        connection.send(outcome)


class EngineWorker:
    """A worker process that runs engine calls; restarted after a hang or a crash."""

    def __init__(self) -> None:
        self._context = multiprocessing.get_context("spawn")
        self._process: Any = None
        self._connection: Connection | None = None

    def _start(self) -> Connection:
        parent, child = self._context.Pipe()
        self._process = self._context.Process(target=_serve, args=(child,), daemon=True)
        self._process.start()
        child.close()
        self._connection = parent
        return parent

    def run(
        self,
        operation: Operation,
        inputs: list[Path],
        output: Path,
        deadline: float = DEADLINE_SECONDS,
    ) -> Outcome:
        """Call ``operation(inputs, output)`` in the worker; a hang or death is an outcome."""
        connection = self._connection or self._start()
        connection.send((operation, [str(path) for path in inputs], str(output)))
        if not connection.poll(deadline):
            self._discard()
            return Outcome("hang", detail=f"no answer within {deadline:g} s")
        try:
            outcome: Outcome = connection.recv()
        except (EOFError, OSError):  # the worker died mid-call
            code = self._discard()
            return Outcome("died", detail=f"worker exited with code {code}")
        return outcome

    def _discard(self) -> int | None:
        """Kill the current worker (the next call starts a fresh one); its exit code."""
        assert self._process is not None and self._connection is not None
        self._process.kill()
        self._process.join(10)
        self._connection.close()
        self._connection = None
        code: int | None = self._process.exitcode
        return code

    def close(self) -> None:
        if self._connection is not None:
            self._connection.send(None)
            self._process.join(10)
            if self._process.is_alive():
                self._discard()
            else:
                self._connection.close()
                self._connection = None
