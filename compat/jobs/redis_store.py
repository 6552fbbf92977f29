"""``RedisJobRecords``: job records in Redis, so every API replica and worker sees the same job.

One hash per job, ``pdfbinder:job:<id>``, with the :class:`JobRecord` fields
(times as ISO text, spec and result as JSON) plus the run's bookkeeping:
``worker`` (``host:pid`` of the process running it), ``lease`` (Redis time,
in seconds, until which that worker counts as alive; it renews it while it
works), ``attempts``, ``cancel`` and ``progress`` (JSON, while it works).

State changes are Lua scripts, so they are atomic across processes:
:meth:`claim` lets exactly one live worker run a job (a second delivery of
the same message finds the lease held and waits); :meth:`finish` ends a job
only while it is still ``working``. Lease times come from Redis's own clock,
so hosts with skewed clocks still agree on who is alive.

Expiry is Redis's (TTL): a record lives ``retention_seconds`` after it was
created and again after it finished (the embedded runner's ``job_retention``),
then Redis drops it — no sweep, and nothing outlives it unbounded.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis

from ..clock import utcnow
from .base import JobRecord, JobSpec, JobState
from .progress import JobProgress

PREFIX = "pdfbinder:"

_CLAIM = """
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 'missing' end
if state ~= 'working' then return 'finished' end
local now = redis.call('TIME')
local seconds = tonumber(now[1]) + tonumber(now[2]) / 1e6
local holder = redis.call('HGET', KEYS[1], 'worker')
local lease = tonumber(redis.call('HGET', KEYS[1], 'lease') or '0')
if holder and holder ~= ARGV[1] and lease > seconds then return 'busy' end
redis.call('HSET', KEYS[1], 'worker', ARGV[1], 'lease', tostring(seconds + tonumber(ARGV[2])),
           'started_at', ARGV[3])
redis.call('HINCRBY', KEYS[1], 'attempts', 1)
return 'claimed'
"""

_RENEW = """
if redis.call('HGET', KEYS[1], 'worker') ~= ARGV[1] then return 0 end
if redis.call('HGET', KEYS[1], 'state') ~= 'working' then return 0 end
local now = redis.call('TIME')
local seconds = tonumber(now[1]) + tonumber(now[2]) / 1e6
redis.call('HSET', KEYS[1], 'lease', tostring(seconds + tonumber(ARGV[2])))
return 1
"""

_FINISH = """
if redis.call('HGET', KEYS[1], 'state') ~= 'working' then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[1], 'spec', ARGV[2], 'finished_at', ARGV[3],
           'result', ARGV[4], 'error_code', ARGV[5], 'message', ARGV[6])
