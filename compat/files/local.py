"""``LocalFileStore``: files in a directory, one sub-directory per id.

Layout under ``root``: ``<id>/content`` (the bytes) and ``<id>/meta.json``.
A write fills a private directory under ``root/.tmp`` and is committed by one
``rename`` of that directory to ``root/<id>``, which is atomic on POSIX and
fails if the id exists — so a crash leaves at most a stray temp directory
(removed by :meth:`sweep`), never a half file behind a URL, and an id is
written once. Deletion renames the directory away before removing it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from ..clock import utcnow
from .base import CountingWriter, FileExists, FileInfo, FileStore, FileWriter

_VALID_ID = re.compile(r"[A-Za-z0-9_-]{16,128}")
_STALE_TEMP_SECONDS = 6 * 3600
_CONTENT = "content"
_META = "meta.json"


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class LocalFileStore(FileStore):
    """A :class:`FileStore` in a local directory (created if missing)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._temp_root = root / ".tmp"
        self._temp_root.mkdir(parents=True, exist_ok=True)

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
    ) -> Iterator[FileWriter]:
        target = self._path(file_id)
        if original_name == name:
            original_name = None
        if target is None:
            raise ValueError(f"invalid file id {file_id!r}")
        temp_dir = Path(tempfile.mkdtemp(prefix="put-", dir=self._temp_root))
        try:
            with open(temp_dir / _CONTENT, "wb") as handle:
                sink = CountingWriter(handle, max_bytes)
                yield sink
                handle.flush()
                os.fsync(handle.fileno())
                size = handle.tell()
            meta = {
                "name": name,
                "size": size,
                "expires_at": expires_at.isoformat(),
                "owner": owner,
                "original_name": original_name,
            }
            with open(temp_dir / _META, "w", encoding="utf-8") as meta_file:
                meta_file.write(json.dumps(meta))
                meta_file.flush()
                os.fsync(meta_file.fileno())
            try:
                os.rename(temp_dir, target)
            except OSError as error:
                raise FileExists(file_id) from error
            _fsync_directory(self.root)  # the rename itself, durable before we answer 200
            sink.info = FileInfo(file_id, name, size, expires_at, owner, original_name)
        finally:
            shutil.rmtree(temp_dir, ignore_errors=True)

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
        info = self._read_info(file_id, directory)
        return None if info is None or info.expired() else info

    def open(self, file_id: str) -> tuple[FileInfo, BinaryIO] | None:
        info = self.info(file_id)
        directory = self._path(file_id)
        if info is None or directory is None:
            return None
        try:
            return info, open(directory / _CONTENT, "rb")
        except FileNotFoundError:  # deleted between the two calls
            return None

    def delete(self, file_id: str) -> bool:
        directory = self._path(file_id)
        if directory is None:
            return False
        graveyard = Path(tempfile.mkdtemp(prefix="del-", dir=self._temp_root))
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
            info = self._read_info(entry.name, entry)
            if info is not None and info.expired(moment) and self.delete(entry.name):
                removed += 1
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
        """Delete every temp directory: call only when no writer can be running."""
        for leftover in self._temp_root.iterdir():
            shutil.rmtree(leftover, ignore_errors=True)
