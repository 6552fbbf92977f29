"""Writing an output so that a failure never leaves a partial file behind.

A path output is written to a hidden temporary file in the same directory and
renamed over the target only when the whole document is written; on any error
the temporary file is removed. Stream outputs are written to directly: the
caller owns their lifetime.

There is no fsync here: the rename already guarantees that no process ever
sees a partial file, even if this one crashes mid-write. Surviving power loss
is a storage policy, not an engine one — the server's file store syncs the
files it accepts — and an fsync per output costs more than embedding a JPEG.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import BinaryIO, Union

Destination = Union[str, "os.PathLike[str]", BinaryIO]


@contextmanager
def atomic_output(destination: Destination) -> Iterator[BinaryIO]:
    """Yield a binary stream for ``destination``; commit it only on success."""
    if not isinstance(destination, (str, os.PathLike)):
        yield destination
        return
    target = os.fspath(destination)
    directory = os.path.dirname(os.path.abspath(target))
    temp_path = os.path.join(directory, f".pdfbinder-{os.urandom(8).hex()}.part")
    # 0o666 filtered by the umask, like any file the user creates (mkstemp would force 0o600).
    fd = os.open(temp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        os.replace(temp_path, target)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temp_path)
        raise
