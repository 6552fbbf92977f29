"""Job-admission and job-size limits: what keeps hostile or careless clients bounded.

* :class:`JobSlots` admits jobs: at most ``per_key`` queued-or-running jobs per API
  key and ``capacity`` over all keys (workers + queue), else 429. The job runner's
  queue is therefore bounded whatever the runner is.
* :class:`JobBudget` adds up one job's input bytes against ``max_job_bytes``.

Every refusal is an :class:`~pdfbinder.compat.errors.ApiError` (413 or 429), so the
HTTP layer answers ``{"error": true, "status": 413|429, "message": ...}``. Request
bodies are bounded before any of this, by
:class:`~pdfbinder.compat.middleware.BodyLimit`.
"""

from __future__ import annotations

import threading
from collections import Counter

from .errors import ApiError


def readable_size(count: int) -> str:
    """A byte count for a message: ``512 bytes``, ``1.5 MiB``."""
    size = float(count)
    for unit in ("bytes", "KiB", "MiB"):
        if size < 1024:
            return f"{size:.4g} {unit}"
        size /= 1024
    return f"{size:.4g} GiB"


def process_share(limit: int, processes: int) -> int:
    """One server process's share of a server-wide admission limit, rounded up (so the
    processes together admit at least ``limit``)."""
    return -(-limit // processes)


class JobSlots:
    """Admission of jobs: per-key and total counts of queued-or-running jobs.

    A slot is taken under a ticket (the job's output id) and given back once;
    releasing twice, or a ticket never taken, is harmless, so every path that
    ends a job may release it.
    """

    def __init__(self, *, per_key: int, capacity: int) -> None:
        self.per_key = per_key
        self.capacity = capacity
        self._lock = threading.Lock()
        self._owners: dict[str, str | None] = {}
        self._per_owner: Counter[str | None] = Counter()

    def acquire(self, ticket: str, owner: str | None) -> None:
        """Take a slot for ``ticket`` or raise 429."""
        with self._lock:
            if len(self._owners) >= self.capacity:
                raise ApiError(
                    429,
                    f"The server is busy: {len(self._owners)} jobs are "
                    "queued or running, the most it takes. Retry later.",
                )
            if self._per_owner[owner] >= self.per_key:
                raise ApiError(
                    429,
                    f"Too many jobs at once for this API key: "
                    f"{self.per_key} are queued or running, the limit. "
                    "Retry when one has finished.",
                )
            self._owners[ticket] = owner
            self._per_owner[owner] += 1

    def release(self, ticket: str) -> None:
        """Give back ``ticket``'s slot (idempotent)."""
        with self._lock:
            if ticket not in self._owners:
                return
            owner = self._owners.pop(ticket)
            self._per_owner[owner] -= 1
            if self._per_owner[owner] <= 0:
                del self._per_owner[owner]

    @property
    def in_use(self) -> int:
        with self._lock:
            return len(self._owners)


def check_input_count(count: int, limit: int) -> None:
    """413 when a job names more sources than ``limit``."""
    if count > limit:
        raise ApiError(413, f"Too many inputs: {count} source URLs, the limit per job is {limit}.")


def check_page_count(count: int, limit: int) -> None:
    """413 when a job's result would have more pages than ``limit``."""
    if count > limit:
        raise ApiError(
            413, f"The result would have {count} pages, over the limit of {limit} pages per job."
        )


class JobBudget:
    """The running total of one job's input bytes against ``max_bytes``."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.used = 0

    def add(self, size: int | None, what: str) -> None:
        """Count ``size`` more bytes (of input ``what``); 413 past the budget."""
        self.used += size or 0
        if self.used > self.max_bytes:
            raise ApiError(
                413,
                f"The job's inputs add up to more than "
                f"{readable_size(self.max_bytes)} ({self.max_bytes} bytes) "
                f"at {what}.",
            )
