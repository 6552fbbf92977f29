"""Serve remote source URLs from local files, for air-gapped sites and tests.

Two forms, chosen by what ``--url-map PATH`` points at:

* a directory: an offline mirror laid out as ``PATH/<host>/<path>`` — what
  ``wget --mirror`` writes — so ``https://h.example/a/b.png`` is
  ``PATH/h.example/a/b.png`` (the query string is ignored);
* a JSON file: an object mapping full URLs to local paths (relative paths are
  relative to the JSON file).

A URL the map does not know is not an error here: the caller decides whether
to fetch it from the network.

A URL can only name files inside the mirror: a host or path segment that is
``.`` or ``..``, or that decodes to one holding ``/`` or NUL, matches nothing.
That is checked on the URL's text, so a lookup costs one ``stat`` (which also gives
the file's size): it runs for every source of every job. Symbolic links inside the
mirror are followed, as the operator who put them there meant.
"""

from __future__ import annotations

import functools
import json
import os
import stat
from pathlib import Path
from urllib.parse import unquote, urlsplit


class UrlMap:
    """Looks up the local file standing in for a remote URL."""

    def __init__(self, location: Path) -> None:
        self.location = location
        self._root = str(location.resolve())
        self._table: dict[str, str] | None = None
        if location.is_file():
            try:
                entries = json.loads(location.read_text(encoding="utf-8"))
            except ValueError as error:
                raise ValueError(f"{location}: not valid JSON ({error})") from None
            if not isinstance(entries, dict):
                raise ValueError(f"{location}: a URL map file must be a JSON object")
            self._table = {
                str(url): str(location.parent / str(path)) for url, path in entries.items()
            }
        elif not location.is_dir():
            raise ValueError(f"{location}: URL map not found (expected a directory or JSON file)")

    def find(self, url: str) -> tuple[str, int] | None:
        """The local file's path for ``url`` and its size in bytes (from the same
        ``stat``), or ``None`` when the map has no entry for it."""
        if self._table is not None:
            path = self._table.get(url)
            if path is None:
                return None
            return _regular(path, _file_status(path))
        # Only short URLs are remembered: a client's megabyte-long ones would otherwise stay
        # in memory, a thousand of them.
        lookup = _mirror_path if len(url) <= _REMEMBERED_URL_LENGTH else _mirror_path.__wrapped__
        candidate = lookup(self._root, url)
        if candidate is None:
            return None
        found = _file_status(candidate)
        if found is not None and stat.S_ISDIR(found.st_mode):
            candidate = os.path.join(candidate, "index.html")
            found = _file_status(candidate)
        return _regular(candidate, found)


_REMEMBERED_URL_LENGTH = 2048
"""Longest URL whose place in the mirror is remembered (1,024 of them: a few MB at most)."""


@functools.lru_cache(maxsize=1024)
def _mirror_path(root: str, url: str) -> str | None:
    """Where ``url`` is in a mirror directory at ``root`` (``<host>/<path>``), or ``None``
    when it names nothing there (remembered: a job looks each source up twice, and a
    server sees the same URLs again and again; what is there is asked each time)."""
    parts = urlsplit(url)
    names = [(parts.hostname or "").lower()]
    names += [unquote(piece) for piece in parts.path.split("/") if piece]
    if not names[0] or any(_unsafe(name) for name in names):
        return None
    return os.path.join(root, *names)


def _file_status(path: str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except (OSError, ValueError):  # missing, or a name the file system cannot take
        return None


def _regular(path: str, status: os.stat_result | None) -> tuple[str, int] | None:
    """``path`` and its size when ``status`` says it is a regular file (links followed).
    A string, not a ``Path``: it is looked up twice in a small job, and opened by name."""
    if status is None or not stat.S_ISREG(status.st_mode):
        return None
    return path, status.st_size


def _unsafe(name: str) -> bool:
    """Whether a decoded URL segment could step out of its directory."""
    return name in (".", "..") or "/" in name or "\x00" in name