redis.call('HDEL', KEYS[1], 'lease', 'cancel', 'progress')
redis.call('EXPIRE', KEYS[1], ARGV[7])
return 1
"""

_PROGRESS = """
if redis.call('HGET', KEYS[1], 'state') ~= 'working' then return 0 end
redis.call('HSET', KEYS[1], 'progress', ARGV[1])
return 1
"""

_CANCEL = """
if redis.call('HGET', KEYS[1], 'state') ~= 'working' then return 0 end
redis.call('HSET', KEYS[1], 'cancel', '1')
return 1
"""


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@dataclass(frozen=True)
class Holder:
    """Which worker process holds (or last held) a job."""

    host: str
    pid: int
    attempts: int


class RedisJobRecords:
    """The job records of one deployment, in the Redis at ``client``."""

    def __init__(self, client: redis.Redis, *, retention_seconds: int) -> None:
        self.client = client
        self.retention_seconds = retention_seconds
        self._claim = client.register_script(_CLAIM)
        self._renew = client.register_script(_RENEW)
        self._finish = client.register_script(_FINISH)
        self._cancel = client.register_script(_CANCEL)
        self._progress = client.register_script(_PROGRESS)

    @classmethod
    def from_url(cls, url: str, *, retention_seconds: int) -> RedisJobRecords:
        return cls(
            redis.Redis.from_url(url, decode_responses=True), retention_seconds=retention_seconds
        )

    @staticmethod
    def key(job_id: str) -> str:
        return f"{PREFIX}job:{job_id}"

    def create(self, job_id: str, spec: JobSpec) -> JobRecord:
        """Record a new ``working`` job (ids are random, 128 bits: never reused)."""
        created = utcnow()
        fields: dict[Any, Any] = {
            "spec": json.dumps(spec.to_json()),
            "state": JobState.WORKING.value,
            "created_at": created.isoformat(),
            "attempts": "0",
        }
        with self.client.pipeline() as pipe:
            pipe.hset(self.key(job_id), mapping=fields)
            pipe.expire(self.key(job_id), self.retention_seconds)
            pipe.execute()
        return JobRecord(job_id=job_id, spec=spec, state=JobState.WORKING, created_at=created)

    def get(self, job_id: str) -> JobRecord | None:
        fields: dict[str, str] = self.client.hgetall(self.key(job_id))  # type: ignore[assignment]
        if not fields or "state" not in fields:
            return None
        return JobRecord(
            job_id=job_id,
            spec=JobSpec.from_json(json.loads(fields["spec"])),
            state=JobState(fields["state"]),
            created_at=datetime.fromisoformat(fields["created_at"]),
            started_at=_time(fields.get("started_at")),
            finished_at=_time(fields.get("finished_at")),
            result=json.loads(fields["result"]) if fields.get("result") else None,
            error_code=int(fields["error_code"]) if fields.get("error_code") else None,
            message=fields.get("message") or None,
            progress=(
                JobProgress.from_json(json.loads(fields["progress"]))
                if fields.get("progress")
                else None
            ),
        )

    def holder(self, job_id: str) -> Holder | None:
        """The worker that runs (or last ran) the job, if one ever claimed it."""
        worker, attempts = self.client.hmget(self.key(job_id), ["worker", "attempts"])
        if not worker:
            return None
        host, _, pid = str(worker).rpartition(":")
        return Holder(host=host, pid=int(pid), attempts=int(attempts or 0))

    def claim(self, job_id: str, worker: str, lease_seconds: float) -> str:
        """``claimed`` (run it), ``busy`` (a live worker holds it), ``finished`` or ``missing``."""
        return str(
            self._claim(keys=[self.key(job_id)], args=[worker, lease_seconds, utcnow().isoformat()])
        )

    def renew(self, job_id: str, worker: str, lease_seconds: float) -> bool:
        """Extend ``worker``'s lease; ``False`` once the job ended or another worker took it."""
        return bool(self._renew(keys=[self.key(job_id)], args=[worker, lease_seconds]))

    def finish(
        self,
        job_id: str,
        *,
        state: JobState,
        spec: JobSpec,
        result: dict[str, Any] | None,
        error_code: int | None,
        message: str | None,
    ) -> bool:
        """End a ``working`` job (``False`` if it had already ended); kept ``retention`` more."""
        return bool(
            self._finish(
                keys=[self.key(job_id)],
                args=[
                    state.value,
                    json.dumps(spec.to_json()),
                    utcnow().isoformat(),
                    json.dumps(result) if result is not None else "",
                    "" if error_code is None else str(error_code),
                    message or "",
                    self.retention_seconds,
                ],
            )
        )

    def set_progress(self, job_id: str, progress: JobProgress) -> bool:
        """Record a ``working`` job's progress; ``False`` (nothing written) once it ended."""
        return bool(self._progress(keys=[self.key(job_id)], args=[json.dumps(progress.to_json())]))

    def request_cancel(self, job_id: str) -> bool:
        """Flag a ``working`` job for cancellation; ``False`` when it already ended."""
        return bool(self._cancel(keys=[self.key(job_id)]))

    def cancel_requested(self, job_id: str) -> bool:
        return bool(self.client.hexists(self.key(job_id), "cancel"))

    def working_jobs(self) -> list[str]:
        """Ids of every job still ``working`` (a scan: for tests and operators, not hot paths)."""
        found = []
        for key in self.client.scan_iter(match=f"{PREFIX}job:*", count=500):
            if self.client.hget(key, "state") == JobState.WORKING.value:
                found.append(str(key)[len(f"{PREFIX}job:") :])
        return found


def shared_secret(client: redis.Redis) -> bytes:
    """The deployment's presign key: made once by whichever process asks first (SET NX)."""
    key = f"{PREFIX}presign-key"
    client.set(key, secrets.token_hex(32), nx=True)
    value = client.get(key)
    assert value is not None  # set just above; never expires
    return bytes.fromhex(str(value))
