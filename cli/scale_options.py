"""The scale-out flags, shared by ``pdfbinder serve`` and ``pdfbinder worker``.

API replicas and workers must agree on the broker, the job store and the
file store, so both commands take the same flags (and the same
``PDFBINDER_*`` variables); each maps onto a field of
:class:`~pdfbinder.compat.settings.Settings`.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

Broker = Annotated[
    str,
    typer.Option(
        "--broker",
        help="Celery broker URL, e.g. redis://127.0.0.1:6379/0: jobs run on "
        "`pdfbinder worker` processes [env PDFBINDER_BROKER; in-process].",
    ),
]
JobStore = Annotated[
    str,
    typer.Option(
        "--job-store",
        help="Redis URL of the shared job records [env PDFBINDER_JOB_STORE; "
        "the broker's, when it is Redis].",
    ),
]
Store = Annotated[
    str,
    typer.Option(
        "--store",
        help="File store: s3://bucket/prefix or a directory [env PDFBINDER_STORE; "
        "<data-dir>/files].",
    ),
]
S3Endpoint = Annotated[
    str,
    typer.Option(
        "--s3-endpoint",
        help="S3 endpoint URL (MinIO, Ceph, ...) [env PDFBINDER_S3_ENDPOINT; "
        "AWS]; credentials from AWS_* variables.",
    ),
]
S3Region = Annotated[str, typer.Option("--s3-region", help="S3 region [env PDFBINDER_S3_REGION].")]
S3Redirect = Annotated[
    bool,
    typer.Option(
        "--s3-redirect-downloads/--stream-downloads",
        help="Redirect downloads to presigned S3 URLs [env PDFBINDER_S3_REDIRECT_DOWNLOADS; "
        "stream].",
    ),
]
PresignSecret = Annotated[
    str,
    typer.Option(
        "--presign-secret",
        help="Key signing presigned upload URLs, same on every replica "
        "[env PDFBINDER_PRESIGN_SECRET; one kept in Redis].",
    ),
]
VisibilityTimeout = Annotated[
    float,
    typer.Option(
        "--visibility-timeout",
        help="Seconds before a dead worker's job goes to another "
        "worker [env PDFBINDER_JOB_VISIBILITY_TIMEOUT; 60].",
    ),
]


def scale_settings(
    *,
    broker: str | None,
    job_store: str | None,
    store: str | None,
    s3_endpoint: str | None,
    s3_region: str | None,
    s3_redirect_downloads: bool | None,
    presign_secret: str | None,
    visibility_timeout: float | None,
) -> dict[str, Any]:
    """The given flags as ``Settings`` fields (``None`` ones are left to the environment)."""
    return {
        "broker": broker,
        "job_store": job_store,
        "store": store,
        "s3_endpoint": s3_endpoint,
        "s3_region": s3_region,
        "s3_redirect_downloads": s3_redirect_downloads,
        "presign_secret": presign_secret,
        "job_visibility_timeout": visibility_timeout,
    }
