"""``build_service(settings)``: the embedded service, or the scaled-out one the settings ask for.

With neither ``broker`` nor ``store`` set this is :meth:`Service.local` (one
process: thread pool, SQLite, local directory). Otherwise the parts are
picked one by one, and API replicas (``pdfbinder serve``) and workers
(``pdfbinder worker``) given the same settings build the same thing:

* files: ``store = s3://bucket/prefix`` → :class:`S3FileStore`; a directory
  → :class:`LocalFileStore` there (e.g. a shared NFS mount); unset →
  ``<data-dir>/files``.
* jobs: ``broker`` set → :class:`CeleryJobRunner`, records in the Redis at
  ``job_store`` (default: the broker, when it is Redis); unset → the local
  runner.
* admission (429 limits) counted in that Redis, so it holds across replicas.
* the key signing presigned upload URLs: ``presign_secret`` when given, else
  one created once in that Redis and read by every replica, else the data
  directory's own (a single replica).

Celery, redis and boto3 are imported only when used (the ``scale`` extra).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .files.base import FileStore
from .files.local import LocalFileStore
from .jobs.base import Executor, FinishHook, JobRunner
from .jobs.local import LocalJobRunner
from .service import Admission, RunnerFactory, Service
from .settings import Settings

_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


class ClusterConfigError(ValueError):
    """The scale-out settings do not fit together (a one-line message for the CLI)."""


def scaled_out(settings: Settings) -> bool:
    """Whether the settings ask for anything beyond the embedded default."""
    return settings.broker is not None or settings.store is not None


def job_store_url(settings: Settings) -> str | None:
    """The Redis holding job records: ``job_store``, else a Redis broker's URL."""
    if settings.job_store:
        return settings.job_store
    if settings.broker and settings.broker.startswith(_REDIS_SCHEMES):
        return settings.broker
    return None


def check_cluster_settings(settings: Settings) -> None:
    """Refuse mixes that cannot work, before anything starts (:class:`ClusterConfigError`)."""
    if settings.broker and job_store_url(settings) is None:
        raise ClusterConfigError(
            "--broker other than Redis needs --job-store redis://... for the job records"
        )
    if settings.store and settings.store.startswith("s3://"):
        from .files.s3 import parse_s3_url

        try:
            parse_s3_url(settings.store)
        except ValueError as error:
            raise ClusterConfigError(f"--store: {error}") from None
    elif settings.s3_redirect_downloads:
        raise ClusterConfigError("--s3-redirect-downloads needs --store s3://bucket/prefix")


def open_store(settings: Settings) -> FileStore:
    """The file store named by ``settings.store`` (see the module docstring)."""
    if settings.store and settings.store.startswith("s3://"):
        from .files.s3 import S3FileStore, parse_s3_url, s3_client

        bucket, prefix = parse_s3_url(settings.store)
        return S3FileStore(
            s3_client(settings.s3_endpoint, settings.s3_region),
            bucket,
            prefix,
            redirect_downloads=settings.s3_redirect_downloads,
        )
    root = Path(settings.store) if settings.store else settings.data_dir / "files"
    return LocalFileStore(root)


def build_service(settings: Settings) -> Service:
    """The service for these settings; raises :class:`ClusterConfigError` on a bad mix."""
    if not scaled_out(settings):
        return Service.local(settings)
    check_cluster_settings(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = open_store(settings)
    redis_url = job_store_url(settings)
    client: Any = None
    if redis_url is not None:
        import redis

        client = redis.Redis.from_url(redis_url, decode_responses=True)
    secret = settings.presign_secret.encode() if settings.presign_secret else None
    slots: Admission | None = None
    if client is not None:
        from .jobs.redis_slots import RedisJobSlots
        from .jobs.redis_store import shared_secret

        secret = secret or shared_secret(client)
        slots = RedisJobSlots(
            client,
            per_key=settings.max_jobs_per_key,
            capacity=settings.workers + settings.max_queued_jobs,
            stale_seconds=settings.job_retention * 60,
        )
    return Service(
        settings, store, _runner_factory(settings, client), slots=slots, presign_secret=secret
    )


def _runner_factory(settings: Settings, client: Any) -> RunnerFactory:
    if settings.broker is None:

        def local(execute: Executor, on_finish: FinishHook) -> JobRunner:
            return LocalJobRunner(
                settings.data_dir / "jobs.sqlite3",
                execute,
                workers=settings.workers,
                on_finish=on_finish,
            )

        return local

    from .jobs.celery import CeleryJobRunner, make_celery
    from .jobs.redis_store import RedisJobRecords

    broker = settings.broker

    def celery(execute: Executor, on_finish: FinishHook) -> JobRunner:
        records = RedisJobRecords(client, retention_seconds=settings.job_retention * 60)
        app = make_celery(broker, visibility_timeout=settings.job_visibility_timeout)
        return CeleryJobRunner(
            app, records, execute, on_finish, visibility_timeout=settings.job_visibility_timeout
        )

    return celery
