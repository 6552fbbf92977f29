"""The ``JobRunner`` interface: run work in the background, answer for it by id.

A job is described by a :class:`JobSpec` — a kind, source URLs and plain
parameters, all JSON-serialisable — so a runner may persist it or ship it to
another process. The runner calls an :data:`Executor` with the spec; the
executor returns a JSON-able result or raises
:class:`~pdfbinder.compat.errors.ApiError` (the job fails with its status as the
error code, and its message) or :class:`JobCancelled`.
"""

from __future__ import annotations

import enum
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..protocol import SECRET_PARAMS
from .progress import JobProgress, ProgressReport


class JobState(str, enum.Enum):
    """The states ``/job/check`` reports (``unknown`` is never stored)."""

    WORKING = "working"
    SUCCESS = "success"
    FAILED = "failed"
    ABORTED = "aborted"

    @property
    def finished(self) -> bool:
        return self is not JobState.WORKING


@dataclass(frozen=True)
class JobSpec:
    """What to do: e.g. ``JobSpec("convert", [url1, url2], {"name": "a.pdf", ...})``."""

    kind: str
    urls: list[str]
    params: dict[str, Any] = field(default_factory=dict)

    def without_secrets(self) -> JobSpec:
        """A copy without passwords and callback credentials, for keeping after the job."""
        params = {key: value for key, value in self.params.items() if key not in SECRET_PARAMS}
        return JobSpec(kind=self.kind, urls=list(self.urls), params=params)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "urls": list(self.urls), "params": dict(self.params)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JobSpec:
        return cls(kind=data["kind"], urls=list(data["urls"]), params=dict(data["params"]))


@dataclass(frozen=True)
class JobRecord:
    """Everything known about one job; ``result`` is the executor's return value."""

    job_id: str
    spec: JobSpec
    state: JobState
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    result: dict[str, Any] | None = None
    error_code: int | None = None
    message: str | None = None
    progress: JobProgress | None = None
    """How far a ``working`` job is, once its executor has said."""


class JobCancelled(Exception):
    """Raised inside a job when its cancellation was requested."""


CancelCheck = Callable[[], bool]
"""Returns ``True`` once the running job should stop (at its next safe point)."""

Executor = Callable[[JobSpec, CancelCheck, ProgressReport], dict[str, Any]]
"""Does the work of one job, reporting its progress, and returns its JSON-able result."""

FinishHook = Callable[[JobRecord, JobSpec], None]
"""Called once for every job that ends, with its final record and its full spec (the
record keeps no secrets; the spec has the callback's URL and credentials)."""


class JobRunner(ABC):
    """Runs jobs in the background and keeps their records."""

    @abstractmethod
    def submit(self, spec: JobSpec, job_id: str) -> JobRecord:
        """Record ``spec`` as ``working`` under ``job_id`` and schedule it."""

    @abstractmethod
    def status(self, job_id: str) -> JobRecord | None:
        """The job's current record, or ``None`` when the id is unknown."""

    @abstractmethod
    def cancel(self, job_id: str) -> bool:
        """Ask the job to stop (it ends ``aborted``); ``False`` if it already ended."""

    @abstractmethod
    def purge(self, finished_before: datetime) -> int:
        """Forget jobs that ended before ``finished_before``; return how many."""

    @abstractmethod
    def close(self) -> None:
        """Stop taking jobs and release the workers and storage."""

    def wait(self, job_id: str, timeout: float) -> JobRecord | None:
        """The job's record once it ended, or its current one after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            record = self.status(job_id)
            if record is None or record.state.finished or time.monotonic() >= deadline:
                return record
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))

    def run_sync(self, spec: JobSpec, job_id: str, timeout: float) -> JobRecord | None:
        """Run a job whose client waits for it: its final record, or its current one after
        ``timeout`` seconds. A runner that can run it in the calling thread does (no
        hand-offs), and may then take longer than ``timeout``: the caller answers on time
        and calls :meth:`keep` for a job it stops waiting for."""
        self.submit(spec, job_id)
        return self.wait(job_id, timeout)

    def submit_now(self, spec: JobSpec, job_id: str) -> JobRecord | None:
        """:meth:`submit` when it takes no waiting for a network (a local queue), else
        ``None`` with nothing submitted."""
        return None

    def run_now(
        self, spec: JobSpec, job_id: str, *, asynchronous: bool = False
    ) -> JobRecord | None:
        """Run a job in the calling thread if a worker slot is free this instant: its
        final record; ``None`` (nothing started) when it would have to wait or when this
        runner only runs jobs elsewhere. An ``asynchronous`` job is one its client will
        poll for: its final record is stored before this returns (one write, with no
        ``working`` record before it: nobody has its id yet)."""
        return None

    def keep(self, job_id: str, cancel: bool) -> None:
        """The client of a :meth:`run_sync` job stopped waiting: make the job answer
        ``/job/check`` from now on, and ask it to stop when ``cancel``."""
        if cancel:
            self.cancel(job_id)

    def recover(self) -> int:
        """Mark the jobs of processes that are gone as interrupted; return how many.

        Runs at every sweep. A runner whose jobs outlive the process that took them
        (a broker hands them to another worker) has nothing to do."""
        return 0

    def recent(self, job_id: str) -> JobRecord | None:
        """The record of a job this process runs or ran lately, from memory without
        blocking, or ``None`` (then :meth:`status` knows)."""
        return None
