"""``pdfbinder merge IN... -o OUT.pdf``: merge PDFs, images, ZIPs and Office documents.

PDFs keep their outlines, links, forms and labels; images are embedded
losslessly; ZIP archives contribute their members in order; Office and text
documents (doc, docx, odt, rtf, txt, xls, xlsx, ods, csv, ppt, pptx, odp) are
converted by LibreOffice, which starts only when there is one.
An input is a path, optionally followed by ``:`` and a page range in qpdf's
grammar (``report.pdf:1-3,z``, ``scan.pdf:r1``); ``--collate fronts.pdf backs.pdf:z-1``
puts a duplex scan's pages back in order. A path that exists as given
is never split, so file names containing colons still work. ``--password``
applies to every input without its own; ``--password-for FILE=SECRET`` (repeatable)
gives one input its own password, matched against the path as typed or its
file name.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from .common import EXIT_USAGE, emit_json, engine_errors, fail, progress_bar

if TYPE_CHECKING:
    from pdfbinder.engine.office.pool import OfficePool

OUTLINE_CHOICES = ("keep", "nest", "drop")


def parse_input(argument: str) -> tuple[str, str | None]:
    """Split ``file.pdf:1-3`` into the path and its page range (None: all pages)."""
    if os.path.exists(argument):
        return argument, None
    for position, char in enumerate(argument):
        if char == ":" and position > 0 and os.path.isfile(argument[:position]):
            return argument[:position], argument[position + 1 :]
    return argument, None


def parse_passwords(pairs: list[str]) -> dict[str, str]:
    """``FILE=SECRET`` pairs as a mapping; the secret may itself contain ``=``."""
    found: dict[str, str] = {}
    for pair in pairs:
        name, separator, secret = pair.partition("=")
        if not separator or not name:
            fail(f"--password-for expects FILE=PASSWORD, got {pair!r}", EXIT_USAGE)
        found[name] = secret
    return found


def merge(
    inputs: list[str] = typer.Argument(
        ...,
        metavar="IN...",
        help="PDFs, images, ZIPs or Office documents, each optionally FILE:RANGE (qpdf grammar).",
    ),
    output: Path = typer.Option(..., "--output", "-o", help="The merged PDF to write."),
    password: str | None = typer.Option(None, help="Password for every encrypted input."),
    password_for: list[str] = typer.Option(
        [], "--password-for", metavar="FILE=PASSWORD", help="Password for one input (repeatable)."
    ),
    outline: str = typer.Option("keep", help="Bookmarks: keep, nest (one per file) or drop."),
    linearize: bool = typer.Option(False, help="Write a linearized (fast web view) PDF."),
    attach_sources: bool = typer.Option(
        False, help="Embed every input file, unchanged, in the PDF (name, size, checksums)."
    ),
    pad_to_even: bool = typer.Option(
        False,
        "--pad-to-even",
        help="Add a blank page after each input with an odd page count (double-sided printing).",
    ),
    collate: bool = typer.Option(
        False,
        "--collate",
        help="Page 1 of every input, then page 2, ... (fronts.pdf backs.pdf:z-1 for duplex scans).",
    ),
    title: str | None = typer.Option(None, help="Document title (default: the first input's)."),
    json_output: bool = typer.Option(False, "--json", help="Print a JSON report on stdout."),
    progress: bool = typer.Option(True, help="Show a progress bar on a terminal."),
    soffice: str | None = typer.Option(
        None,
        metavar="PATH",
        envvar="PDFBINDER_SOFFICE",
        help="LibreOffice's soffice, for Office documents [default: soffice on PATH].",
    ),
    office_timeout: float = typer.Option(
        120.0,
        envvar="PDFBINDER_OFFICE_TIMEOUT",
        min=0.001,
        help="Seconds one Office document may take to convert.",
    ),
) -> None:
    """Merge PDFs, images, ZIPs and Office documents in order into one PDF, keeping every
    input's bookmarks, links, forms and labels."""
    from pdfbinder.engine import PdfInput, merge_any

    def office() -> OfficePool:
        from pdfbinder.engine.office.pool import OfficePool  # only a document needs it

        return OfficePool(processes=1, timeout=office_timeout, soffice=soffice)

    if outline not in OUTLINE_CHOICES:
        fail(f"--outline must be one of {', '.join(OUTLINE_CHOICES)}, not {outline!r}", EXIT_USAGE)
    if pad_to_even and collate:
        fail("--pad-to-even and --collate cannot be combined", EXIT_USAGE)
    passwords = parse_passwords(password_for)
    items = []
    for argument in inputs:
        path, pages = parse_input(argument)
        own = passwords.get(path, passwords.get(os.path.basename(path)))
        items.append(PdfInput(path, pages=pages, password=own))
    with (
        engine_errors(),
        progress_bar("Merging", enabled=progress) as on_progress,
    ):
        report = merge_any(
            items,
            output,
            password=password,
            outline=outline,
            linearize=linearize,
            pad_to_even=pad_to_even,
            collate=collate,
            title=title,
            on_progress=on_progress,
            office=office,
            attach_sources=attach_sources,
        )
    for warning in report.warnings:
        typer.echo(f"pdfbinder: warning: {warning}", err=True)
    if json_output:
        emit_json(
            {"output": str(output), **asdict(report), "provenance": report.provenance.to_json()}
        )
