"""What every pdfbinder command shares: error exits, progress bars, JSON output.

Exit codes say what failed, so scripts can branch without parsing text:
0 success · 1 unexpected engine refusal · 2 bad usage or option ·
3 corrupt or unsupported input · 4 input over a limit · 5 password missing or wrong.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer

from pdfbinder.engine import (
    CorruptInput,
    EngineError,
    InvalidOption,
    PasswordRequired,
    ProgressCallback,
    TooLarge,
    UnsupportedInput,
    WrongPassword,
)

EXIT_USAGE = 2
_EXIT_CODES: list[tuple[type[EngineError], int]] = [
    (InvalidOption, EXIT_USAGE),
    (CorruptInput, 3),
    (UnsupportedInput, 3),
    (TooLarge, 4),
    (PasswordRequired, 5),
    (WrongPassword, 5),
]


def exit_code_for(error: EngineError) -> int:
    """The process exit code that names the kind of ``error``."""
    for kind, code in _EXIT_CODES:
        if isinstance(error, kind):
            return code
    return 1


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one line to stderr and exit with ``code``."""
    typer.echo(f"pdfbinder: error: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def engine_errors() -> Iterator[None]:
    """Turn an engine refusal into a one-line message and a meaningful exit code."""
    try:
        yield
    except EngineError as error:
        fail(error.message, exit_code_for(error))


@contextmanager
def progress_bar(label: str, *, enabled: bool = True) -> Iterator[ProgressCallback]:
    """A progress callback for the engine, drawn on stderr only when it is a terminal."""
    if not (enabled and sys.stderr.isatty()):
        # Scripts and pipes get no bar, and so do not pay for importing rich.
        yield _no_progress
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=True,
        console=None,
    ) as progress:
        task = progress.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield update


def _no_progress(done: int, total: int) -> None:
    pass


def emit_json(payload: dict[str, Any], *, err: bool = False) -> None:
    """Write one JSON document to stdout, or stderr when stdout carries the PDF."""
    import json

    typer.echo(json.dumps(payload, indent=2, sort_keys=True), err=err)
