"""``LocalFileStore``: files in a directory, one file per id.

Layout under ``root``: ``<id>``, one file holding the document's bytes, then its
metadata (JSON), then a 16-byte footer: the metadata's length (8 bytes,
big-endian) and the 8 bytes ``pdfbmeta``. A reader is given the document's bytes
only. A write fills an unnamed file (Linux's ``O_TMPFILE``, which vanishes if the
process dies) or, where the file system has none, a private file under
``root/.tmp``, and is committed by one ``link`` of it to ``root/<id>``, which is
atomic on POSIX and fails if the id exists — so a crash leaves at most a stray temp
file, never a half file behind a URL, and an id is written once. (On a file system
without hard links, such as FAT, the id is claimed by creating it exclusively, and
the file is renamed over the claim.)
Deletion renames the file away before removing it.

The sweep (see :class:`~.base.SweepSchedule`): where it looks at every stored file, a
file costs one ``stat``, since a committed file's modification time is set to its expiry
and only files past it are opened. The footer stays the authority: a file is deleted only
once its own metadata says it expired, so a file whose time was changed since (copied, or
touched) is at worst looked at sooner, or kept longer.

Versions before 0.2 wrote a directory per id (``<id>/content`` and
``<id>/meta.json``, committed by renaming the directory): such files are read,
swept and deleted as they always were, so a data directory carries over.

Several server processes may share the directory. Each temp file's name starts
with the token of its writer's :class:`~pdfbinder.compat.leases.ProcessLease`
(when the store has one), so :meth:`remove_interrupted_writes` deletes only
what a process that is gone left, never a live sibling's write in progress;
:meth:`sweep` does it too, and removes any temp file older than six hours.

Durability: a committed file survives the process being killed at once. A
``durable`` write (uploads) is also fsynced (file and directory) before it is
reported; any other (job results, which can be made again) is made durable
within about a tenth of a second by one flusher thread for every file committed
meanwhile, off the job's path: on Linux with one ``syncfs`` per round, which costs
a fraction of the CPU of an fsync per file (none at all on a file system in
memory, such as tmpfs, which has no disk to flush to). A power cut inside that window can leave
such a file short or empty on disk: its footer and size are checked when it is
opened, so it reads as absent (404), never as a truncated document, and the sweep
removes it once its modification time is as far behind as a stale temp file's.
"""

from __future__ import annotations

import ctypes
import errno
import io
import itertools
import json
import logging
import os
import re
import shutil
import struct
import sys
import tempfile
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from ..clock import utcnow
from ..leases import ProcessLease, lease_alive
from .base import (
    CountingWriter,
    FileExists,
    FileInfo,
    FileStore,
    FileWriter,
    SweepSchedule,
    due_time,
)

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

_VALID_ID = re.compile(r"[A-Za-z0-9_-]{16,128}")
_STALE_TEMP_SECONDS = 6 * 3600
_FOOTER = struct.Struct(">Q8s")
_MAGIC = b"pdfbmeta"
_OLD_CONTENT = "content"
_OLD_META = "meta.json"
"""The two files of a directory written by a version before 0.2."""
_UNLEASED = "unleased"
"""The writer token in temp names of a store without a lease (one process only)."""
_TEMP_NUMBERS = itertools.count()
"""Numbers this process gives its temp files: with the writer token before them, a name
no other write uses (a random one cost a system call for every write)."""


_REMEMBERED = 10_000
"""Files this process committed whose metadata stays in memory (a download or a job
input then reads no metadata from disk)."""
_FLUSH_INTERVAL = 0.1
"""Seconds between the flusher's rounds: commits gather meanwhile into one round, so a
busy server pays for few rounds (ext4's own journal commits every 5 s)."""
_FLUSH_PARK_ROUNDS = 10
"""Idle rounds (a second) before the flusher sleeps until the next commit."""
_BUFFER = 64 * 1024
"""A stored file's buffer, given so that opening it asks nothing of the terminal or the
file system (without it, each open costs an ``isatty`` and an ``fstat``)."""
_log = logging.getLogger("pdfbinder.files")


