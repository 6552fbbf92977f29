"""``pdfbinder inspect FILE...``: what convert or merge would do with these files, writing nothing.

Inputs are given as for ``merge`` (``report.pdf:1-3``, ``--password``,
``--password-for``); ``--for convert`` plans ``pdfbinder convert`` instead,
with its layout options. Each input is described (an image's format, size,
DPI, orientation, colour, ICC profile, alpha and whether its data is copied
as it is or re-encoded losslessly and why; a PDF's pages, encryption,
repairs, bookmarks, fields and labels; a ZIP's members; an Office document's
type), then the plan: pages, bookmarks, renamed fields. A bad input is a line
of the report, not an error; the exit code still says whether the real run
would stop (3 corrupt or unsupported, 4 over a limit, 5 password).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import typer

from .common import EXIT_USAGE, emit_json, exit_code_for, fail
from .merge import OUTLINE_CHOICES, parse_input, parse_passwords

if TYPE_CHECKING:
    from pdfbinder.engine.preflight import Operation

PURPOSES: dict[str, Operation] = {"merge": "merge_any", "convert": "images_to_pdf"}


def inspect(
    inputs: list[str] = typer.Argument(
        ...,
        metavar="FILE...",
        help="Files as merge takes them (FILE:RANGE for a page range), or images for convert.",
    ),
    purpose: str = typer.Option(
        "merge", "--for", metavar="COMMAND", help="Plan for merge (default) or convert."
    ),
    password: str | None = typer.Option(None, help="Password for every encrypted input."),
    password_for: list[str] = typer.Option(
        [], "--password-for", metavar="FILE=PASSWORD", help="Password for one input (repeatable)."
    ),
    outline: str = typer.Option("keep", help="Bookmarks: keep, nest (one per file) or drop."),
    pad_to_even: bool = typer.Option(False, "--pad-to-even", help="As merge's option."),
    collate: bool = typer.Option(False, "--collate", help="As merge's option."),
    page_size: str | None = typer.Option(None, help="With --for convert: as convert's option."),
    fit: str = typer.Option("into", help="With --for convert: as convert's option."),
    margin: str | None = typer.Option(None, help="With --for convert: as convert's option."),
    auto_orient: bool = typer.Option(False, help="With --for convert: as convert's option."),
    json_output: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Describe inputs and plan the output of merge or convert, without writing anything."""
    from pdfbinder import engine
    from pdfbinder.engine.preflight import inspect_inputs

    operation = PURPOSES.get(purpose)
    if operation is None:
        fail(f"--for must be merge or convert, not {purpose!r}", EXIT_USAGE)
    if outline not in OUTLINE_CHOICES:
        fail(f"--outline must be one of {', '.join(OUTLINE_CHOICES)}, not {outline!r}", EXIT_USAGE)
    if pad_to_even and collate:
        fail("--pad-to-even and --collate cannot be combined", EXIT_USAGE)
    layout_given = page_size is not None or margin is not None or auto_orient or fit != "into"
    if layout_given and purpose != "convert":
        fail("--page-size, --fit, --margin and --auto-orient need --for convert", EXIT_USAGE)
    passwords = parse_passwords(password_for)
    items: list[Any] = list(inputs)
    if purpose == "merge":
        items = _merge_inputs(inputs, passwords)
    try:
        report = inspect_inputs(
            items,
            operation=operation,
            password=password,
            outline=outline,
            pad_to_even=pad_to_even,
            collate=collate,
            page_size=page_size,
            fit=fit,
            margin=margin,
            auto_orient=auto_orient,
        )
    except engine.EngineError as error:
        fail(error.message, exit_code_for(error))
    if json_output:
        emit_json(report.to_dict())
    else:
        typer.echo("\n".join(describe(report.to_dict())))
    problems = [item for item in _all_inputs(report.inputs) if item.problem_kind is not None]
    if problems:
        kind = getattr(engine, problems[0].problem_kind or "", engine.EngineError)
        raise typer.Exit(exit_code_for(kind("")))
    if report.plan.refused:
        raise typer.Exit(1)


def _merge_inputs(arguments: list[str], passwords: dict[str, str]) -> list[Any]:
    """Inputs as ``merge`` reads them: page ranges after a colon, passwords by file."""
    from pdfbinder.engine.merge.merge import PdfInput

    items = []
    for argument in arguments:
        path, pages = parse_input(argument)
        own = passwords.get(path, passwords.get(os.path.basename(path)))
        items.append(PdfInput(path, pages=pages, password=own))
    return items


def _all_inputs(inputs: list[Any]) -> list[Any]:
    return [item for top in inputs for item in (top, *top.members)]


