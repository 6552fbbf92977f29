"""``LocalFileStore``: files in a directory, one sub-directory per id.

Layout under ``root``: ``<id>/content`` (the bytes) and ``<id>/meta.json``.
A write fills a private directory under ``root/.tmp`` and is committed by one
``rename`` of that directory to ``root/<id>``, which is atomic on POSIX and
fails if the id exists — so a crash leaves at most a stray temp directory,
never a half file behind a URL, and an id is written once. Deletion renames
the directory away before removing it.

Several server processes may share the directory. Each temp directory's name
starts with the token of its writer's :class:`~pdfbinder.compat.leases.ProcessLease`
(when the store has one), so :meth:`remove_interrupted_writes` deletes only
what a process that is gone left, never a live sibling's write in progress;
:meth:`sweep` does it too, and removes any temp directory older than six hours.

Durability: a committed file survives the process being killed at once. A
``durable`` write (uploads) is also fsynced (file, metadata, directory) before
it is reported; any other (job results, which can be made again) is made
durable shortly afterwards by one flusher thread for every file committed
meanwhile, off the job's path: on Linux with one ``syncfs`` per round, which
costs a fraction of the CPU of three fsyncs per file (none at all on a file system in
memory, such as tmpfs, which has no disk to flush to). A power cut inside that
window can leave such a file short or empty on disk: its size is checked
against its metadata when it is opened, so it reads as absent (404), never as
a truncated document.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import re
import secrets
import shutil
import sys
import tempfile
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from ..clock import utcnow
from ..leases import ProcessLease, lease_alive
from .base import CountingWriter, FileExists, FileInfo, FileStore, FileWriter

_VALID_ID = re.compile(r"[A-Za-z0-9_-]{16,128}")
_STALE_TEMP_SECONDS = 6 * 3600
_CONTENT = "content"
_META = "meta.json"
_UNLEASED = "unleased"
"""The writer token in temp names of a store without a lease (one process only)."""


_REMEMBERED = 10_000
"""Files this process committed whose metadata stays in memory (a download or a job
input then reads no ``meta.json``)."""
_FLUSH_INTERVAL = 0.02
"""Seconds between the flusher's rounds: commits gather meanwhile into one round of fsyncs."""
_FLUSH_PARK_ROUNDS = 50
_BUFFER = 64 * 1024
"""A stored file's buffer, given so that opening it asks nothing of the terminal or the
file system (without it, each open costs an ``isatty`` and an ``fstat``)."""
_log = logging.getLogger("pdfbinder.files")


def _write_whole(path: str, data: bytes, *, durable: bool) -> None:
    """Create ``path`` holding ``data`` (fsynced when ``durable``)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view) :]
        if durable:
            os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _fsync_path(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class _Flusher:
    """Group commit: fsyncs the files committed since its last round, then each of their
    parent directories once, in a daemon thread of its own (one per process).

    While files keep coming it polls, so a commit costs no wake-up of another thread
    (on a busy machine each wake-up can cost the writer its core); after a second
    without any it sleeps until the next commit wakes it.
    """

    def __init__(self) -> None:
        self._pending: deque[Path] = deque()  # append and popleft are atomic: no lock
        self._wake = threading.Event()
        self._parked = False
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def add(self, directory: Path) -> None:
        self._pending.append(directory)
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="pdfbinder-flush", daemon=True
                    )
                    self._thread.start()
        if self._parked:  # read after the append: a parking flusher sees one or the other
            self._wake.set()

    def _run(self) -> None:
        idle_rounds = 0
        while True:
            if idle_rounds >= _FLUSH_PARK_ROUNDS:
                self._parked = True
                if not self._pending:
                    self._wake.wait()
                self._wake.clear()
                self._parked = False
                idle_rounds = 0
            time.sleep(_FLUSH_INTERVAL)
            if self._pending:
                self.flush()
                idle_rounds = 0
            else:
                idle_rounds += 1

    def flush(self) -> None:
        """Make everything added so far durable (also callable from any thread)."""
        directories: list[Path] = []
        while self._pending:
            directories.append(self._pending.popleft())
        if not directories:
            return
        parents = {directory.parent for directory in directories}
        if _SYNCFS is not None:
            # One call per file system instead of three fsyncs per file: on a busy server
            # the fsyncs cost more CPU than the jobs whose results they keep.
            for parent in parents:
                if not _sync_file_system(parent):
                    break
            else:
                return
        for directory in directories:
            try:
                _fsync_path(directory / _CONTENT)
                _fsync_path(directory / _META)
            except FileNotFoundError:  # deleted meanwhile: nothing left to keep
                continue
            except OSError:
                _log.exception("could not flush %s", directory)
        for parent in parents:
            try:
                _fsync_path(parent)
            except FileNotFoundError:
                continue
            except OSError:
                _log.exception("could not flush %s", parent)


def _find_syncfs() -> Callable[[int], int] | None:
    """Linux's ``syncfs(fd)``, which flushes one file system whole, where libc has it."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        call: Callable[[int], int] = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    return call


