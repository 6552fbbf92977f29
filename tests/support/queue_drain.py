"""Queue-drain timing for the scale benchmark: how fast workers empty a full queue.

The jobs are submitted through an API replica while no worker runs, so the Celery queue
holds all of them. :class:`HeldQueue` then moves that queue's Redis list
aside while the workers start, and back once every worker said it is ready:
the timed part starts with all workers idle and waiting, and excludes their
start-up (Python imports, broker connection). :func:`wait_all_succeeded`
reads the job records straight from Redis — no HTTP polling competes with
the workers for the CPU while they drain.
"""

from __future__ import annotations

import time

import redis

from pdfbinder.compat.jobs.base import JobState
from pdfbinder.compat.jobs.celery import QUEUE
from pdfbinder.compat.jobs.redis_store import RedisJobRecords

_CHECK_SECONDS = 0.05
"""How often the pending records are read: small against a drain of seconds."""


class HeldQueue:
    """The Celery queue of one deployment, which can be held back from the workers.

    Kombu's Redis transport keeps a queue as a list named after it; ``RENAME``
    moves the whole list in one step (and back), and a worker blocked waiting
    on the queue is woken as soon as the list is back.
    """

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self.held_key = f"{QUEUE}-held-by-benchmark"

    def length(self) -> int:
        return int(self.client.llen(QUEUE))

    def hold(self) -> None:
        self.client.rename(QUEUE, self.held_key)

    def release(self) -> None:
        self.client.rename(self.held_key, QUEUE)


def wait_all_succeeded(client: redis.Redis, job_ids: list[str], timeout: float) -> None:
    """Return once every job's record says ``success``; fail fast on any other end state."""
    pending = list(job_ids)
    deadline = time.monotonic() + timeout
    while pending:
        with client.pipeline(transaction=False) as pipe:
            for job_id in pending:
                pipe.hget(RedisJobRecords.key(job_id), "state")
            states = pipe.execute()
        ended = [state for state in states if state != JobState.WORKING.value]
        assert all(state == JobState.SUCCESS.value for state in ended), set(ended)
        pending = [
            job_id
            for job_id, state in zip(pending, states, strict=True)
            if state == JobState.WORKING.value
        ]
        if pending:
            assert time.monotonic() < deadline, f"{len(pending)} jobs still working"
            time.sleep(_CHECK_SECONDS)
