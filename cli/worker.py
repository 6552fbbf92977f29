"""``pdfbinder worker``: a Celery worker that runs the jobs API replicas submit.

Start one per core (each runs ``--workers`` jobs at a time, 1 by default),
on as many machines as needed, with the same ``--broker``/``--store`` flags
(or ``PDFBINDER_*`` variables) as the ``pdfbinder serve`` replicas: the
worker builds the same service (file store, sources, URL map, limits) and
runs each job exactly as the embedded server would, writing the outcome to
the shared job records. SIGTERM finishes the running job first (warm
shutdown); a worker that dies mid-job has it re-run by another.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

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
from .serve import configure_logging
from .settings_flags import check_cluster_flags, settings_from_flags


def worker(
    broker: Broker = None,  # type: ignore[assignment]
    job_store: JobStore = None,  # type: ignore[assignment]
    store: Store = None,  # type: ignore[assignment]
    s3_endpoint: S3Endpoint = None,  # type: ignore[assignment]
    s3_region: S3Region = None,  # type: ignore[assignment]
    s3_redirect_downloads: S3Redirect = None,  # type: ignore[assignment]
    presign_secret: PresignSecret = None,  # type: ignore[assignment]
    visibility_timeout: VisibilityTimeout = None,  # type: ignore[assignment]
    data_dir: Path = typer.Option(
        None, "--data-dir", help="Local state (and files without --store) [env PDFBINDER_DATA_DIR]."
    ),
    workers: int = typer.Option(
        1,
        help="Jobs this process runs at once (1: one process per core is best; more use "
        "threads) [env PDFBINDER_WORKERS is ignored here].",
    ),
    url_map: Path = typer.Option(
        None, "--url-map", help="Serve remote URLs from a mirror directory or a JSON file."
    ),
    allow_remote: bool = typer.Option(
        None, "--allow-remote/--offline", help="Fetch http(s) sources and send callbacks."
    ),
    allow_host: list[str] = typer.Option(
        None,
        "--allow-host",
        help="Host or network remote fetches may reach although loopback/private (repeatable).",
    ),
    allow_private_networks: bool = typer.Option(
        None,
        "--allow-private-networks/--no-private-networks",
        help="Let remote fetches reach loopback/private/link-local addresses.",
    ),
    max_pixels: int = typer.Option(None, help="Pixels per image."),
    max_pages: int = typer.Option(None, help="Pages per job result."),
    max_job_bytes: int = typer.Option(None, help="Input bytes per job."),
    max_file_bytes: int = typer.Option(None, help="Largest fetched source."),
    office_processes: OfficeProcesses = None,  # type: ignore[assignment]
    office_timeout: OfficeTimeout = None,  # type: ignore[assignment]
    soffice: Soffice = None,  # type: ignore[assignment]
) -> None:
    """Run jobs from the broker (the scale-out worker for `pdfbinder serve --broker ...`)."""
    from celery.signals import worker_ready

    from pdfbinder.compat.cluster import build_service
    from pdfbinder.compat.jobs.celery import QUEUE, CeleryJobRunner

    given: dict[str, Any] = {
        "data_dir": data_dir,
        "workers": workers,
        # One process whatever PDFBINDER_PROCESSES says (that is serve's): its LibreOffice
        # processes are all its own.
        "processes": 1,
        "url_map": url_map,
        "allow_remote": allow_remote,
        "allow_hosts": allow_host or None,
        "allow_private_networks": allow_private_networks,
        "max_pixels": max_pixels,
        "max_pages_per_job": max_pages,
        "max_job_bytes": max_job_bytes,
        "max_file_bytes": max_file_bytes,
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
    check_cluster_flags(settings)
    if not settings.broker:
        fail(
            "--broker is required (or PDFBINDER_BROKER), e.g. redis://127.0.0.1:6379/0", EXIT_USAGE
        )
    import socket

    configure_logging()
    service = build_service(settings)
    runner = service.runner
    assert isinstance(runner, CeleryJobRunner)  # a broker always gives the Celery runner
    typer.echo(
        f"pdfbinder worker {socket.gethostname()}:{os.getpid()} taking jobs from "
        f"{_without_password(settings.broker)} ({settings.workers} at a time)",
        err=True,
    )
    typer.echo(office_status(settings), err=True)
    pool = "solo" if settings.workers == 1 else "threads"

    def announce_ready(**_: Any) -> None:
        typer.echo("pdfbinder worker ready.", err=True)

    worker_ready.connect(announce_ready, weak=False)
    try:
        runner.app.worker_main(
            [
                "worker",
                f"--pool={pool}",
                f"--concurrency={settings.workers}",
                "-Q",
                QUEUE,
                f"--hostname=pdfbinder-{os.getpid()}@%h",
                "--loglevel=WARNING",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ]
        )
    finally:
        service.close()


def _without_password(url: str) -> str:
    """The broker URL for a log line, its password (if any) masked."""
    scheme, _, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"
