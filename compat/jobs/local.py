"""``LocalJobRunner``: a worker pool in the server process, job records in SQLite.

Records live in ``jobs.sqlite3`` (WAL mode) in the data directory, so
``/job/check`` keeps answering across restarts, and several server processes
may share it (a writer waits for another's transaction instead of failing).

Crash recovery: a job cannot be resumed half-way, so a job still recorded as
``working`` whose process is gone (died, or was stopped with it queued or
running) is marked ``failed`` with a message saying it was interrupted and
should be submitted again. Each row carries the token of the process running
it, which holds a :class:`~pdfbinder.compat.leases.ProcessLease` while it
lives; the orphans are found at start-up, at every sweep and whenever a
``/job/check`` reads one, so a sibling process's live jobs are never touched.
An orphan's result file was never committed (the file store writes
atomically), so its result URL answers 404 rather than a truncated document.
Jobs are not re-run automatically: their sources may have expired and a
client that saw the failure may already have resubmitted.

A sync job runs in the thread of the request that waits for it (no hand-off to
a worker and back) and is recorded only if its client stops waiting (past the
sync time limit, when its id is handed out): until then no one else knows its
id. A small job, sync or async, may run in the thread that took its request
(:meth:`run_now`) when a slot is free at once; an async one is then recorded once, as
it ended. Both kinds share ``workers`` execution slots. ``/job/check`` of a job this
process runs, or finished lately, is answered from memory.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ..clock import utcnow
from ..leases import ProcessLease, lease_alive, remove_dead_leases
from .base import (
    Executor,
    FinishHook,
    JobCancelled,
    JobRecord,
    JobRunner,
    JobSpec,
    JobState,
)
from .outcome import notify_finished, outcome_of
from .progress import JobProgress, ignore_progress

INTERRUPTED_CODE = 500
INTERRUPTED_MESSAGE = (
    "Job interrupted: the server stopped while it was queued or running, so no result "
    "was produced. Submit it again."
)
_log = logging.getLogger("pdfbinder.jobs")
_REMEMBERED = 10_000
"""Finished jobs whose records stay in memory for ``/job/check`` (about 1 KiB each)."""
_BUSY_SECONDS = 30.0
"""How long a write waits while another server process writes, before it fails."""
LEASES = "processes"
"""The folder, next to the database, of the leases of the processes running jobs."""

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
    message TEXT,
    runner TEXT
)
"""
_WORKING = JobState.WORKING.value
_INDEXES = (
    # The sweep asks two questions each minute, in every process: which processes have jobs
    # working (few rows), and which ended jobs are past their retention (a day's worth by
    # default). Unindexed, each read the whole table. The queries name the state as a
    # literal, so that SQLite can use these partial indexes for them.
    f"CREATE INDEX IF NOT EXISTS jobs_working ON jobs (runner) WHERE state = '{_WORKING}'",
    f"CREATE INDEX IF NOT EXISTS jobs_ended ON jobs (finished_at) WHERE state != '{_WORKING}'",
)
WORKING_RUNNERS = f"SELECT DISTINCT runner FROM jobs WHERE state = '{_WORKING}'"
"""The lease tokens of the processes that have jobs working."""
PURGE = f"DELETE FROM jobs WHERE state != '{_WORKING}' AND finished_at < ?"
"""Forget the ended jobs that ended before the parameter (an ISO time)."""
_RUNNER_COLUMN = "runner"
"""The lease token of the process running a ``working`` job (added to older databases)."""


_FINAL_COLUMNS = ("spec", "state", "started_at", "finished_at", "result", "error_code", "message")
"""What a job's end writes, in :func:`_final_values`' order."""


def _final_values(record: JobRecord) -> tuple[Any, ...]:
    """The values of :data:`_FINAL_COLUMNS` for an ended job's ``record``."""
    return (
        json.dumps(record.spec.to_json()),
        record.state.value,
        record.started_at.isoformat() if record.started_at else None,
        record.finished_at.isoformat() if record.finished_at else None,
        json.dumps(record.result) if record.result is not None else None,
        record.error_code,
        record.message,
    )


_WAL_RETRY_SECONDS = 0.02


