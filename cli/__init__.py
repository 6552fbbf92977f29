"""The ``pdfbinder`` command line; :func:`main` is the console script."""

from __future__ import annotations

import gc

YOUNG_COLLECTION_THRESHOLD = 50_000
"""Allocations between two collections of the youngest generation during a one-job run."""


def main() -> None:
    """Console-script entry point: :func:`pdfbinder.cli.app.main` with start-up made cheaper.

    Start-up creates tens of thousands of objects that live as long as the process
    (modules, classes, functions of Typer, pikepdf and the engine), and the default
    threshold of 700 allocations has the collector walk them again and again while
    they are imported. A one-job command (``ONE_JOB_COMMANDS``) keeps the higher
    threshold to its end: cycles are still collected, only less often. Every other
    command (the server, a worker, help) runs with the usual threshold.
    """
    usual = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, *usual[1:])
    from .app import ONE_JOB_COMMANDS, named_command
    from .app import main as run

    if named_command() not in ONE_JOB_COMMANDS:
        gc.set_threshold(*usual)
    run()
