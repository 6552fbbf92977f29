"""Writing an output so that a failure never leaves a partial file behind.

A path output is written to a hidden temporary file in the same directory and
renamed over the target only when the whole document is written; on any error
the temporary file is removed. Stream outputs are written to directly: the
caller owns their lifetime.
"""

from __future__ import annotations

import os
import tempfile
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
    fd, temp_path = tempfile.mkstemp(prefix=".pdfbinder-", suffix=".part", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_path, target)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temp_path)
        raise
