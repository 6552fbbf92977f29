"""Live progress of running jobs: how far a job is, and which input it is working on.

The executor reports after each input; a runner keeps the latest report where
``/job/check`` reads it. Reporting never waits on storage: the local runner
keeps it in memory (its own process answers the checks), and a worker hands
it to :class:`ProgressPublisher`, whose one background thread writes the
latest report of each job to the shared records at most every ``interval``
seconds — a job with thousands of inputs costs a few writes a second, and a
report that arrives between writes is not lost, only delayed to the next one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_log = logging.getLogger("pdfbinder.jobs")


@dataclass(frozen=True)
class JobProgress:
    """``percent`` of the inputs done (0–100), and the input being read, if one is."""

    percent: int
    input_index: int | None = None
    input_name: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"percent": self.percent}
        if self.input_index is not None:
            data["input"] = {"index": self.input_index, "name": self.input_name}
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JobProgress:
        current = data.get("input") or {}
        return cls(int(data["percent"]), current.get("index"), current.get("name"))


ProgressReport = Callable[[JobProgress], None]
"""Called by the executor with the job's progress; must return at once."""


def ignore_progress(progress: JobProgress) -> None:
    """A :data:`ProgressReport` for callers that do not show progress."""


class ProgressPublisher:
    """Writes the latest progress of each job with ``write``, from one background thread."""

    def __init__(self, write: Callable[[str, JobProgress], object], *, interval: float) -> None:
        self._write = write
        self._interval = interval
        self._latest: dict[str, JobProgress] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def reporter(self, job_id: str) -> ProgressReport:
        """The report function for one job (starts the writer at first use)."""

        def report(progress: JobProgress) -> None:
            with self._lock:
                self._latest[job_id] = progress
                if self._thread is None and not self._stopping.is_set():
                    self._thread = threading.Thread(
                        target=self._run, name="pdfbinder-progress", daemon=True
                    )
                    self._thread.start()
            self._wake.set()

        return report

    def discard(self, job_id: str) -> None:
        """Forget a job's unwritten report (it ended; its record says so)."""
        with self._lock:
            self._latest.pop(job_id, None)

    def _run(self) -> None:
        while True:
            self._wake.wait()
            if self._stopping.is_set():
                return
            self._wake.clear()
            with self._lock:
                pending, self._latest = self._latest, {}
            for job_id, progress in pending.items():
                try:
                    self._write(job_id, progress)
                except Exception:  # storage away for a moment: a later report is written
                    _log.warning("progress of job %s not written", job_id, exc_info=True)
            if self._stopping.wait(self._interval):
                return

    def close(self) -> None:
        """Stop writing; reports not yet written are dropped (their jobs are ending)."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
