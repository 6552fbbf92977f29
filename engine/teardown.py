"""What becomes of a document once its job is done: freed at once, or left to the exit.

Freeing a merged document is work in proportion to its size: qpdf releases it
object by object, a tenth of a 10,000-page merge. A process that ends right
after its one job, as a command-line run does, can leave that to the operating
system, which takes back the whole heap at once. Such a process calls
:func:`leave_to_exit` before the job and ends with ``os._exit``. Every other
caller (the server, a library user) frees each document when it is done, as
without this module.
"""

from __future__ import annotations

_left: list[object] | None = None


def leave_to_exit() -> None:
    """Keep finished documents until this process ends, which it must do by ``os._exit``."""
    global _left
    if _left is None:
        _left = []


def finished(document: object) -> None:
    """``document`` is done with: kept for the exit if asked, else freed by its last reference."""
    if _left is not None:
        _left.append(document)
