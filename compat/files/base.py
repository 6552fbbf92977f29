"""The ``FileStore`` interface: where uploads and results live until they expire.

A store keeps opaque files under long random ids, with a little metadata (the
name to serve them under, size, expiry, owner). Writes are atomic: a file is
either fully there under its id or not at all, so a crash never leaves a
truncated document behind a URL. Expired files read as absent even before a
sweep removes them.

A server keeps every result for its expiration (an hour by default) and sweeps every
minute, in every process, so a sweep that looked at every stored file would visit each one
sixty times per process, at a cost near that of the job that made it (an S3 HEAD each
time). A store's :class:`SweepSchedule` has its sweeps visit the files its process
committed, when they are due, and every stored file only at the first sweep and one in
:data:`FULL_SCAN_EVERY` after it (files of other processes, of a process that died, of
earlier runs).
"""

from __future__ import annotations

import heapq
import math
import secrets
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from ..clock import utcnow

_ID_BYTES = 24
_COPY_CHUNK = 1024 * 1024
FULL_SCAN_EVERY = 60
"""A sweep in so many (and the first) looks at every stored file: at the default interval,
one an hour."""
_SCHEDULED = 100_000
"""Files whose expiry a process keeps for its sweeps (about 150 bytes each, 15 MB in all);
the full scans find any committed past that."""


def new_file_id() -> str:
    """An unguessable id made of ``[A-Za-z0-9_-]`` only (safe raw in a URL path)."""
    return secrets.token_urlsafe(_ID_BYTES)


def due_time(expires_at: datetime) -> int:
    """``expires_at`` in whole seconds since the epoch, rounded up: a file is never due by
    this time before its metadata says it expired."""
    return math.ceil(expires_at.timestamp())


class SweepSchedule:
    """What a store's next sweep visits (see the module docstring); safe from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._due: list[tuple[int, str]] = []  # (due time, file id), a heap
        self._sweeps = 0

    def add(self, due: int, file_id: str) -> None:
        """Visit ``file_id`` once its :func:`due_time` ``due`` has passed (it was committed
        here)."""
        with self._lock:
            if len(self._due) < _SCHEDULED:
                heapq.heappush(self._due, (due, file_id))

    def sweep(
        self,
        moment: datetime,
        everything: Callable[[datetime], int],
        remove_if_expired: Callable[[str, datetime], bool | None],
    ) -> int:
        """One sweep's removals at ``moment``: ``everything`` (which looks at every stored
        file) at the first sweep and one in :data:`FULL_SCAN_EVERY`, otherwise
        ``remove_if_expired`` of each scheduled file that is due, taken off the schedule."""
        with self._lock:
            full = self._sweeps % FULL_SCAN_EVERY == 0
            self._sweeps += 1
            due: list[str] = []
            if not full:
                now = moment.timestamp()
                while self._due and self._due[0][0] <= now:
                    due.append(heapq.heappop(self._due)[1])
        if full:
            return everything(moment)
        return sum(remove_if_expired(file_id, moment) is True for file_id in due)


class FileExists(Exception):
    """A file with this id was already stored (ids are written once)."""


class FileTooLarge(Exception):
    """A write went past the size limit it was given."""


@dataclass(frozen=True)
class FileInfo:
    """What the store knows about one file besides its bytes."""

    file_id: str
    name: str
    size: int
    expires_at: datetime
    owner: str | None = None
    original_name: str | None = None
    """The name the client gave the file, when it differs from ``name`` (which is made
    safe for URLs and file systems); for people to read only, e.g. bookmark titles."""

    @property
    def shown_name(self) -> str:
        """The name to show people: the client's own where known."""
        return self.original_name or self.name

    def expired(self, now: datetime | None = None) -> bool:
        """Whether the file's link is no longer valid."""
        return (now or utcnow()) >= self.expires_at


class FileWriter(ABC):
    """A binary sink returned by :meth:`FileStore.writer`; committed on clean exit.

    ``info`` is set once the file is committed (``None`` until then).
    """

    info: FileInfo | None = None

    @abstractmethod
    def write(self, data: bytes) -> int:
        """Append ``data``; raise :class:`FileTooLarge` past the writer's limit."""

    @property
    @abstractmethod
    def stream(self) -> BinaryIO:
        """A real binary file object for code that wants one (e.g. the engine)."""


class CountingWriter(FileWriter):
    """A :class:`FileWriter` onto an open binary file, refusing to go past ``max_bytes``.

    Stores that fill a local file before committing it (the local directory, the S3
    spool) share it, so the size limit is enforced the same way everywhere.
    """

    def __init__(self, handle: BinaryIO, max_bytes: int | None) -> None:
        self._handle = handle
        self._max_bytes = max_bytes
        self._written = 0

    def write(self, data: bytes) -> int:
        self._written += len(data)
        if self._max_bytes is not None and self._written > self._max_bytes:
            raise FileTooLarge(f"more than {self._max_bytes} bytes")
        return self._handle.write(data)

    @property
    def stream(self) -> BinaryIO:
        return self._handle


class FileStore(ABC):
    """Stores files by id; every method is safe to call from several threads."""

    local = False
    """Whether the files are on this machine's disk, so looking one up never waits for a
    network."""

    @abstractmethod
    def writer(
        self,
        file_id: str,
        *,
        name: str,
        expires_at: datetime,
        owner: str | None = None,
        max_bytes: int | None = None,
        original_name: str | None = None,
        durable: bool = True,
    ) -> AbstractContextManager[FileWriter]:
        """A context manager for writing ``file_id``; nothing is visible unless it exits cleanly.

        Raises :class:`FileExists` on commit when the id is already taken. Once it exits
        the file is there for every reader, and survives the process being killed; with
        ``durable`` it also survives a power cut, while without it the store makes it
        so shortly afterwards (a store that writes durably anyway may ignore the flag).
        """

    @abstractmethod
    def info(self, file_id: str) -> FileInfo | None:
        """Metadata of a stored, unexpired file, or ``None``."""

    @abstractmethod
    def open(self, file_id: str) -> tuple[FileInfo, BinaryIO] | None:
        """The file's metadata and a seekable stream of its bytes (caller closes), or ``None``."""

    @abstractmethod
    def delete(self, file_id: str) -> bool:
        """Remove the file; ``False`` when there was nothing to remove."""

    @abstractmethod
    def sweep(self, now: datetime | None = None) -> int:
        """Remove expired files (and leftovers of interrupted writes); return the count.

        Most sweeps visit only the files this process committed that are due; see
        :class:`SweepSchedule`."""

    def direct_download_url(self, file_id: str) -> str | None:
        """A URL the client may fetch the file from directly (e.g. presigned S3), or ``None``
        to have the server stream it. The default store always streams."""
        return None

    def put(
        self,
        stream: BinaryIO,
        *,
        file_id: str,
        name: str,
        expires_at: datetime,
        owner: str | None = None,
        max_bytes: int | None = None,
        original_name: str | None = None,
    ) -> FileInfo:
        """Store everything read from ``stream`` atomically under ``file_id``."""
        with self.writer(
            file_id,
            name=name,
            expires_at=expires_at,
            owner=owner,
            max_bytes=max_bytes,
            original_name=original_name,
        ) as sink:
            for chunk in iter_chunks(stream):
                sink.write(chunk)
        if sink.info is None:
            raise RuntimeError(f"store did not commit {file_id}")  # a FileStore bug
        return sink.info


def iter_chunks(stream: BinaryIO, size: int = _COPY_CHUNK) -> Iterator[bytes]:
    """``stream``'s bytes in chunks of at most ``size``."""
    while chunk := stream.read(size):
        yield chunk
