"""One settings object for the compat server, read from ``PDFBINDER_*`` env vars.

CLI flags of ``pdfbinder serve`` override individual fields; everything else
comes from the environment (``PDFBINDER_DATA_DIR``, ``PDFBINDER_API_KEYS``,
...) or the defaults below, which suit a local, offline Cloud API Server.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def default_data_dir() -> Path:
    """``$XDG_STATE_HOME/pdfbinder``, or ``~/.local/state/pdfbinder`` without it."""
    state_home = os.environ.get("XDG_STATE_HOME")
    base = Path(state_home) if state_home else Path.home() / ".local" / "state"
    return base / "pdfbinder"


class Settings(BaseSettings):
    """Everything the server can be told; see each field's description."""

    model_config = SettingsConfigDict(env_prefix="PDFBINDER_", extra="ignore")

    host: str = Field(default="127.0.0.1", description="Interface to listen on.")
    port: int = Field(default=8080, description="TCP port to listen on.")
    data_dir: Path = Field(
        default_factory=default_data_dir, description="Stored files and the job database."
    )
    workers: int = Field(
        default_factory=lambda: os.cpu_count() or 2,
        ge=1,
        description="Job worker threads in each server process.",
    )
    processes: int = Field(
        default=1,
        ge=1,
        description="Server processes sharing the port, the job database and the files (each "
        "uses about one core). The admission limits (max_jobs_per_key, max_queued_jobs) are "
        "divided between them, rounded up, and so are office_processes, rounded down (at "
        "least one each).",
    )
    api_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Accepted API keys (comma-separated in the env var). "
        "Empty: any or no key is accepted (Cloud API Server mode).",
    )
    allow_remote: bool = Field(
        default=False, description="Fetch http(s) sources and send callbacks."
    )
    url_map: Path | None = Field(
        default=None,
        description="Serve remote URLs from local files: a mirror directory laid out as "
        "<host>/<path> (what `wget --mirror` writes) or a JSON file {url: path}.",
    )
    public_url: str | None = Field(
        default=None,
        description="Base of the URLs handed out (e.g. https://pdf.example.org); "
        "by default the scheme and host the client used.",
    )
    web_ui: bool = Field(
        default=True,
        description="Serve the web page for people at / (the API routes are unchanged).",
    )
    access_log: bool = Field(
        default=True,
        description="One JSON line per request on stderr (method, path, status, duration; "
        "secrets masked). Off where a proxy in front already logs every request.",
    )
    unknown_job_status: Literal["unknown", "working"] = Field(
        default="unknown",
        description="Answer for an unknown job id without force=true. `unknown` stops sample "
        "clients that poll while `working`; `working` is what the vendor answers.",
    )
    sync_timeout: float = Field(
        default=120.0,
        gt=0,
        description="Seconds a synchronous request may run before answering 445.",
    )
    sync_timeout_action: Literal["cancel", "continue"] = Field(
        default="cancel",
        description="What happens to the job of a sync request that timed out: cancelled "
        "(its worker is freed) or left running (its jobId is in the 445 answer).",
    )
    default_expiration: int = Field(
        default=60, ge=1, description="Minutes a result link stays valid."
    )
    upload_expiration: int = Field(
        default=60, ge=1, description="Minutes an uploaded file is kept."
    )
    presign_validity: int = Field(
        default=900, ge=1, description="Seconds a presigned upload URL lives."
    )
    max_file_bytes: int = Field(
        default=512 * 1024 * 1024, ge=1, description="Largest upload or fetched source, in bytes."
    )
    fetch_timeout: float = Field(
        default=60.0, gt=0, description="Seconds allowed to fetch one source."
    )
    max_pixels: int | None = Field(
        default=None,
        ge=1,
        description="Pixel limit per image (decompression bombs); engine default.",
    )
    sweep_interval: float = Field(
        default=60.0, gt=0, description="Seconds between sweeps of expired files and old jobs."
    )
    job_retention: int = Field(
        default=24 * 60, ge=1, description="Minutes a finished job's record is kept for /job/check."
    )

    max_body_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=1,
        description="Largest request body read into memory (JSON/form parameters, base64 "
        "uploads); 413 past it. Bigger files go by multipart or presigned PUT.",
    )
    max_inputs_per_job: int = Field(
        default=1000, ge=1, description="Most source URLs one convert/merge job may name."
    )
    max_pages_per_job: int = Field(
        default=10_000, ge=1, description="Most pages one job's result may have."
    )
    max_job_bytes: int = Field(
        default=2 * 1024**3,
        ge=1,
        description="Most bytes all inputs of one job may add up to (ZIP members counted "
        "expanded).",
    )
    max_jobs_per_key: int = Field(
        default=32,
        ge=1,
        description="Jobs one API key may have queued or running at once; 429 past it "
        "(with several processes, each admits its share).",
    )
    max_queued_jobs: int = Field(
        default=256,
        ge=0,
        description="Jobs waiting for a worker, over all keys; 429 when full (with several "
        "processes, each queues its share).",
    )
    allow_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Hosts, addresses or networks remote fetches may reach although they are "
        "loopback/private/metadata (comma-separated in the env var), e.g. 127.0.0.1.",
    )
    allow_private_networks: bool = Field(
        default=False,
        description="Let remote fetches reach loopback, private and link-local addresses "
        "(cloud metadata endpoints still need --allow-host).",
    )

    # Office documents in merge2 (engine/office): LibreOffice processes of each job-running process.
    office_processes: int = Field(
        default=2,
        ge=1,
        description="LibreOffice processes converting Office documents at once (each job-running "
        "process has its own, its share of these with several server processes; started at "
        "the first document).",
    )
    office_timeout: float = Field(
        default=120.0,
        gt=0,
        description="Seconds one Office document may take to convert; past it the job fails and "
        "its LibreOffice is restarted.",
    )
    soffice: str | None = Field(
        default=None,
        description="LibreOffice's soffice (a path or a command); default: soffice on PATH.",
    )

    # Scaling out (see compat/cluster.py): Celery workers, Redis job records, S3 files.
    broker: str | None = Field(
        default=None,
        description="Celery broker URL (redis://host:6379/0 or amqp://...): jobs run on "
        "`pdfbinder worker` processes instead of in the server process.",
    )
    job_store: str | None = Field(
        default=None,
        description="Redis URL of the job records shared by every replica and worker; "
        "default: the broker's URL when it is Redis.",
    )
    store: str | None = Field(
        default=None,
        description="Where files live: s3://bucket/prefix (any S3-compatible store) or a "
        "directory; default: <data-dir>/files.",
    )
    s3_endpoint: str | None = Field(
        default=None,
        description="S3 endpoint URL (MinIO, Ceph, ...); default: AWS. Credentials come from "
        "the usual AWS_* variables or ~/.aws.",
    )
    s3_region: str | None = Field(default=None, description="S3 region name.")
    s3_redirect_downloads: bool = Field(
        default=False,
        description="Answer downloads with a redirect to a presigned S3 URL (the bytes then "
        "bypass the API replicas); otherwise replicas stream them.",
    )
    presign_secret: str | None = Field(
        default=None,
        description="Key signing presigned upload URLs, shared by every replica; default: "
        "one kept in the job store (Redis) if there is one, else <data-dir>/presign.key.",
    )
    job_visibility_timeout: float = Field(
        default=60.0,
        gt=0,
        description="Seconds after which a job whose worker died is handed to another worker "
        "(running jobs keep theirs alive, so it never duplicates a live job).",
    )

    @property
    def office_processes_each(self) -> int:
        """Each server process's share of ``office_processes``, rounded down (at least one)."""
        return max(1, self.office_processes // self.processes)

    @field_validator("allow_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: Any) -> Any:
        """Accept ``a,b`` as well as a list (env vars are plain strings)."""
        if isinstance(value, str):
            return [host.strip() for host in value.split(",") if host.strip()]
        return value

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: Any) -> Any:
        """Accept ``a,b`` as well as a list (env vars are plain strings)."""
        if isinstance(value, str):
            return [key.strip() for key in value.split(",") if key.strip()]
        return value