def _use_wal(database: sqlite3.Connection) -> None:
    """Put ``database`` in WAL mode (it stays so once switched).

    While another connection holds a write lock (a second server process creating the
    schema of a new database), SQLite refuses the switch at once, "database is locked",
    without waiting for the lock as it does for other statements: so the switch is
    tried again until the same busy timeout as they have.
    """
    deadline = time.monotonic() + _BUSY_SECONDS
    while True:
        try:
            database.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                raise
        time.sleep(_WAL_RETRY_SECONDS)


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
    recorded_at_end: bool = False
    """An async job run before its answer: recorded once, as it ended."""
    known: bool = True
    """Whether anyone but its caller can ask for the job, so that it is listed as running
    and then remembered: not a sync job run in the calling thread, whose id is never
    handed out (its client gets the answer, or the error, before any other request)."""
    done: threading.Event | None = None
    """Made by the first request that waits for the job (under the runner's lock, which
    the job's end holds too); most jobs end with nobody waiting."""
    cancel_asked: bool = False
    """Set from any thread; read by the job between steps (a plain flag: an ``Event``
    would cost more to make than a small job costs to run)."""
    final: JobRecord | None = None
    progress: JobProgress | None = None
    """The executor's latest report, kept here: only this process answers for the job."""

    def cancelled(self) -> bool:
        return self.cancel_asked

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
        lease: ProcessLease | None = None,
    ) -> None:
        """``lease``: this process's lease, when something else (the service) holds it;
        without one the runner takes its own, in ``processes/`` next to the database."""
        self._execute = execute
        self._on_finish = on_finish
        self._lock = threading.Lock()
        self._own_lease = lease is None
        self._lease = lease or ProcessLease(database.parent / LEASES)
        self._db = sqlite3.connect(
            database, timeout=_BUSY_SECONDS, check_same_thread=False, isolation_level=None
        )
        _use_wal(self._db)
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._create_schema()
        self._closed = False
        self._running: dict[str, _Running] = {}
        self._finished: OrderedDict[str, JobRecord] = OrderedDict()
        self._kept_early: OrderedDict[str, bool] = OrderedDict()
        """Sync jobs whose client stopped waiting before the job got here: id → cancel."""
        self._slots = threading.BoundedSemaphore(workers)
        self.recover()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pdfbinder-job")

    def _sql(self, statement: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(statement, args).fetchall()

    def _create_schema(self) -> None:
        # In one transaction: processes starting together would each add the column.
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(_SCHEMA)
                columns = {row[1] for row in self._db.execute("PRAGMA table_info(jobs)")}
                if _RUNNER_COLUMN not in columns:
                    self._db.execute(f"ALTER TABLE jobs ADD COLUMN {_RUNNER_COLUMN} TEXT")
                for index in _INDEXES:
                    self._db.execute(index)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _orphaned(self, runner: str | None) -> bool:
        """Whether a ``working`` job of process ``runner`` has lost its process."""
        if runner == self._lease.token:
            return False
        return runner is None or not lease_alive(self._lease.directory, runner)

    def recover(self) -> int:
        """Mark the jobs of processes that are gone as interrupted; return how many."""
        runners = self._sql(WORKING_RUNNERS)
        recovered = sum(
            self._fail_working(runner) for (runner,) in runners if self._orphaned(runner)
        )
        remove_dead_leases(self._lease.directory)
        if recovered:
            _log.warning("marked %d interrupted job(s) as failed", recovered)
        return recovered

    def _fail_working(self, runner: str | None) -> int:
        """Mark the jobs process ``runner`` left ``working`` as interrupted (and drop their
        secrets)."""
        rows = self._sql(
            f"SELECT job_id, spec FROM jobs WHERE state = '{_WORKING}' AND runner IS ?", (runner,)
        )
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
            "INSERT INTO jobs (job_id, spec, state, created_at, runner) VALUES (?, ?, ?, ?, ?)",
            (
                job_id,
                json.dumps(spec.to_json()),
                JobState.WORKING.value,
                created.isoformat(),
                self._lease.token,
            ),
        )

    def _store_final(self, record: JobRecord) -> None:
        """Write a job's final record over its working one (the caller holds the lock)."""
        self._db.execute(
            f"UPDATE jobs SET {', '.join(f'{name}=?' for name in _FINAL_COLUMNS)} WHERE job_id=?",
            (*_final_values(record), record.job_id),
        )

    def _insert_final(self, record: JobRecord) -> None:
        """Record a job that has ended and was not recorded yet, in one write (the caller
        holds the lock)."""
        columns = ("job_id", "created_at", "runner", *_FINAL_COLUMNS)
        self._db.execute(
            f"INSERT OR REPLACE INTO jobs ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' * len(columns))})",
            (
                record.job_id,
                record.created_at.isoformat(),
                self._lease.token,
                *_final_values(record),
            ),
        )

    def submit(self, spec: JobSpec, job_id: str) -> JobRecord:
        running = self._record(spec, job_id)
        self._pool.submit(self._run, job_id, running)
        return running.record(job_id)

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

    def run_now(
        self, spec: JobSpec, job_id: str, *, asynchronous: bool = False
    ) -> JobRecord | None:
        if not self._slots.acquire(blocking=False):
            return None
        running = _Running(
            spec, utcnow(), recorded=False, recorded_at_end=asynchronous, known=asynchronous
        )
        if running.known:
            with self._lock:
                self._running[job_id] = running
        return self._run(job_id, running, holding_slot=True)

    def _keep(self, job_id: str, running: _Running, cancel: bool) -> None:
        if not running.recorded:
            self._insert(job_id, running.spec, running.created_at)
            running.recorded = True
        if cancel:
            running.cancel_asked = True

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
            self._insert_final(final)

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
            if running.cancel_asked:  # while it waited for a slot
                raise JobCancelled
            started = utcnow()
            # A job nobody else knows of has nobody to report its progress to.
            report = running.report if running.known else ignore_progress
            return self._execute(running.spec, running.cancelled, report)

        try:
            outcome = outcome_of(job_id, running.cancelled, start_and_execute)
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
        running.final = final
        if not running.known:
            notify_finished(self._on_finish, final, running.spec)
            return final
        with self._lock:
            if running.recorded and not self._closed:
                self._store_final(final)
            elif running.recorded_at_end and not self._closed:  # never recorded working
                self._insert_final(final)
            self._finished[job_id] = final
            while len(self._finished) > _REMEMBERED:
                self._finished.popitem(last=False)
            del self._running[job_id]
            done = running.done
        if done is not None:
            done.set()
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
        row = self._stored(job_id)
        if row is not None and row[1] == JobState.WORKING.value and self._orphaned(row[-1]):
            # Another process's job, and that process is gone: say so now, not at the sweep.
            self.recover()
            row = self._stored(job_id)
        if row is None:
            return None
        spec, state, created, started, finished, result, code, message, _ = row
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

    def _stored(self, job_id: str) -> tuple[Any, ...] | None:
        rows = self._sql(
            "SELECT spec, state, created_at, started_at, finished_at, result, error_code, "
            "message, runner FROM jobs WHERE job_id=?",
            (job_id,),
        )
        return rows[0] if rows else None

    def wait(self, job_id: str, timeout: float) -> JobRecord | None:
        with self._lock:
            running = self._running.get(job_id)
            if running is not None and running.final is None and running.done is None:
                running.done = threading.Event()
        if running is not None:
            if running.done is not None:
                running.done.wait(timeout)
            if running.final is not None:
                return running.final
        return self.status(job_id)

    def cancel(self, job_id: str) -> bool:
        running = self._running.get(job_id)
        if running is None:
            return False
        running.cancel_asked = True
        return True

    def purge(self, finished_before: datetime) -> int:
        with self._lock:
            while self._finished:
                oldest = next(iter(self._finished.values()))
                if oldest.finished_at is None or oldest.finished_at >= finished_before:
                    break
                self._finished.popitem(last=False)
            cursor = self._db.execute(PURGE, (finished_before.isoformat(),))
            return cursor.rowcount

    def close(self) -> None:
        """Cancel running jobs (they end ``aborted``), drop queued ones (recorded as
        interrupted, like after a crash) and close the database."""
        for running in list(self._running.values()):
            running.cancel_asked = True
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._fail_working(self._lease.token)  # other processes' jobs go on
        with self._lock:
            self._closed = True
            self._db.close()
        if self._own_lease:
            self._lease.release()
