"""The ``pdfbinder`` command: one Typer app, one module per command.

Start-up is most of what a one-file ``convert`` or ``merge`` costs, so a run
imports the module of the command it names and no other; the command modules
import only Typer and the standard library at load time, and each command
imports the engine half (or the server stack) it uses when it runs.
"""

from __future__ import annotations

import atexit
import os
import sys
from collections.abc import Callable, Iterable
from importlib import import_module
from typing import Any, NoReturn

import typer

from pdfbinder.engine import __version__

# Each command is the function of the same name in the module of the same name.
COMMANDS = ("convert", "merge", "inspect", "serve", "worker", "demo")
ONE_JOB_COMMANDS = ("convert", "merge", "inspect")
"""Commands that do one job and end, so their run ends without unwinding the heap."""


def named_command() -> str | None:
    """The first word of the command line: the command, when it names one."""
    return sys.argv[1] if len(sys.argv) > 1 else None


def command(name: str) -> Callable[..., Any]:
    """The function behind command ``name``, its module imported now."""
    function: Callable[..., Any] = getattr(import_module(f"{__package__}.{name}"), name)
    return function


def _print_version(requested: bool) -> None:
    if requested:
        typer.echo(f"pdfbinder {__version__}")
        raise typer.Exit()


def _options(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_print_version,
        is_eager=True,
        help="Print pdfbinder's version and exit.",
    ),
) -> None:
    """Offline images → PDF and PDF merge, with a PDF.co-compatible API server."""


def build_app(commands: Iterable[str] = COMMANDS) -> typer.Typer:
    """The ``pdfbinder`` group holding ``commands`` (all of them by default)."""
    built = typer.Typer(
        name="pdfbinder",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        # Help texts carry literal brackets ("[env PDFBINDER_PORT; 8080]"), not rich markup.
        rich_markup_mode=None,
    )
    built.callback()(_options)
    for name in commands:
        built.command(name)(command(name))
    return built


def main() -> None:
    """Run the command line (the console script, :func:`pdfbinder.cli.main`, calls this).

    It ends the process: a one-job command (``ONE_JOB_COMMANDS``) by ``os._exit``
    once its exit handlers have run. To run commands inside a process that goes
    on, call the Typer app from :func:`build_app` instead.
    """
    # Typer turns the signature of every registered command into options before it
    # dispatches; for all five that is several times what one command's takes (serve
    # and worker have some forty options), so a run naming its command builds only it.
    # The group stays a group, so usage lines, help and errors read the same.
    named = named_command()
    app = build_app([named] if named in COMMANDS else COMMANDS)
    if named not in ONE_JOB_COMMANDS:
        _run(app)
        return
    from pdfbinder.engine.teardown import leave_to_exit

    leave_to_exit()
    try:
        _run(app)
    except SystemExit as ended:
        _exit_now(ended.code)
    _exit_now(0)


def _run(app: typer.Typer) -> None:
    """Run ``app``; an error of the system that reaches the top (above all, standard
    output on a full disk) ends it with one line, not a traceback.

    Every command turns the errors it expects into a message of its own, and Typer
    ends a run whose reader went away (``pdfbinder inspect a.pdf | head -1``) quietly
    with status 1.
    """
    try:
        app()
    except OSError as error:
        _drop_standard_output()
        raise SystemExit(f"pdfbinder: {_describe(error)}") from None


def _describe(error: OSError) -> str:
    reason = error.strerror or str(error)
    return f"{reason}: {error.filename}" if error.filename else reason


def _drop_standard_output() -> None:
    """When standard output can no longer be written, point it at the null device, so
    that the flush at exit does not fail again over what it still holds."""
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)


def _exit_now(code: object) -> NoReturn:
    """End a one-job run as ``sys.exit(code)`` would, without unwinding the heap first.

    The job's output is written and closed by now; what is left is freeing
    memory, which the operating system does at once. Exit handlers still run
    (log handlers, a coverage tool's), the standard streams are flushed, and a
    failed flush fails the run, as at a normal exit.
    """
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        print(code, file=sys.stderr)
        status = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            status = status or 120  # what Python itself returns when the final flush fails
    os._exit(status)
