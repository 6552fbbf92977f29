"""Warnings from the libraries the engine calls (Pillow, pikepdf), caught for the report.

Pillow and pikepdf tell about damaged or odd input through Python's
``warnings`` ("Truncated File Read", "Invalid APNG", "A password was provided,
but no password was needed"), and qpdf through pikepdf's logger ("Pages tree
includes non-dictionary object; ignoring"). Left alone, these reach stderr as
raw Python warnings and log lines (or, under a strict warnings filter, become
exceptions inside the library). Inside :func:`capture_library_warnings`
every warning and pikepdf log record the current thread raises is collected
instead, for the engine to put in its report with the input it came from.

``warnings.catch_warnings`` cannot do this: it swaps process-wide state on
enter and restores it on exit, so two engine calls in two server threads
would restore each other's state and lose or leak warnings. Here one router
is installed while any capture runs, and each warning goes to the collector
of the thread (context) that raised it; warnings from other threads pass
through to whatever handled them before.
"""

from __future__ import annotations

import logging
import re
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, cast

_collector: ContextVar[list[str] | None] = ContextVar("library_warnings", default=None)
_lock = threading.Lock()
_captures = 0
_passed_on: Callable[..., Any] | None = None
_loggers_seen = 0  # how many loggers existed when pikepdf's last got the filter
# Matches every message, and marks the entry as ours: an "always" filter ahead of the
# others, so a repeated warning is reported each time and none is turned into an error.
_MARK = re.compile("(?#pdfbinder)", re.IGNORECASE)  # as filterwarnings compiles it
_ALWAYS = ("always", _MARK, Warning, None, 0)


def _route(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    collected = _collector.get()
    if collected is not None:
        collected.append(_first_line(message))
    elif _passed_on is not None:
        _passed_on(message, category, filename, lineno, file, line)


def _first_line(message: object) -> str:
    lines = str(message).strip().splitlines()
    return lines[0].strip() if lines else type(message).__name__


class _LogFilter(logging.Filter):
    """On pikepdf's loggers: a record raised during a capture goes to it, and nowhere else."""

    def filter(self, record: logging.LogRecord) -> bool:
        collected = _collector.get()
        if collected is None:
            return True
        if record.getMessage().strip():
            collected.append(_first_line(record.getMessage()))
        return False


_log_filter = _LogFilter()


def _library_loggers() -> list[logging.Logger]:
    """pikepdf's loggers (a filter applies only to records made on its own logger)."""
    names = [name for name in logging.root.manager.loggerDict if name.split(".")[0] == "pikepdf"]
    return [logging.getLogger(name) for name in ["pikepdf", *names]]


def _install() -> None:
    global _passed_on, _loggers_seen
    # Filters stay on once added, so only a logger made since the last look can lack
    # one: the scan runs when the registry has grown, not at every capture.
    registered = len(logging.root.manager.loggerDict)
    if registered != _loggers_seen:
        for logger in _library_loggers():
            if _log_filter not in logger.filters:
                logger.addFilter(_log_filter)
        _loggers_seen = registered
    if warnings.showwarning is not _route:
        _passed_on = warnings.showwarning
        warnings.showwarning = _route
    if not warnings.filters or warnings.filters[0] != _ALWAYS:
        warnings.filterwarnings("always", _MARK.pattern)


def _uninstall() -> None:
    if warnings.showwarning is _route and _passed_on is not None:
        warnings.showwarning = _passed_on
    filters = cast(list[Any], warnings.filters)  # typed as a Sequence, but it is the list
    while _ALWAYS in filters:
        filters.remove(_ALWAYS)


@contextmanager
def capture_library_warnings() -> Iterator[list[str]]:
    """Collect the warnings raised in this thread meanwhile (first lines, in order)."""
    global _captures
    collected: list[str] = []
    token = _collector.set(collected)
    with _lock:
        _install()
        _captures += 1
    try:
        yield collected
    finally:
        _collector.reset(token)
        with _lock:
            _captures -= 1
            if _captures == 0:
                _uninstall()


def distinct(messages: list[str]) -> list[str]:
    """``messages`` without repeats, in first-seen order, each repeat counted."""
    counts: dict[str, int] = {}
    for message in messages:
        counts[message] = counts.get(message, 0) + 1
    return [message if count == 1 else f"{message} (×{count})" for message, count in counts.items()]
