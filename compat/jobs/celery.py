"""``CeleryJobRunner``: jobs run on a fleet of ``pdfbinder worker`` processes via Celery.

The same object serves both sides. In an API replica, :meth:`submit` writes
the job's record to Redis (:class:`RedisJobRecords`) and sends a Celery
message carrying only the job id; :meth:`status` and :meth:`cancel` read and
flag the shared record, so any replica answers for any job. In a worker,
the registered task calls :meth:`run_delivered`, which claims the record,
runs the executor and writes the outcome.

Delivery guarantees:

* Messages are acknowledged late (``acks_late``), rejected back to the queue
  when the pool loses the process running them (``reject_on_worker_lost``),
  and each worker prefetches one message per slot — so a job whose worker
  dies is delivered again, to another worker, and run from the start (its
  result was never committed: the file store writes atomically).
* On Redis, an unacknowledged message goes back to the queue once it is
  older than ``visibility_timeout``. A running job therefore keeps its
  message fresh (a heartbeat thread touches it in the broker's unacked index)
  and holds a lease on its record; a worker killed outright stops both, and
  within about ``visibility_timeout`` seconds another worker gets the job.
  Should a live job's message be delivered twice anyway, the second worker
  finds the lease held and waits for it to end or lapse, so a job never runs
  twice at once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import redis
from celery import Celery

from .base import CancelCheck, Executor, FinishHook, JobRecord, JobRunner, JobSpec
from .outcome import notify_finished, outcome_of
from .progress import ProgressPublisher
from .redis_store import RedisJobRecords

TASK_NAME = "pdfbinder.run_job"
QUEUE = "pdfbinder"
_UNACKED_INDEX = "unacked_index"
"""The sorted set where kombu's Redis transport keeps delivery times of unacked messages."""
_CANCEL_POLL_SECONDS = 0.25
_PROGRESS_WRITE_SECONDS = 0.25
_log = logging.getLogger("pdfbinder.jobs")


def make_celery(broker: str, *, visibility_timeout: float) -> Celery:
    """A Celery app for ``broker`` with the delivery settings the module docstring explains."""
    app = Celery("pdfbinder", broker=broker, set_as_current=False)
    restore_every = max(1, int(visibility_timeout // 4))
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,  # outcomes live in our records, not a result backend
        task_default_queue=QUEUE,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": visibility_timeout,
            "unacked_restore_interval": restore_every,
            "unacked_restore_throttle": 1,
        },
        worker_hijack_root_logger=False,
        worker_cancel_long_running_tasks_on_connection_loss=False,
    )
    return app


def worker_name() -> str:
    """``host:pid`` of this process, as recorded on the jobs it claims."""
    return f"{socket.gethostname()}:{os.getpid()}"


class CeleryJobRunner(JobRunner):
    """A :class:`JobRunner` whose jobs run on Celery workers; see the module docstring."""

    def __init__(
        self,
        app: Celery,
        records: RedisJobRecords,
        execute: Executor,
        on_finish: FinishHook | None,
        *,
        visibility_timeout: float,
    ) -> None:
        self.app = app
        self.records = records
        self._execute = execute
        self._on_finish = on_finish
        self._lease_seconds = visibility_timeout
        self._progress = ProgressPublisher(records.set_progress, interval=_PROGRESS_WRITE_SECONDS)
        broker = str(app.conf.broker_url or "")
        self._broker = (
            redis.Redis.from_url(broker, decode_responses=True)
            if broker.startswith(("redis://", "rediss://", "unix://"))
            else None
        )

        runner = self

        @app.task(
            name=TASK_NAME,
            bind=True,
            acks_late=True,  # type: ignore[untyped-decorator]
            reject_on_worker_lost=True,
            ignore_result=True,
        )
        def run_job(task: Any, job_id: str) -> None:
            properties = getattr(task.request, "properties", None) or {}
            runner.run_delivered(job_id, properties.get("delivery_tag"))

        self._task = run_job

    # The API side.

    def submit(self, spec: JobSpec, job_id: str) -> JobRecord:
        record = self.records.create(job_id, spec)
        self._task.apply_async(args=[job_id], queue=QUEUE)
        return record

    def status(self, job_id: str) -> JobRecord | None:
        return self.records.get(job_id)

    def cancel(self, job_id: str) -> bool:
        return self.records.request_cancel(job_id)

    def purge(self, finished_before: datetime) -> int:
        """Nothing to do: Redis expires records by itself (see ``RedisJobRecords``)."""
        return 0

    def close(self) -> None:
        """Release connections; queued and running jobs carry on in the workers."""
        self._progress.close()
        self.app.close()
        self.records.client.close()
        if self._broker is not None:
            self._broker.close()

    # The worker side.

    def run_delivered(self, job_id: str, delivery_tag: str | None) -> None:
        """Run the job of one delivered message, unless it ended or a live worker has it."""
        worker = worker_name()
        with self._heartbeat(job_id, worker, delivery_tag):
            while True:
                outcome = self.records.claim(job_id, worker, self._lease_seconds)
                if outcome == "claimed":
                    break
                if outcome != "busy":  # finished meanwhile, or its record expired
                    return
                time.sleep(self._lease_seconds / 4)
            record = self.records.get(job_id)
            if record is not None:
                self._run(record)

    def _run(self, record: JobRecord) -> None:
        job_id, spec = record.job_id, record.spec
        cancelled = self._cancel_check(job_id)
        report = self._progress.reporter(job_id)
        outcome = outcome_of(job_id, cancelled, lambda: self._execute(spec, cancelled, report))
        self._progress.discard(job_id)
        ended = self.records.finish(
            job_id,
            state=outcome.state,
            spec=spec.without_secrets(),
            result=outcome.result,
            error_code=outcome.code,
            message=outcome.message,
        )
        final = self.records.get(job_id)
        if ended:
            notify_finished(self._on_finish, final, spec)

    def _cancel_check(self, job_id: str) -> CancelCheck:
        """Whether cancellation was requested, asking Redis at most every 0.25 s."""
        last_asked = 0.0
        flagged = False

        def cancelled() -> bool:
            nonlocal last_asked, flagged
            now = time.monotonic()
            if not flagged and now - last_asked >= _CANCEL_POLL_SECONDS:
                last_asked = now
                flagged = self.records.cancel_requested(job_id)
            return flagged

        return cancelled

    @contextmanager
    def _heartbeat(self, job_id: str, worker: str, delivery_tag: str | None) -> Iterator[None]:
        """While inside: renew our lease and keep our message from being handed out again."""
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(self._lease_seconds / 4):
                try:
                    self.records.renew(job_id, worker, self._lease_seconds)
                    if self._broker is not None and delivery_tag:
                        self._broker.zadd(_UNACKED_INDEX, {delivery_tag: time.time()}, xx=True)
                except redis.RedisError:  # Redis away for a moment: the next beat retries
                    _log.warning("heartbeat of job %s failed", job_id, exc_info=True)

        thread = threading.Thread(target=beat, name=f"pdfbinder-heartbeat-{job_id}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
