"""``LocalJobRunner``: a worker pool in the server process, job records in SQLite.

Records live in ``jobs.sqlite3`` (WAL mode) in the data directory, so
``/job/check`` keeps answering across restarts. Crash recovery: a job cannot
be resumed half-way, so on start-up every job still recorded as ``working``
(the previous process died or was stopped with it queued or running) is
marked ``failed`` with a message saying it was interrupted and should be
submitted again. Its result file was never committed (the file store writes
atomically), so its result URL answers 404 rather than a truncated document.
Jobs are not re-run automatically: their sources may have expired and a
client that saw the failure may already have resubmitted.

A sync job runs in the thread of the request that waits for it (no hand-off to
a worker and back) and is recorded only if its client stops waiting (past the
sync time limit, when its id is handed out): until then no one else knows its
id. A small one may run in the thread that took its request (:meth:`run_now`) when a
slot is free at once. Both kinds share ``workers`` execution slots. ``/job/check`` of a job this
process runs, or finished lately, is answered from memory.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..clock import utcnow
from .base import (
    Executor,
    FinishHook,
    JobCancelled,
    JobRecord,
    JobRunner,
    JobSpec,
    JobState,
    QueuedHere,
)
from .outcome import notify_finished, outcome_of
from .progress import JobProgress

INTERRUPTED_CODE = 500
INTERRUPTED_MESSAGE = (
    "Job interrupted: the server stopped while it was queued or running, so no result "
    "was produced. Submit it again."
)
_log = logging.getLogger("pdfbinder.jobs")
_REMEMBERED = 10_000
"""Finished jobs whose records stay in memory for ``/job/check`` (about 1 KiB each)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    job_id TEXT PRIMARY KEY,
    spec TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    result TEXT,
    error_code INTEGER,
    message TEXT
)
"""


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@dataclass
class _Running:
    """A job this process has queued or is running: its flags, and its final record
    once it ends (handed to a waiting sync request without reading it back)."""

    spec: JobSpec
    created_at: datetime
    recorded: bool
    """Whether the database has the job (async jobs from the start; a sync job once
    its client stopped waiting)."""
    done: threading.Event = field(default_factory=threading.Event)
    cancelled: threading.Event = field(default_factory=threading.Event)
    final: JobRecord | None = None
    progress: JobProgress | None = None
    """The executor's latest report, kept here: only this process answers for the job."""

    def report(self, progress: JobProgress) -> None:
        self.progress = progress

    def record(self, job_id: str) -> JobRecord:
        return self.final or JobRecord(
            job_id=job_id,
            spec=self.spec,
            state=JobState.WORKING,
            created_at=self.created_at,
            progress=self.progress,
        )