_SYNCFS = _find_syncfs()


def _sync_file_system(directory: Path) -> bool:
    """``syncfs`` on the file system holding ``directory``; ``False`` when it failed
    (the caller then fsyncs file by file)."""
    assert _SYNCFS is not None
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except FileNotFoundError:
        return True  # the store itself is gone: nothing left to keep
    try:
        if _SYNCFS(descriptor) == 0:
            return True
        _log.warning("syncfs failed (%s); flushing file by file", os.strerror(ctypes.get_errno()))
        return False
    finally:
        os.close(descriptor)


_FLUSHER = _Flusher()

_MEMORY_FILE_SYSTEMS = frozenset({"tmpfs", "ramfs"})


def in_memory(directory: Path) -> bool:
    """Whether ``directory`` is on a file system held in memory (Linux's tmpfs, ramfs),
    where a flush has nothing to write; ``False`` wherever that cannot be told."""
    try:
        mounts = Path("/proc/self/mounts").read_text(encoding="utf-8")
    except OSError:
        return False
    return mount_type(os.path.realpath(directory), mounts) in _MEMORY_FILE_SYSTEMS


def mount_type(place: str, mounts: str) -> str | None:
    """The type of the file system holding the absolute path ``place``, by a mount table
    in ``/proc/self/mounts``'s format (the last mount at a point hides earlier ones)."""
    best, best_type = "", None
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        # Spaces and the like in a mount point are written as octal escapes.
        point = re.sub(r"\\([0-7]{3})", lambda code: chr(int(code.group(1), 8)), fields[1])
        inside = place == point or place.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, best_type = point, fields[2]
    return best_type


