"""``RedisJobSlots``: job admission (429 past the limits) counted across every replica.

The same contract as :class:`~pdfbinder.compat.limits.JobSlots` — at most
``per_key`` queued-or-running jobs per API key and ``capacity`` in all — but
the counts live in Redis, because a job is admitted by one API replica and
its slot is given back by whichever worker process finishes it.

Layout: a sorted set of all tickets and one per owner (score: when taken),
and a hash ticket → owner so a release knows which set to leave. A slot whose
job never ended (its record expired) is dropped once older than
``stale_seconds``, so a lost job cannot hold a slot forever.
"""

from __future__ import annotations

import time

import redis

from ..errors import ApiError
from .redis_store import PREFIX

_ALL = f"{PREFIX}slots"
_OWNERS = f"{PREFIX}slot-owners"
_ANONYMOUS = "-"

_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[3])
local total = redis.call('ZCARD', KEYS[1])
if total >= tonumber(ARGV[4]) then return {1, total} end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then return {2, total} end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[6])
return {0, total + 1}
"""

_RELEASE = """
local owner = redis.call('HGET', KEYS[2], ARGV[1])
if not owner then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', ARGV[2] .. owner, ARGV[1])
return 1
"""


def _owner_key(owner: str) -> str:
    return f"{PREFIX}slots:{owner}"


class RedisJobSlots:
    """Admission of jobs shared by every process of a deployment (see the module docstring)."""

    def __init__(
        self, client: redis.Redis, *, per_key: int, capacity: int, stale_seconds: int
    ) -> None:
        self.client = client
        self.per_key = per_key
        self.capacity = capacity
        self.stale_seconds = stale_seconds
        self._acquire = client.register_script(_ACQUIRE)
        self._release = client.register_script(_RELEASE)

    def acquire(self, ticket: str, owner: str | None) -> None:
        """Take a slot for ``ticket`` or raise 429."""
        name = owner or _ANONYMOUS
        now = time.time()
        refused, total = self._acquire(
            keys=[_ALL, _owner_key(name), _OWNERS],
            args=[ticket, now, now - self.stale_seconds, self.capacity, self.per_key, name],
        )
        if refused == 1:
            raise ApiError(
                429,
                f"The server is busy: {total} jobs are queued or running, "
                "the most it takes. Retry later.",
            )
        if refused == 2:
            raise ApiError(
                429,
                f"Too many jobs at once for this API key: {self.per_key} "
                "are queued or running, the limit. Retry when one has "
                "finished.",
            )

    def release(self, ticket: str) -> None:
        """Give back ``ticket``'s slot (idempotent, from any process)."""
        self._release(keys=[_ALL, _OWNERS], args=[ticket, f"{PREFIX}slots:"])

    @property
    def in_use(self) -> int:
        return int(self.client.zcard(_ALL))
