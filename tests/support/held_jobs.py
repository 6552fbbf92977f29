"""Holding a job between two of its inputs, to look at it while it runs.

:class:`InputGate` wraps a server's real executor: the job runs the real
engine, and when it reports that it finished the inputs before ``at_input``
and is on that one, the report goes through (to the runner and its job store)
and the job then waits until the test releases it. Build the server with
:func:`gated_local_service` (or wrap the executor given to any runner factory
with :meth:`InputGate.wrap`; a job that can be held must then run in a worker
thread, never on the event loop: see :class:`HeldJobRunner`).
"""

from __future__ import annotations

import threading
from typing import Any

from pdfbinder.compat.files.local import LocalFileStore
from pdfbinder.compat.jobs.base import (
    CancelCheck,
    Executor,
    FinishHook,
    JobRecord,
    JobRunner,
    JobSpec,
)
from pdfbinder.compat.jobs.local import LocalJobRunner
from pdfbinder.compat.jobs.progress import JobProgress, ProgressReport
from pdfbinder.compat.service import Service
from pdfbinder.compat.settings import Settings

_LONGEST_HOLD = 120.0
"""A job still held this long goes on anyway, so a failed test cannot hang."""


class InputGate:
    """Holds every job once its engine reaches input ``at_input`` (0-based, at least 1)."""

    def __init__(self, at_input: int) -> None:
        self.at_input = at_input
        self.reached = threading.Event()
        self._open = threading.Event()

    def wrap(self, execute: Executor) -> Executor:
        def held(spec: JobSpec, should_stop: CancelCheck, progress: ProgressReport) -> Any:
            def report(update: JobProgress) -> None:
                progress(update)
                # percent > 0: the engine finished an input (reports while fetching are at 0).
                if update.input_index == self.at_input and update.percent > 0:
                    self.reached.set()
                    self._open.wait(_LONGEST_HOLD)

            return execute(spec, should_stop, report)

        return held

    def wait_reached(self, timeout: float = 60.0) -> None:
        assert self.reached.wait(timeout), f"no job reached input {self.at_input}"

    def release(self) -> None:
        self._open.set()


class HeldJobRunner(LocalJobRunner):
    """The embedded runner, except that it runs no job in the thread that took its
    request: a job a test holds must not hold the event loop, and with it the server."""

    def run_now(
        self, spec: JobSpec, job_id: str, *, asynchronous: bool = False
    ) -> JobRecord | None:
        return None


def gated_local_service(gate: InputGate) -> Any:
    """A service factory: the embedded service, its job runner's executor held by ``gate``."""

    def build(settings: Settings) -> Service:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        store = LocalFileStore(settings.data_dir / "files")

        def runner(execute: Executor, on_finish: FinishHook) -> JobRunner:
            return HeldJobRunner(
                settings.data_dir / "jobs.sqlite3",
                gate.wrap(execute),
                workers=settings.workers,
                on_finish=on_finish,
            )

        return Service(settings, store, runner)

    return build
