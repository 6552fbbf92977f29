"""The Office-conversion flags, shared by ``pdfbinder serve`` and ``pdfbinder worker``.

Whichever process runs jobs keeps the LibreOffice processes, so both
commands take the same flags (and ``PDFBINDER_*`` variables), each mapping
onto a field of :class:`~pdfbinder.compat.settings.Settings`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from pdfbinder.compat.settings import Settings

OfficeProcesses = Annotated[
    int,
    typer.Option(
        "--office-processes",
        help="LibreOffice processes converting Office documents at once "
        "[env PDFBINDER_OFFICE_PROCESSES; 2].",
    ),
]
OfficeTimeout = Annotated[
    float,
    typer.Option(
        "--office-timeout",
        help="Seconds one Office document may take to convert [env PDFBINDER_OFFICE_TIMEOUT; 120].",
    ),
]
Soffice = Annotated[
    str,
    typer.Option(
        "--soffice",
        metavar="PATH",
        help="LibreOffice's soffice [env PDFBINDER_SOFFICE; soffice on PATH].",
    ),
]


def office_settings(
    *, office_processes: int | None, office_timeout: float | None, soffice: str | None
) -> dict[str, Any]:
    """The given flags as ``Settings`` fields (``None`` ones are left to the environment)."""
    return {
        "office_processes": office_processes,
        "office_timeout": office_timeout,
        "soffice": soffice,
    }


def office_status(settings: Settings) -> str:
    """One start-up line: whether this process converts Office documents, and with what."""
    from pdfbinder.engine.office.detect import DOCUMENT_EXTENSIONS
    from pdfbinder.engine.office.pool import OfficeUnavailable, find_office

    try:
        install = find_office(settings.soffice)
    except OfficeUnavailable as error:
        return f"Office documents: {error.reason}"
    at_once = f"{settings.office_processes_each} at a time"
    if settings.processes > 1:
        at_once += " in each server process"
    return (
        f"Office documents ({', '.join(DOCUMENT_EXTENSIONS)}): converted by LibreOffice "
        f"({install.soffice}), {at_once}; it starts at the first one"
    )