class LocalFileStore(FileStore):
    """A :class:`FileStore` in a local directory (created if missing)."""

    local = True

    def __init__(self, root: Path, *, lease: ProcessLease | None = None) -> None:
        """``lease``: the lease of this process when others may share ``root``."""
        self.root = root
        self._lease = lease
        self._writer = lease.token if lease is not None else _UNLEASED
        self._temp_root = root / ".tmp"
        self._temp_root.mkdir(parents=True, exist_ok=True)
        self._temp_root_name = str(self._temp_root)
        self._flushed = not in_memory(root)
        self._recent: OrderedDict[str, FileInfo] = OrderedDict()
        self._recent_lock = threading.Lock()

    def _path(self, file_id: str) -> Path | None:
        return self.root / file_id if _VALID_ID.fullmatch(file_id) else None

    @contextmanager
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
    ) -> Iterator[FileWriter]:
        target = self._path(file_id)
        if original_name == name:
            original_name = None
        if target is None:
            raise ValueError(f"invalid file id {file_id!r}")
        # Plain strings and os calls: a small job's result is written in about the time
        # pathlib and io's layers would take to get there.
        temp_dir = f"{self._temp_root_name}/{self._writer}.put-{file_id}-{secrets.token_hex(4)}"
        os.mkdir(temp_dir)
        try:
            with open(f"{temp_dir}/{_CONTENT}", "wb", buffering=_BUFFER) as handle:
                sink = CountingWriter(handle, max_bytes)
                yield sink
                handle.flush()
                if durable:
                    os.fsync(handle.fileno())
                size = handle.tell()
            meta = {
                "name": name,
                "size": size,
                "expires_at": expires_at.isoformat(),
                "owner": owner,
                "original_name": original_name,
            }
            _write_whole(f"{temp_dir}/{_META}", json.dumps(meta).encode(), durable=durable)
            try:
                os.rename(temp_dir, target)
            except OSError as error:
                raise FileExists(file_id) from error
        except BaseException:
            shutil.rmtree(temp_dir, ignore_errors=True)
            raise
        if durable:
            _fsync_path(self.root)  # the rename itself, durable before we answer 200
        elif self._flushed:
            _FLUSHER.add(target)
        sink.info = FileInfo(file_id, name, size, expires_at, owner, original_name)
        with self._recent_lock:
            self._recent[file_id] = sink.info
            while len(self._recent) > _REMEMBERED:
                self._recent.popitem(last=False)

    def _read_info(self, file_id: str, directory: Path) -> FileInfo | None:
        try:
            meta = json.loads((directory / _META).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return FileInfo(
            file_id=file_id,
            name=meta["name"],
            size=meta["size"],
            expires_at=datetime.fromisoformat(meta["expires_at"]),
            owner=meta.get("owner"),
            original_name=meta.get("original_name"),
        )

    def info(self, file_id: str) -> FileInfo | None:
        directory = self._path(file_id)
        if directory is None:
            return None
        info = self._recent.get(file_id)
        if info is not None and not directory.is_dir():  # deleted by another process
            with self._recent_lock:
                self._recent.pop(file_id, None)
            info = None
        else:
            info = info or self._read_info(file_id, directory)
        return None if info is None or info.expired() else info

    def open(self, file_id: str) -> tuple[FileInfo, BinaryIO] | None:
        info = self.info(file_id)
        directory = self._path(file_id)
        if info is None or directory is None:
            return None
        try:
            # The caller closes it.
            stream = open(directory / _CONTENT, "rb", buffering=_BUFFER)  # noqa: SIM115
        except FileNotFoundError:  # deleted meanwhile (here or by another process)
            return None
        if os.fstat(stream.fileno()).st_size != info.size:  # cut short by a power loss
            stream.close()
            return None
        return info, stream

    def delete(self, file_id: str) -> bool:
        directory = self._path(file_id)
        if directory is None:
            return False
        with self._recent_lock:
            self._recent.pop(file_id, None)
        graveyard = Path(tempfile.mkdtemp(prefix=f"{self._writer}.del-", dir=self._temp_root))
        try:
            os.rename(directory, graveyard / file_id)
        except FileNotFoundError:
            return False
        finally:
            shutil.rmtree(graveyard, ignore_errors=True)
        return True

    def sweep(self, now: datetime | None = None) -> int:
        moment = now or utcnow()
        removed = 0
        for entry in self.root.iterdir():
            if entry.name == self._temp_root.name or not entry.is_dir():
                continue
            info = self._recent.get(entry.name) or self._read_info(entry.name, entry)
            if info is not None and info.expired(moment) and self.delete(entry.name):
                removed += 1
        if self._lease is not None:
            self.remove_interrupted_writes()
        stale_before = time.time() - _STALE_TEMP_SECONDS
        for leftover in self._temp_root.iterdir():
            try:
                stale = leftover.stat().st_mtime < stale_before
            except FileNotFoundError:  # a writer committed or gave up meanwhile
                continue
            if stale:
                shutil.rmtree(leftover, ignore_errors=True)
        return removed

    def remove_interrupted_writes(self) -> None:
        """Delete the temp directories of writers that are gone.

        With a lease, a writer is gone once its process is (this process's own writes and
        a live sibling's are kept). Without one, every writer counts as gone: call it
        only when none can be running.
        """
        for leftover in self._temp_root.iterdir():
            writer = leftover.name.partition(".")[0]  # older versions' names: no writer
            if self._lease is not None and (
                writer == self._writer or lease_alive(self._lease.directory, writer)
            ):
                continue
            shutil.rmtree(leftover, ignore_errors=True)