def describe(report: dict[str, Any]) -> list[str]:
    """The report as lines for a person: one block per input, then the plan."""
    lines: list[str] = []
    for item in report["inputs"]:
        lines += _input_lines(item, "")
    plan = report["plan"]
    pages = plan["page_count"]
    lines.append("")
    lines.append(
        f"Plan ({plan['operation']}): "
        + (f"{pages} page{'s' if pages != 1 else ''}" if pages is not None else "nothing to plan")
        + (
            f" + pages of {len(plan['unconverted'])} Office document(s)"
            if plan["unconverted"]
            else ""
        )
    )
    if plan["page_sizes"]:
        sizes = sorted({f"{w:g} x {h:g} pt" for w, h in plan["page_sizes"]})
        lines.append(f"  page sizes: {', '.join(sizes)}")
    if plan["bookmarks"]:
        lines.append("  bookmarks:")
        lines += _bookmark_lines(plan["bookmarks"], "    ")
    for old, new in plan["renamed_fields"].items():
        lines.append(f"  renamed field: {old} -> {new}")
    for name in plan["unconverted"]:
        lines.append(f"  converted by LibreOffice when run: {name}")
    for warning in plan["warnings"]:
        lines.append(f"  warning: {warning}")
    for refusal in plan["refused"]:
        lines.append(f"  would stop: {refusal}")
    return lines


def _input_lines(item: dict[str, Any], indent: str) -> list[str]:
    head = f"{indent}{item['index'] + 1}. {item['name']} [{item['kind']}]"
    if item["problem"] is not None:
        return [f"{head} PROBLEM ({item['problem_kind']}): {item['problem']}"]
    lines = [head]
    more = indent + "   "
    if item["office"] is not None:
        lines.append(f"{more}{item['office']} document: converted to PDF by LibreOffice when run")
    image = item["image"]
    if image is not None:
        for number, frame in enumerate(image["frames"], start=1):
            prefix = f"frame {number}: " if len(image["frames"]) > 1 else ""
            lines.append(f"{more}{prefix}{_frame_text(image['format'], frame)}")
            how = "COPIED AS IS" if frame["embedding"] == "copied" else "RE-ENCODED LOSSLESSLY"
            lines.append(f"{more}  {how} ({frame['method']}): {frame['reason']}")
    pdf = item["pdf"]
    if pdf is not None:
        lines += [f"{more}{line}" for line in _pdf_lines(pdf)]
    for member in item["members"]:
        lines += _input_lines(member, more)
    lines += [f"{more}warning: {warning}" for warning in item["warnings"]]
    return lines


def _frame_text(image_format: str, frame: dict[str, Any]) -> str:
    dpi = frame["dpi"]
    resolution = f"{dpi[0]:g}x{dpi[1]:g} dpi" if dpi[0] != dpi[1] else f"{dpi[0]:g} dpi"
    if not frame["dpi_from_file"]:
        resolution += " (default)"
    bits = f", {frame['bits']}-bit" if frame["bits"] else ""
    icc = frame["icc"]
    profile = (
        f", ICC {icc['colour_space']} '{icc['description'] or '?'}' ({icc['size']} bytes)"
        if icc
        else ", no ICC profile"
    )
    width, height = frame["page_size"]
    return (
        f"{image_format} {frame['width']}x{frame['height']} px, {resolution}, "
        f"EXIF orientation {frame['orientation']}, {frame['colour']}{bits}{profile}, "
        f"{'alpha' if frame['alpha'] else 'no alpha'}; page {width:g} x {height:g} pt"
    )


def _pdf_lines(pdf: dict[str, Any]) -> list[str]:
    pages = f"{pdf['pages']} pages"
    if pdf["selected_pages"] != pdf["pages"]:
        pages += f" ({pdf['selected_pages']} selected)"
    encryption = "not encrypted"
    if pdf["encrypted"]:
        opened = {
            "empty": "opens without a password",
            "user": "opened with the user password",
            "owner": "opened with the owner password",
        }[pdf["password"]]
        encryption = f"encrypted ({pdf['encryption']}), {opened}"
    lines = [f"PDF {pdf['version']}, {pages}, {encryption}"]
    if pdf["damaged"]:
        lines.append(f"damaged, repairable: {'; '.join(pdf['repairs'])}")
    lines.append(f"{pdf['outline_items']} bookmarks")
    if pdf["fields"]:
        lines.append(f"form fields: {', '.join(pdf['fields'])}")
    for old, new in pdf["renamed_fields"].items():
        lines.append(f"  field {old} would be renamed {new}")
    for label in pdf["page_labels"]:
        style = label["style"] or "no number"
        prefix = f", prefix '{label['prefix']}'" if label["prefix"] else ""
        lines.append(
            f"page labels from page {label['first_page']}: {style} from {label['start']}{prefix}"
        )
    return lines


def _bookmark_lines(marks: list[dict[str, Any]], indent: str) -> list[str]:
    lines = []
    for mark in marks:
        page = f"page {mark['page']}" if mark["page"] is not None else "no page"
        lines.append(f"{indent}{mark['title']} -> {page}")
        lines += _bookmark_lines(mark["children"], indent + "  ")
    return lines
