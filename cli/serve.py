"""``pdfbinder serve``: run the PDF.co-compatible HTTP server.

Every option maps onto a field of :class:`~pdfbinder.compat.settings.Settings`;
options left out keep the value from the ``PDFBINDER_*`` environment variables
(or the default). One server process, or ``--processes N`` of them under
uvicorn's supervisor (which replaces one that dies): the parent resolves the
settings once and hands them to every child whole, in one environment variable.
``--workers`` sets each process's job threads.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from .common import EXIT_USAGE, fail
from .office_options import OfficeProcesses, OfficeTimeout, Soffice, office_settings, office_status
from .scale_options import (
    Broker,
    JobStore,
    PresignSecret,
    S3Endpoint,
    S3Redirect,
    S3Region,
    Store,
    VisibilityTimeout,
    scale_settings,
)
from .settings_flags import check_cluster_flags, settings_from_flags

if TYPE_CHECKING:
    from fastapi import FastAPI

_SETTINGS_ENV = "PDFBINDER_RESOLVED_SETTINGS"
"""The parent's settings, as JSON, for the server processes it starts."""
_HEALTHCHECK_SECONDS = 30
"""How long uvicorn's supervisor waits for a child's answer before it kills it as hung; a
child busy with jobs on a loaded machine can take seconds to answer."""


def configure_logging() -> None:
    """Access-log lines (already JSON) and server warnings, one per line, on stderr."""
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    # A line shows its message only: the thread and process names every record would
    # otherwise look up (a system call among them) were a third of an access line's cost.
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    root = logging.getLogger("pdfbinder")
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    root.propagate = False