def _fsync_path(path: str | Path) -> None:
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
        self._pending: deque[str] = deque()  # append and popleft are atomic: no lock
        self._wake = threading.Event()
        self._parked = False
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def add(self, path: str) -> None:
        self._pending.append(path)
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
        files: list[str] = []
        while self._pending:
            files.append(self._pending.popleft())
        if not files:
            return
        parents = {os.path.dirname(path) for path in files}
        syncfs = _SYNCFS  # read once: a round uses one way of flushing throughout
        if syncfs is not None:
            # One call per file system instead of an fsync per file and directory: on a busy
            # server the fsyncs cost more CPU than the jobs whose results they keep.
            for parent in parents:
                if not _sync_file_system(syncfs, parent):
                    break
            else:
                return
        for path in files:
            try:
                _fsync_path(path)
            except FileNotFoundError:  # deleted meanwhile: nothing left to keep
                continue
            except OSError:
                _log.exception("could not flush %s", path)
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


def _sync_file_system(syncfs: Callable[[int], int], directory: str) -> bool:
    """``syncfs`` on the file system holding ``directory``; ``False`` when it failed
    (the caller then fsyncs file by file)."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except FileNotFoundError:
        return True  # the store itself is gone: nothing left to keep
    try:
        if syncfs(descriptor) == 0:
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


_NO_HARD_LINKS = frozenset(
    {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS, errno.EMLINK, errno.EXDEV}
)


_UNNAMED = getattr(os, "O_TMPFILE", 0)
"""Linux's flag for a file with no name until it is linked in (0 elsewhere)."""


def _open_unnamed(directory: str) -> int:
    return os.open(directory, _UNNAMED | os.O_WRONLY | os.O_CLOEXEC, 0o666)


def _link_unnamed(descriptor: int, target: str) -> None:
    """Give the unnamed file open at ``descriptor`` the name ``target``.

    Through its ``/proc/self/fd`` link, which needs no privilege (``AT_EMPTY_PATH``
    does). Python asks for the link to be followed (``linkat`` with
    ``AT_SYMLINK_FOLLOW``) only when given a directory descriptor; the path is
    absolute, so the kernel ignores the one given.
    """
    os.link(f"/proc/self/fd/{descriptor}", target, src_dir_fd=descriptor, follow_symlinks=True)


def takes_unnamed_files(directory: str) -> bool:
    """Whether files can be made unnamed in ``directory`` and linked in later: tried
    once, under a name no file id can have (so the store never sees it), removed at
    once."""
    if not _UNNAMED:
        return False
    try:
        descriptor = _open_unnamed(directory)
    except OSError:  # a kernel or file system without O_TMPFILE
        return False
    probe = f"{directory}/.unnamed-probe.{os.getpid()}.{next(_TEMP_NUMBERS)}"
    try:
        _link_unnamed(descriptor, probe)
    except OSError:  # no /proc, or no hard links
        return False
    finally:
        os.close(descriptor)
    _remove(probe)
    return True


def _publish(temp: str | int, target: str, file_id: str) -> None:
    """Make the whole file at ``temp`` (a path, or an unnamed file's descriptor) the
    stored file ``target``; :class:`FileExists` if the id is taken. A named temp file
    stays for the caller to remove."""
    try:
        if isinstance(temp, int):
            _link_unnamed(temp, target)
        else:
            os.link(temp, target)
    except FileExistsError as error:
        raise FileExists(file_id) from error
    except OSError as error:
        if isinstance(temp, int) or error.errno not in _NO_HARD_LINKS:
            raise
        # A file system without hard links (FAT, some network shares): claim the id by
        # creating it exclusively, then move the whole file over the claim in one rename.
        # Until then the claim is empty, and an empty file reads as absent.
        try:
            os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError as taken:
            raise FileExists(file_id) from taken
        os.replace(temp, target)


def _remove(path: str) -> None:
    """Delete the file or directory at ``path``, if it is there."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except (IsADirectoryError, PermissionError):  # a directory (some systems say EPERM)
        shutil.rmtree(path, ignore_errors=True)


def _info_of(file_id: str, meta: dict[str, Any]) -> FileInfo:
    return FileInfo(
        file_id=file_id,
        name=meta["name"],
        size=meta["size"],
        expires_at=datetime.fromisoformat(meta["expires_at"]),
        owner=meta.get("owner"),
        original_name=meta.get("original_name"),
    )


def _read_footer(file_id: str, raw: io.FileIO, length: int) -> FileInfo | None:
    """The info in the metadata of the stored file ``raw`` (``length`` bytes long);
    ``None`` unless its footer, metadata and document's size add up to that length."""
    if length < _FOOTER.size:
        return None
    raw.seek(length - _FOOTER.size)
    try:
        meta_length, magic = _FOOTER.unpack(raw.read(_FOOTER.size))
        if magic != _MAGIC or meta_length > length - _FOOTER.size:
            return None
        raw.seek(length - _FOOTER.size - meta_length)
        info = _info_of(file_id, json.loads(raw.read(meta_length)))
        whole = info.size + meta_length + _FOOTER.size == length
    except (ValueError, KeyError, TypeError, struct.error):  # damaged, or changed meanwhile
        return None
    return info if whole else None


