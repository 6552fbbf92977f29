"""Process leases: which of the processes sharing a data directory are still alive.

A server process holds a lease for as long as it lives: an exclusive ``flock``
on ``<directory>/<token>.lock``. The kernel drops the lock when the process
ends, however it ends (SIGKILL included), so another process that can take the
lock knows the holder is gone and may clean up after it: fail the jobs it was
running, delete the files it was half-way through writing. Whatever a process
leaves behind is marked with its token.

A lease file appears under its final name already locked (it is created and
locked under a temporary name first), so a live holder is never mistaken for a
dead one. A token whose file is missing is dead too: the file only goes away
once its holder is gone (or has released it, its own clean-up done).
"""

from __future__ import annotations

import fcntl
import os
import secrets
import time
import weakref
from pathlib import Path

_SUFFIX = ".lock"
_PENDING_SUFFIX = ".new"
_STALE_PENDING_SECONDS = 3600
"""A lease file still under its temporary name this long was left by a crash while it was
being created (a live one is renamed within microseconds)."""


def _lease_path(directory: Path, token: str) -> Path:
    return directory / f"{token}{_SUFFIX}"


class ProcessLease:
    """This process's lease in ``directory`` (created if missing); see the module docstring."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.token = secrets.token_hex(8)
        pending = directory / f".{self.token}{_PENDING_SUFFIX}"
        descriptor = os.open(pending, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a new file: always free
            os.rename(pending, self.path)
        except BaseException:
            os.close(descriptor)
            pending.unlink(missing_ok=True)
            raise
        # Closing the descriptor drops the lock: done by release(), or when the lease is
        # garbage-collected, or by the kernel when the process ends.
        self._close = weakref.finalize(self, os.close, descriptor)

    @property
    def path(self) -> Path:
        return _lease_path(self.directory, self.token)

    def release(self) -> None:
        """End the lease, once the holder has cleaned up after itself (idempotent)."""
        if self._close.alive:
            self.path.unlink(missing_ok=True)  # before unlocking: never seen unheld
            self._close()


def _try_lock(path: Path) -> int | None:
    """A descriptor holding ``path``'s lock, or ``None`` when it is held or missing."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        return None
    return descriptor


def lease_alive(directory: Path, token: str) -> bool:
    """Whether the holder of lease ``token`` in ``directory`` is still alive."""
    path = _lease_path(directory, token)
    if not path.exists():
        return False
    descriptor = _try_lock(path)
    if descriptor is None:
        return path.exists()  # held, unless it went away between the two looks
    os.close(descriptor)
    return False


def remove_dead_leases(directory: Path) -> None:
    """Delete the lease files of processes that are gone.

    Only once nothing marked with their tokens needs them: a missing lease reads as
    dead, like an unheld one, so their jobs and files are cleaned up all the same.
    """
    if not directory.is_dir():
        return
    stale_before = time.time() - _STALE_PENDING_SECONDS
    for path in directory.iterdir():
        if path.name.endswith(_PENDING_SUFFIX):
            try:
                if path.stat().st_mtime < stale_before:
                    path.unlink(missing_ok=True)
            except FileNotFoundError:
                pass
            continue
        if not path.name.endswith(_SUFFIX):
            continue
        descriptor = _try_lock(path)
        if descriptor is None:
            continue
        try:
            path.unlink(missing_ok=True)
        finally:
            os.close(descriptor)