def serve(
    host: str = typer.Option(None, help="Interface to listen on [env PDFBINDER_HOST; 127.0.0.1]."),
    port: int = typer.Option(None, help="TCP port [env PDFBINDER_PORT; 8080]."),
    data_dir: Path = typer.Option(
        None,
        "--data-dir",
        help="Stored files and job records [env PDFBINDER_DATA_DIR; "
        "$XDG_STATE_HOME/pdfbinder or ~/.local/state/pdfbinder].",
    ),
    workers: int = typer.Option(
        None, help="Job worker threads in each process [env PDFBINDER_WORKERS; CPUs]."
    ),
    processes: int = typer.Option(
        None,
        help="Server processes sharing the port, jobs and files, each using about one core "
        "[env PDFBINDER_PROCESSES; 1]. Each admits its share of --max-jobs-per-key and "
        "--max-queue (rounded up) and runs its share of --office-processes (at least 1).",
    ),
    api_key: list[str] = typer.Option(
        None,
        "--api-key",
        help="Accepted API key (repeatable). Without any, any or no key is accepted.",
    ),
    allow_remote: bool = typer.Option(
        None,
        "--allow-remote/--offline",
        help="Fetch http(s) sources and send remote callbacks [default: offline].",
    ),
    url_map: Path = typer.Option(
        None,
        "--url-map",
        help="Serve remote URLs from a mirror directory (<host>/<path>) or a JSON file.",
    ),
    https: bool = typer.Option(
        False,
        "--https",
        help="Serve TLS with a local CA and localhost certificate made once in <data-dir>/tls; "
        "prints the lines that make Python, Node.js, cURL, Java and .NET clients trust it.",
    ),
    allow_host: list[str] = typer.Option(
        None,
        "--allow-host",
        help="Host, address or network remote fetches may reach although it is loopback, "
        "private or metadata (repeatable), e.g. 127.0.0.1 [env PDFBINDER_ALLOW_HOSTS].",
    ),
    allow_private_networks: bool = typer.Option(
        None,
        "--allow-private-networks/--no-private-networks",
        help="Let remote fetches reach loopback/private/link-local addresses "
        "[env PDFBINDER_ALLOW_PRIVATE_NETWORKS; off].",
    ),
    ui: bool = typer.Option(
        None,
        "--ui/--no-ui",
        help="Serve the web page for people at / [env PDFBINDER_WEB_UI; on].",
    ),
    access_log: bool = typer.Option(
        None,
        "--access-log/--no-access-log",
        help="One JSON line per request on stderr [env PDFBINDER_ACCESS_LOG; on].",
    ),
    max_file_bytes: int = typer.Option(
        None, help="Largest upload or fetched source [env PDFBINDER_MAX_FILE_BYTES; 512 MiB]."
    ),
    max_body_bytes: int = typer.Option(
        None,
        help="Largest in-memory body: JSON/form/base64 [env PDFBINDER_MAX_BODY_BYTES; 64 MiB].",
    ),
    max_pixels: int = typer.Option(
        None, help="Pixels per image [env PDFBINDER_MAX_PIXELS; 89,478,485]."
    ),
    max_inputs: int = typer.Option(
        None, help="Source URLs per job [env PDFBINDER_MAX_INPUTS_PER_JOB; 1000]."
    ),
    max_pages: int = typer.Option(
        None, help="Pages per job result [env PDFBINDER_MAX_PAGES_PER_JOB; 10000]."
    ),
    max_job_bytes: int = typer.Option(
        None, help="Input bytes per job [env PDFBINDER_MAX_JOB_BYTES; 2 GiB]."
    ),
    max_jobs_per_key: int = typer.Option(
        None, help="Queued or running jobs per API key [env PDFBINDER_MAX_JOBS_PER_KEY; 32]."
    ),
    max_queue: int = typer.Option(
        None, help="Jobs waiting for a worker [env PDFBINDER_MAX_QUEUED_JOBS; 256]."
    ),
    sync_timeout: float = typer.Option(
        None, help="Seconds before a sync request answers 445 [env PDFBINDER_SYNC_TIMEOUT; 120]."
    ),
    broker: Broker = None,  # type: ignore[assignment]
    job_store: JobStore = None,  # type: ignore[assignment]
    store: Store = None,  # type: ignore[assignment]
    s3_endpoint: S3Endpoint = None,  # type: ignore[assignment]
    s3_region: S3Region = None,  # type: ignore[assignment]
    s3_redirect_downloads: S3Redirect = None,  # type: ignore[assignment]
    presign_secret: PresignSecret = None,  # type: ignore[assignment]
    visibility_timeout: VisibilityTimeout = None,  # type: ignore[assignment]
    office_processes: OfficeProcesses = None,  # type: ignore[assignment]
    office_timeout: OfficeTimeout = None,  # type: ignore[assignment]
    soffice: Soffice = None,  # type: ignore[assignment]
) -> None:
    """Run the PDF.co-compatible API server (routes at / and /v1)."""
    # The server stack (FastAPI, uvicorn, pydantic) loads only when serving, so the
    # convert and merge commands start in a fraction of the time.
    import uvicorn

    from pdfbinder.compat.app import create_app
    from pdfbinder.compat.httpserver import HttpProtocol
    from pdfbinder.compat.testing.tls import ensure_tls, trust_lines
    from pdfbinder.compat.urlmap import UrlMap

    given: dict[str, Any] = {
        "host": host,
        "port": port,
        "data_dir": data_dir,
        "workers": workers,
        "processes": processes,
        "api_keys": api_key or None,
        "allow_remote": allow_remote,
        "url_map": url_map,
        "allow_hosts": allow_host or None,
        "allow_private_networks": allow_private_networks,
        "web_ui": ui,
        "access_log": access_log,
        "max_file_bytes": max_file_bytes,
        "max_body_bytes": max_body_bytes,
        "max_pixels": max_pixels,
        "max_inputs_per_job": max_inputs,
        "max_pages_per_job": max_pages,
        "max_job_bytes": max_job_bytes,
        "max_jobs_per_key": max_jobs_per_key,
        "max_queued_jobs": max_queue,
        "sync_timeout": sync_timeout,
        **scale_settings(
            broker=broker,
            job_store=job_store,
            store=store,
            s3_endpoint=s3_endpoint,
            s3_region=s3_region,
            s3_redirect_downloads=s3_redirect_downloads,
            presign_secret=presign_secret,
            visibility_timeout=visibility_timeout,
        ),
        **office_settings(
            office_processes=office_processes, office_timeout=office_timeout, soffice=soffice
        ),
    }
    settings = settings_from_flags(given)
    if settings.url_map is not None:
        try:
            UrlMap(settings.url_map)
        except ValueError as error:  # missing, or a JSON file that is not a URL map
            fail(f"--url-map: {error}", EXIT_USAGE)
    check_cluster_flags(settings)
    configure_logging()
    mode = "API keys required" if settings.api_keys else "no API key needed"
    remote = "remote fetching allowed" if settings.allow_remote else "offline"
    page = "web page at /" if settings.web_ui else "no web page"
    logged = "" if settings.access_log else "; no access log"
    tls: dict[str, Any] = {}
    bind_host = settings.host
    if https:
        files = ensure_tls(settings.data_dir)
        tls = {"ssl_certfile": str(files.server_cert), "ssl_keyfile": str(files.server_key)}
        # The certificate names localhost; when it is the default loopback, listen on every
        # address localhost resolves to (127.0.0.1 and/or ::1) so https://localhost works.
        if settings.host == "127.0.0.1":
            bind_host = "localhost"
        typer.echo("\n".join(trust_lines(files)))
    scheme = "https" if https else "http"
    several = f"; {settings.processes} processes" if settings.processes > 1 else ""
    typer.echo(
        f"pdfbinder serving on {scheme}://{settings.host}:{settings.port} "
        f"(data: {settings.data_dir}; {mode}; {remote}; {page}{logged}{several})",
        err=True,
    )
    if settings.broker:
        typer.echo("Office documents: converted by the workers (pdfbinder worker).", err=True)
    else:
        typer.echo(office_status(settings), err=True)
    server: dict[str, Any] = {
        "host": bind_host,
        "port": settings.port,
        "log_level": "warning",
        "access_log": False,
        "http": HttpProtocol,
        **tls,
    }
    if settings.processes == 1:
        uvicorn.run(create_app(settings), **server)
        return
    # The TLS files (above) and the data dir exist before any child starts; the children
    # share what is in it (see compat/leases.py for how they clean up after one another).
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    os.environ[_SETTINGS_ENV] = settings.model_dump_json()
    uvicorn.run(
        f"{__name__}:server_process_app",
        factory=True,
        workers=settings.processes,
        timeout_worker_healthcheck=_HEALTHCHECK_SECONDS,
        **server,
    )


def server_process_app() -> FastAPI:
    """The application of one of ``serve --processes N``'s processes (uvicorn calls this
    in each child), with the settings the parent resolved."""
    from pdfbinder.compat.app import create_app
    from pdfbinder.compat.settings import Settings

    # Taken out of the environment: the job processes this one starts (LibreOffice)
    # have no use for the API keys in it.
    settings = Settings.model_validate_json(os.environ.pop(_SETTINGS_ENV))
    _stop_with_parent()
    configure_logging()
    app: FastAPI = create_app(settings)
    return app


_PR_SET_PDEATHSIG = 1


def _stop_with_parent() -> None:
    """Have the kernel send this child SIGTERM when its supervisor dies, however it dies.

    Otherwise a SIGKILLed supervisor leaves its children serving on the port, unsupervised,
    and a restarted server cannot bind it. SIGTERM stops a child as a clean stop would (its
    queued jobs are recorded as interrupted). Linux only; elsewhere nothing changes.
    """
    import ctypes
    import ctypes.util
    import multiprocessing
    import signal

    parent = multiprocessing.parent_process()
    if parent is None or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent.pid:  # it died before the request: no signal will come
        os.kill(os.getpid(), signal.SIGTERM)