class _Document(io.RawIOBase):
    """The document part of an open stored file: its first ``size`` bytes, seekable, with
    the metadata behind them out of reach."""

    def __init__(self, raw: io.FileIO, size: int) -> None:
        super().__init__()
        self._raw = raw
        self._size = size
        self._position = 0  # the file's own position, kept here to ask the system less

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        wanted = min(view.nbytes, self._size - self._position)
        if wanted <= 0:
            return 0
        count = self._raw.readinto(view[:wanted]) or 0
        self._position += count
        return count

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._position, os.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise ValueError(f"negative seek position {base + offset}")
        self._position = self._raw.seek(base + offset)
        return self._position

    def tell(self) -> int:
        return self._position

    def close(self) -> None:
        self._raw.close()
        super().close()


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
        self._unnamed = takes_unnamed_files(str(root))
        self._flushed = not in_memory(root)
        self._root_name = str(root)
        # file id → its info and its length on disk, for files this process committed.
        self._recent: OrderedDict[str, tuple[FileInfo, int]] = OrderedDict()
        self._recent_lock = threading.Lock()
        self._schedule = SweepSchedule()

    def _path(self, file_id: str) -> str | None:
        return f"{self._root_name}/{file_id}" if _VALID_ID.fullmatch(file_id) else None

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
        # pathlib's layers would take to get there.
        temp: str | None = None
        if self._unnamed:  # no name to make now, or to remove if the write fails
            descriptor = _open_unnamed(self._root_name)
        else:
            temp = f"{self._temp_root_name}/{self._writer}.put-{file_id}-{next(_TEMP_NUMBERS)}"
            descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        try:
            with open(descriptor, "wb", buffering=_BUFFER) as handle:
                sink = CountingWriter(handle, max_bytes)
                yield sink
                size = handle.tell()
                meta = json.dumps(
                    {
                        "name": name,
                        "size": size,
                        "expires_at": expires_at.isoformat(),
                        "owner": owner,
                        "original_name": original_name,
                    }
                ).encode()
                handle.write(meta + _FOOTER.pack(len(meta), _MAGIC))
                handle.flush()
                # After the last write, which would set it to now (see the module's docstring).
                expiry = due_time(expires_at)
                os.utime(descriptor, (expiry, expiry))
                if durable:
                    os.fsync(handle.fileno())
                _publish(descriptor if temp is None else temp, target, file_id)
        finally:
            if temp is not None:
                _remove(temp)  # committed under its id, or given up
        if durable:
            _fsync_path(self.root)  # the link itself, durable before we answer 200
        elif self._flushed:
            _FLUSHER.add(target)
        sink.info = FileInfo(file_id, name, size, expires_at, owner, original_name)
        self._schedule.add(expiry, file_id)
        with self._recent_lock:
            self._recent[file_id] = (sink.info, size + len(meta) + _FOOTER.size)
            while len(self._recent) > _REMEMBERED:
                self._recent.popitem(last=False)

    def info(self, file_id: str) -> FileInfo | None:
        path = self._path(file_id)
        if path is not None and file_id in self._recent:
            try:  # one look at a file this process committed: still there, still whole?
                known = self._remembered(file_id, os.stat(path).st_size)
            except OSError:
                known = None
            if known is not None:
                return None if known.expired() else known
        opened = self._open(file_id)
        if opened is None:
            return None
        info, raw = opened
        raw.close()
        return None if info.expired() else info

    def open(self, file_id: str) -> tuple[FileInfo, BinaryIO] | None:
        opened = self._open(file_id)
        if opened is None:
            return None
        info, raw = opened
        if info.expired():
            raw.close()
            return None
        return info, io.BufferedReader(_Document(raw, info.size), buffer_size=_BUFFER)

    def _open(self, file_id: str) -> tuple[FileInfo, io.FileIO] | None:
        """A stored file's info (expired or not) and the file, open at its start; ``None``
        when it is not there or not whole (cut short by a power loss)."""
        path = self._path(file_id)
        if path is None:
            return None
        try:
            raw = io.FileIO(path, "r")
        except OSError:
            if os.path.isdir(path):  # stored by a version before 0.2
                return self._open_old(file_id, path)
            with self._recent_lock:  # not there, or deleted by another process
                self._recent.pop(file_id, None)
            return None
        try:
            length = os.fstat(raw.fileno()).st_size
            info = self._remembered(file_id, length)
            if info is None:
                info = _read_footer(file_id, raw, length)
                raw.seek(0)
        except BaseException:
            raw.close()
            raise
        if info is None:
            raw.close()
            return None
        return info, raw

    def _remembered(self, file_id: str, length: int) -> FileInfo | None:
        """The info of a file this process committed, if the file on disk still has the
        length it was written with (else it was cut short, or replaced, since)."""
        remembered = self._recent.get(file_id)
        return remembered[0] if remembered is not None and remembered[1] == length else None

    def _open_old(self, file_id: str, directory: str) -> tuple[FileInfo, io.FileIO] | None:
        """:meth:`_open` for a file stored by a version before 0.2 (a directory)."""
        try:
            with open(f"{directory}/{_OLD_META}", "rb") as meta_file:
                info = _info_of(file_id, json.loads(meta_file.read()))
            raw = io.FileIO(f"{directory}/{_OLD_CONTENT}", "r")
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if os.fstat(raw.fileno()).st_size != info.size:  # cut short by a power loss
            raw.close()
            return None
        return info, raw

    def delete(self, file_id: str) -> bool:
        path = self._path(file_id)
        if path is None:
            return False
        with self._recent_lock:
            self._recent.pop(file_id, None)
        graveyard = Path(tempfile.mkdtemp(prefix=f"{self._writer}.del-", dir=self._temp_root))
        try:
            os.rename(path, graveyard / file_id)
        except FileNotFoundError:
            return False
        finally:
            shutil.rmtree(graveyard, ignore_errors=True)
        return True

    def sweep(self, now: datetime | None = None) -> int:
        moment = now or utcnow()
        removed = self._schedule.sweep(moment, self._sweep_everything, self._remove_if_expired)
        if self._lease is not None:
            self.remove_interrupted_writes()
        stale_before = time.time() - _STALE_TEMP_SECONDS
        for leftover in self._temp_root.iterdir():
            try:
                stale = leftover.stat().st_mtime < stale_before
            except FileNotFoundError:  # a writer committed or gave up meanwhile
                continue
            if stale:
                _remove(str(leftover))
        return removed

    def _sweep_everything(self, moment: datetime) -> int:
        """Remove every expired stored file, and damaged ones once they are old."""
        due = moment.timestamp()
        stale_before = time.time() - _STALE_TEMP_SECONDS
        removed = 0
        for entry in os.scandir(self.root):
            if entry.name == self._temp_root.name or not _VALID_ID.fullmatch(entry.name):
                continue
            try:
                modified = entry.stat(follow_symlinks=False).st_mtime
            except FileNotFoundError:  # deleted meanwhile
                continue
            if modified > due:  # its expiry, set at commit, is still ahead
                continue
            outcome = self._remove_if_expired(entry.name, moment)
            # Not whole (cut short by a power loss), or no metadata: gone once it is as old
            # as a stale temp file, so that a file another process is deleting is left to it.
            if outcome is None and modified < stale_before:
                outcome = self.delete(entry.name)
            removed += outcome is True
        return removed

    def _remove_if_expired(self, file_id: str, moment: datetime) -> bool | None:
        """Delete ``file_id`` if its metadata says it expired; whether it was deleted, or
        ``None`` when it is not there or not whole."""
        opened = self._open(file_id)
        if opened is None:
            return None
        info, raw = opened
        raw.close()
        return info.expired(moment) and self.delete(file_id)

    def remove_interrupted_writes(self) -> None:
        """Delete the temp files of writers that are gone.

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
            _remove(str(leftover))
