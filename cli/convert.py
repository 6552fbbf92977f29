"""``pdfbinder convert IMAGE... -o OUT.pdf``: images to one PDF, losslessly, one page per frame.

``-`` as an input reads that image from standard input; ``-o -`` writes the
PDF to standard output (then ``--json`` goes to standard error so the two
never mix). A failing input leaves no output file behind.
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import TYPE_CHECKING

import typer

from pdfbinder.engine import NamedSource, Source
from pdfbinder.engine.images import DEFAULT_MAX_PIXELS

from .common import EXIT_USAGE, emit_json, engine_errors, fail, progress_bar

if TYPE_CHECKING:
    from pdfbinder.engine.output import Destination

STDIO = "-"


def _sources(images: list[str]) -> list[Source | NamedSource]:
    if images.count(STDIO) > 1:
        fail("standard input can be read only once: give '-' at most once", EXIT_USAGE)
    return [
        NamedSource(sys.stdin.buffer.read(), "<stdin>") if image == STDIO else image
        for image in images
    ]


def _date(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        fail(
            f"{option} expects an ISO 8601 date like 2024-05-06T07:08:09+00:00, got {value!r}",
            EXIT_USAGE,
        )


def convert(
    images: list[str] = typer.Argument(
        ..., metavar="IMAGE...", help="Image files ('-' reads one from stdin)."
    ),
    output: str = typer.Option(..., "--output", "-o", help="The PDF to write ('-' for stdout)."),
    page_size: str | None = typer.Option(
        None,
        help="A0–A10, B0–B10, Letter, Legal, Tabloid or WxH with a unit (210x297mm). "
        "Default: each image's own size at its DPI.",
    ),
    fit: str = typer.Option(
        "into", help="into, fill, exact, shrink or enlarge (with --page-size)."
    ),
    margin: str | None = typer.Option(None, help="Margin around each image, e.g. 10mm, 0.5in, 36."),
    auto_orient: bool = typer.Option(False, help="Turn the page to match the image's orientation."),
    title: str | None = typer.Option(None, help="Document title."),
    author: str | None = typer.Option(None, help="Document author."),
    subject: str | None = typer.Option(None, help="Document subject."),
    keywords: str | None = typer.Option(None, help="Document keywords."),
    creator: str | None = typer.Option(None, help="Creating application."),
    creation_date: str | None = typer.Option(None, help="Creation date (ISO 8601)."),
    deterministic: bool = typer.Option(
        False, help="Byte-reproducible output: no current time, content-derived file ID."
    ),
    max_pixels: int = typer.Option(DEFAULT_MAX_PIXELS, help="Refuse any image frame larger."),
    attach_sources: bool = typer.Option(
        False, help="Embed every input file, unchanged, in the PDF (name, size, checksums)."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print a JSON summary."),
    progress: bool = typer.Option(True, help="Show a progress bar on a terminal."),
) -> None:
    """Convert images (JPEG, PNG, TIFF, GIF, BMP, WebP, JPEG 2000, ...) into one PDF."""
    from pdfbinder.engine import images_to_pdf

    sources = _sources(images)
    created = _date(creation_date, "--creation-date")
    destination: Destination = sys.stdout.buffer if output == STDIO else output
    with engine_errors(), progress_bar("Converting", enabled=progress) as on_progress:
        report = images_to_pdf(
            sources,
            destination,
            page_size=page_size,
            fit=fit,
            margin=margin,
            auto_orient=auto_orient,
            title=title,
            author=author,
            subject=subject,
            keywords=keywords,
            creator=creator,
            creation_date=created,
            deterministic=deterministic,
            max_pixels=max_pixels,
            on_progress=on_progress,
            attach_sources=attach_sources,
        )
    if output == STDIO:
        sys.stdout.buffer.flush()
    for warning in report.warnings:
        typer.echo(f"pdfbinder: warning: {warning}", err=True)
    if json_output:
        summary = {
            "output": output,
            "pages": report.page_count,
            "warnings": report.warnings,
            "inputs": [
                {"name": item.name, "pages": item.pages, "embedded": item.methods}
                for item in report.inputs
            ],
            "provenance": report.provenance.to_json(),
        }
        emit_json(summary, err=output == STDIO)