class LocalJobRunner(JobRunner):
    """Runs jobs on ``workers`` threads; see the module docstring for recovery."""

    def __init__(
        self,
        database: Path,
        execute: Executor,
        *,
        workers: int,
        on_finish: FinishHook | None = None,
    ) -> None:
        self._execute = execute
        self._on_finish = on_finish
        self._lock = threading.Lock()
        self._db = sqlite3.connect(database, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)
        self._closed = False
        self._running: dict[str, _Running] = {}
        self._finished: OrderedDict[str, JobRecord] = OrderedDict()
        self._kept_early: OrderedDict[str, bool] = OrderedDict()
        """Sync jobs whose client stopped waiting before the job got here: id → cancel."""
        self._slots = threading.BoundedSemaphore(workers)
        recovered = self._fail_unfinished()
        if recovered:
            _log.warning("marked %d interrupted job(s) as failed", recovered)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pdfbinder-job")

    def _sql(self, statement: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(statement, args).fetchall()

    def _fail_unfinished(self) -> int:
        """Mark every job still ``working`` as interrupted (and drop its secrets)."""
        rows = self._sql("SELECT job_id, spec FROM jobs WHERE state=?", (JobState.WORKING.value,))
        for job_id, spec in rows:
            stored = JobSpec.from_json(json.loads(spec)).without_secrets()
            self._sql(
                "UPDATE jobs SET spec=?, state=?, finished_at=?, error_code=?, message=? "
                "WHERE job_id=? AND state=?",
                (
                    json.dumps(stored.to_json()),
                    JobState.FAILED.value,
                    utcnow().isoformat(),
                    INTERRUPTED_CODE,
                    INTERRUPTED_MESSAGE,
                    job_id,
                    JobState.WORKING.value,
                ),
            )
        return len(rows)

    def _insert(self, job_id: str, spec: JobSpec, created: datetime) -> None:
        """Record a job as working (the caller holds the lock)."""
        self._db.execute(
            "INSERT INTO jobs (job_id, spec, state, created_at) VALUES (?, ?, ?, ?)",
            (job_id, json.dumps(spec.to_json()), JobState.WORKING.value, created.isoformat()),
        )

    def _store_final(self, record: JobRecord) -> None:
        """Write a job's final record over its working one (the caller holds the lock)."""
        self._db.execute(
            "UPDATE jobs SET spec=?, state=?, started_at=?, finished_at=?, result=?, "
            "error_code=?, message=? WHERE job_id=?",
            (
                json.dumps(record.spec.to_json()),
                record.state.value,
                record.started_at.isoformat() if record.started_at else None,
                record.finished_at.isoformat() if record.finished_at else None,
                json.dumps(record.result) if record.result is not None else None,
                record.error_code,
                record.message,
                record.job_id,
            ),
        )

    def submit(self, spec: JobSpec, job_id: str) -> JobRecord:
        running = self._record(spec, job_id)
        self._pool.submit(self._run, job_id, running)
        return running.record(job_id)

    def submit_here(self, spec: JobSpec, job_id: str) -> QueuedHere:
        running = self._record(spec, job_id)

        def start() -> None:
            if self._slots.acquire(blocking=False):
                self._run(job_id, running, holding_slot=True)
                return
            try:
                self._pool.submit(self._run, job_id, running)
            except RuntimeError:  # shutting down: recorded as interrupted, like a queued job
                _log.warning("job %s not started: the runner is closing", job_id)

        return QueuedHere(running.record(job_id), start)

    def _record(self, spec: JobSpec, job_id: str) -> _Running:
        """Record an async job as working, and as this process's."""
        running = _Running(spec, utcnow(), recorded=True)
        with self._lock:
            self._insert(job_id, spec, running.created_at)
            self._running[job_id] = running
        return running

    def run_sync(self, spec: JobSpec, job_id: str, timeout: float) -> JobRecord | None:
        running = _Running(spec, utcnow(), recorded=False)
        with self._lock:
            self._running[job_id] = running
            cancel = self._kept_early.pop(job_id, None)
            if cancel is not None:
                self._keep(job_id, running, cancel)
        return self._run(job_id, running)

    def submit_now(self, spec: JobSpec, job_id: str) -> JobRecord | None:
        return self.submit(spec, job_id)

    def run_now(self, spec: JobSpec, job_id: str) -> JobRecord | None:
        if not self._slots.acquire(blocking=False):
            return None
        running = _Running(spec, utcnow(), recorded=False)
        with self._lock:
            self._running[job_id] = running
        return self._run(job_id, running, holding_slot=True)

    def _keep(self, job_id: str, running: _Running, cancel: bool) -> None:
        if not running.recorded:
            self._insert(job_id, running.spec, running.created_at)
            running.recorded = True
        if cancel:
            running.cancelled.set()

    def keep(self, job_id: str, cancel: bool) -> None:
        with self._lock:
            running = self._running.get(job_id)
            if running is not None:
                self._keep(job_id, running, cancel)
                return
            final = self._finished.get(job_id)
            if final is None:  # its request thread has not got to it yet
                self._kept_early[job_id] = cancel
                while len(self._kept_early) > _REMEMBERED:
                    self._kept_early.popitem(last=False)
                return
            # Ended just now, unrecorded: record it as it ended.
            self._db.execute(
                "INSERT OR IGNORE INTO jobs (job_id, spec, state, created_at) VALUES (?, ?, ?, ?)",
                (
                    job_id,
                    json.dumps(final.spec.to_json()),
                    JobState.WORKING.value,
                    final.created_at.isoformat(),
                ),
            )
            self._store_final(final)

    def _run(self, job_id: str, running: _Running, holding_slot: bool = False) -> JobRecord:
        # One write when the job ends (its start time included), not one more when it
        # starts: a record only needs to say "working" until then, which it already does.
        started: datetime | None = None
        held = holding_slot

        def start_and_execute() -> dict[str, Any]:
            nonlocal started, held
            if not held:
                self._slots.acquire()
                held = True
            if running.cancelled.is_set():  # while it waited for a slot
                raise JobCancelled
            started = utcnow()
            return self._execute(running.spec, running.cancelled.is_set, running.report)

        try:
            outcome = outcome_of(job_id, running.cancelled.is_set, start_and_execute)
        finally:
            if held:
                self._slots.release()
        final = JobRecord(
            job_id=job_id,
            spec=running.spec.without_secrets(),
            state=outcome.state,
            created_at=running.created_at,
            started_at=started,
            finished_at=utcnow(),
            result=outcome.result,
            error_code=outcome.code,
            message=outcome.message,
        )
        with self._lock:
            if running.recorded and not self._closed:
                self._store_final(final)
            running.final = final
            self._finished[job_id] = final
            while len(self._finished) > _REMEMBERED:
                self._finished.popitem(last=False)
            del self._running[job_id]
        running.done.set()
        notify_finished(self._on_finish, final, running.spec)
        return final

    def recent(self, job_id: str) -> JobRecord | None:
        # Lock-free: dict reads are atomic, and a job is remembered as finished before
        # it stops being running, so it is always found in one or the other.
        running = self._running.get(job_id)
        if running is not None:
            return running.record(job_id)
        return self._finished.get(job_id)

    def status(self, job_id: str) -> JobRecord | None:
        remembered = self.recent(job_id)
        if remembered is not None:
            return remembered
        rows = self._sql(
            "SELECT spec, state, created_at, started_at, finished_at, result, error_code, "
            "message FROM jobs WHERE job_id=?",
            (job_id,),
        )
        if not rows:
            return None
        spec, state, created, started, finished, result, code, message = rows[0]
        return JobRecord(
            job_id=job_id,
            spec=JobSpec.from_json(json.loads(spec)),
            state=JobState(state),
            created_at=datetime.fromisoformat(created),
            started_at=_time(started),
            finished_at=_time(finished),
            result=json.loads(result) if result else None,
            error_code=code,
            message=message,
        )

    def wait(self, job_id: str, timeout: float) -> JobRecord | None:
        running = self._running.get(job_id)
        if running is not None:
            running.done.wait(timeout)
            if running.final is not None:
                return running.final
        return self.status(job_id)

    def cancel(self, job_id: str) -> bool:
        running = self._running.get(job_id)
        if running is None:
            return False
        running.cancelled.set()
        return True

    def purge(self, finished_before: datetime) -> int:
        with self._lock:
            while self._finished:
                oldest = next(iter(self._finished.values()))
                if oldest.finished_at is None or oldest.finished_at >= finished_before:
                    break
                self._finished.popitem(last=False)
            cursor = self._db.execute(
                "DELETE FROM jobs WHERE state != ? AND finished_at < ?",
                (JobState.WORKING.value, finished_before.isoformat()),
            )
            return cursor.rowcount

    def close(self) -> None:
        """Cancel running jobs (they end ``aborted``), drop queued ones (recorded as
        interrupted, like after a crash) and close the database."""
        for running in list(self._running.values()):
            running.cancelled.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._fail_unfinished()
        with self._lock:
            self._closed = True
            self._db.close()
