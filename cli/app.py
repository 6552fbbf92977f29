"""The ``pdfbinder`` command: one Typer app, one module per command."""

from __future__ import annotations

import typer

from .convert import convert
from .demo import demo
from .merge import merge
from .serve import serve
from .worker import worker

app = typer.Typer(
    name="pdfbinder",
    help="Offline images → PDF and PDF merge, with a PDF.co-compatible API server.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Help texts carry literal brackets ("[env PDFBINDER_PORT; 8080]"), not rich markup.
    rich_markup_mode=None,
)
app.command()(convert)
app.command()(merge)
app.command()(serve)
app.command()(worker)
app.command()(demo)


def main() -> None:
    """Console-script entry point."""
    app()
