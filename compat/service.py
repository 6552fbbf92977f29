"""The logic behind the routes, with no wire format: jobs, and the parts put together.

:class:`Service` answers the routes with plain dicts of answer fields and
raises :class:`~pdfbinder.compat.errors.ApiError` to refuse; the routes
shape those into HTTP answers. It owns the file store, the sources, the job
runner (which calls :class:`~pdfbinder.compat.executor.JobExecutor`), the
LibreOffice pool the executor converts Office documents with, the callback
sender and :class:`~pdfbinder.compat.uploads.Uploads`.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

from pdfbinder.engine.office.pool import OfficePool

from .callbacks import CallbackSender, is_loopback
from .clock import utcnow
from .errors import ApiError
from .executor import JobExecutor
from .files.base import FileStore, new_file_id
from .files.local import LocalFileStore
from .jobs.base import Executor, FinishHook, JobRecord, JobRunner, JobSpec, JobState
from .jobs.local import LEASES, LocalJobRunner
from .jobs.progress import ProgressReport
from .leases import ProcessLease
from .limits import JobBudget, JobSlots, check_input_count, process_share
from .netpolicy import NetPolicy, PolicyRefusal
from .protocol import NO_OPTIONS, REMAINING_CREDITS, JobOptions, timestamp
from .settings import Settings
from .sources import FetchAuth, Sources
from .tenancy import visible_to
from .uploads import Uploads, file_url
from .urlmap import UrlMap

RunnerFactory = Callable[[Executor, FinishHook], JobRunner]
"""Builds the job runner around the executor and the finish hook (callbacks)."""


class Admission(Protocol):
    """Job admission (429s): :class:`JobSlots` in one process, or one shared by replicas."""

    def acquire(self, ticket: str, owner: str | None) -> None: ...

    def release(self, ticket: str) -> None: ...


@dataclass(frozen=True)
class JobRequest:
    """A convert/merge request as the logic sees it, whatever shape it came in."""

    kind: str
    urls: list[str]
    name: str
    asynchronous: bool = False
    expiration: int = 60
    callback: str | None = None
    password: str | None = None
    auth: FetchAuth | None = None
    options: JobOptions = NO_OPTIONS
    job_id: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    """Known before the job starts, so a client that stops waiting can be told it."""


QUICK_JOB_BYTES = 32 * 1024
"""A sync job whose local sources add up to at most this runs in the thread that took
the request (:meth:`Service.start_quick_job`): handing it to a worker thread and back
costs more than the job itself. Even a maximal deflate bomb of this size decodes in a
fraction of a second."""

_QUICK_KINDS = frozenset({"convert", "merge"})
"""Job kinds that may run quickly: merge2 may start LibreOffice or expand an archive."""


@dataclass(frozen=True)
class _PreparedJob:
    """A checked job request, ready to run or queue."""

    request: JobRequest
    spec: JobSpec
    output_id: str
    url: str
    """The result's download URL."""
    began: float
    reported: dict[str, Any]
    """Fields every answer carries (the notice of ignored parameters)."""


class Service:
    """Everything the routes ask for; owns the store, the runner and the senders."""

    def __init__(
        self,
        settings: Settings,
        store: FileStore,
        runner_factory: RunnerFactory,
        *,
        slots: Admission | None = None,
        presign_secret: bytes | None = None,
        lease: ProcessLease | None = None,
    ) -> None:
        """``lease``: this process's lease, released when the service closes."""
        self.settings = settings
        self._lease = lease
        self.store = store
        url_map = UrlMap(settings.url_map) if settings.url_map is not None else None
        self.policy = NetPolicy(tuple(settings.allow_hosts), settings.allow_private_networks)
        self.sources = Sources(
            store,
            url_map=url_map,
            allow_remote=settings.allow_remote,
            max_bytes=settings.max_file_bytes,
            timeout=settings.fetch_timeout,
            policy=self.policy,
        )
        self.callbacks = CallbackSender(allow_remote=settings.allow_remote, policy=self.policy)
        # In-memory admission counts this process's jobs only: with several server
        # processes each admits its share of the limits.
        self.slots: Admission = slots or JobSlots(
            per_key=process_share(settings.max_jobs_per_key, settings.processes),
            capacity=settings.workers + process_share(settings.max_queued_jobs, settings.processes),
        )
        # LibreOffice starts in whichever process runs jobs, at its first Office document;
        # server processes share the LibreOffice processes asked for (~150 MB each).
        self.office = OfficePool(
            processes=settings.office_processes_each,
            timeout=settings.office_timeout,
            soffice=settings.soffice,
        )
        self._executor = JobExecutor(
            store,
            self.sources,
            max_pixels=settings.max_pixels,
            max_pages=settings.max_pages_per_job,
            max_job_bytes=settings.max_job_bytes,
            office=self.office,
        )
        self.runner = runner_factory(self._execute, self._job_finished)
        self.uploads = Uploads(settings, store, self.sources, secret=presign_secret)

    @classmethod
    def local(cls, settings: Settings) -> Service:
        """The embedded default: files in ``data_dir/files``, jobs in ``data_dir/jobs.sqlite3``."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        # One lease marks this process's jobs and writes: the server's other processes
        # (serve --processes) clean up after it once it is gone, never while it lives.
        lease = ProcessLease(settings.data_dir / LEASES)
        store = LocalFileStore(settings.data_dir / "files", lease=lease)
        store.remove_interrupted_writes()

        def runner(execute: Executor, on_finish: FinishHook) -> JobRunner:
            return LocalJobRunner(
                settings.data_dir / "jobs.sqlite3",
                execute,
                workers=settings.workers,
                on_finish=on_finish,
                lease=lease,
            )

        return cls(settings, store, runner, lease=lease)

    def close(self) -> None:
        self.runner.close()
        self.office.close()
        self.callbacks.close()
        if self._lease is not None:
            self._lease.release()

    def sweep(self) -> None:
        """Remove expired files, fail the jobs of processes that are gone, forget old
        finished jobs."""
        self.store.sweep()
        self.runner.recover()
        self.runner.purge(utcnow() - timedelta(minutes=self.settings.job_retention))

    def start_job(self, request: JobRequest, owner: str | None, base_url: str) -> dict[str, Any]:
        """Run (sync) or queue (async) a convert/merge job; the answer's fields."""
        job = self._prepare(request, owner, base_url)
        self.slots.acquire(job.output_id, owner)
        try:
            if request.asynchronous:
                record: JobRecord | None = self.runner.submit(job.spec, request.job_id)
            else:
                record = self.runner.run_sync(job.spec, request.job_id, self.settings.sync_timeout)
        except BaseException:
            self.slots.release(job.output_id)
            raise
        return self._answer(record, job)

    def start_quick_job(
        self, request: JobRequest, owner: str | None, base_url: str
    ) -> dict[str, Any] | None:
        """:meth:`start_job`'s answer when it can be given at once, without waiting for a
        network or a worker: every source on local disk, no callback to check, and the
        runner takes the job at once. A small job (at most :data:`QUICK_JOB_BYTES` of
        input, no Office conversion) runs in the calling thread before the answer, sync
        or async, if a worker slot is free; an async job that does not is queued.
        ``None`` otherwise, with nothing started."""
        sizes = [self.sources.local_size(url) for url in request.urls]
        if request.callback or None in sizes:
            return None
        # Sized before the job is prepared, so a job too large to run here is not
        # prepared twice (here, then in the worker thread it goes to).
        small = request.kind in _QUICK_KINDS and sum(size or 0 for size in sizes) <= QUICK_JOB_BYTES
        if not request.asynchronous and not small:
            return None
        job = self._prepare(request, owner, base_url, sizes)
        self.slots.acquire(job.output_id, owner)
        try:
            record = None
            if small:
                # An async job run here is over before its answer: /job/check then finds
                # it done, and its record is written once instead of twice.
                record = self.runner.run_now(
                    job.spec, request.job_id, asynchronous=request.asynchronous
                )
            if record is None and request.asynchronous:
                record = self.runner.submit_now(job.spec, request.job_id)
        except BaseException:
            self.slots.release(job.output_id)
            raise
        if record is None:  # the runner would have to wait: the caller's thread is not for that
            self.slots.release(job.output_id)
            return None
        return self._answer(record, job)

    def _answer(self, record: JobRecord | None, job: _PreparedJob) -> dict[str, Any]:
        """The answer to a job just queued (async) or run (sync)."""
        request = job.request
        if not request.asynchronous:
            return self._sync_answer(record, job)
        valid_till = utcnow() + timedelta(minutes=request.expiration)
        # A dry run makes no file, so it announces no link to one.
        link = {} if request.options.dry_run else {"url": job.url}
        return {
            "jobId": request.job_id,
            **link,
            "pageCount": 0,
            "name": request.name,
            "credits": 0,
            "duration": _ms_since(job.began),
            "outputLinkValidTill": timestamp(valid_till),
            **job.reported,
        }

    def _prepare(
        self,
        request: JobRequest,
        owner: str | None,
        base_url: str,
        local_sizes: list[int | None] | None = None,
    ) -> _PreparedJob:
        """Check a job request (400, 403, 404, 413 …) and make its spec.

        ``local_sizes``: the sources' sizes from :meth:`Sources.local_size`, each found
        there, so they are not looked up again."""
        began = time.monotonic()
        if not request.urls:
            raise ApiError(400, "Missing parameter 'url': give one or more source URLs.")
        check_input_count(len(request.urls), self.settings.max_inputs_per_job)
        budget = JobBudget(self.settings.max_job_bytes)
        for position, url in enumerate(request.urls):
            size = self.sources.check(url) if local_sizes is None else local_sizes[position]
            budget.add(size, url)
        if request.callback and not request.callback.lower().startswith(("http://", "https://")):
            raise ApiError(400, "Parameter 'callback' must be an http(s) URL.")
        if request.callback:
            self._check_callback(request.callback)
        output_id = new_file_id()
        params: dict[str, Any] = {
            "output_id": output_id,
            "name": request.name,
            "expiration": request.expiration,
            "base_url": base_url,
            "owner": owner,
        }
        optional = {"password": request.password, "callback": request.callback}
        if request.auth is not None:
            optional |= {
                "httpusername": request.auth.username,
                "httppassword": request.auth.password,
            }
        params |= {key: value for key, value in optional.items() if value}
        options = request.options.to_params()
        if options:
            params["options"] = options
        notice = request.options.notice
        if notice:
            params["notice"] = notice  # kept after the job, unlike the options (keys)
        return _PreparedJob(
            request=request,
            spec=JobSpec(request.kind, list(request.urls), params),
            output_id=output_id,
            url=file_url(base_url, output_id, request.name),
            began=began,
            reported={"message": notice} if notice else {},
        )

    def _check_callback(self, callback: str) -> None:
        """403 for a callback aimed at a forbidden (non-loopback) address or name.

        Loopback receivers stay allowed, as :mod:`~pdfbinder.compat.callbacks` documents.
        """
        host = urlsplit(callback).hostname or ""
        if is_loopback(host):
            return
        try:
            self.policy.precheck(host)
        except PolicyRefusal as error:
            raise ApiError(403, f"Parameter 'callback' is forbidden by policy ({error}).") from None

    def sync_timed_out(self, job_id: str) -> ApiError:
        """The 445 for a sync job its client stopped waiting for: the job is cancelled or
        goes on (``sync_timeout_action``); its ``jobId`` is in the answer either way."""
        action = self.settings.sync_timeout_action
        self.runner.keep(job_id, cancel=action == "cancel")
        outcome = "was cancelled" if action == "cancel" else f"goes on as job {job_id}"
        return ApiError(
            445,
            f"The job ran past the {self.settings.sync_timeout:g} s limit for synchronous "
            f"requests and {outcome}; use async mode (async=true) for large jobs.",
            jobId=job_id,
        )

    def _sync_answer(self, record: JobRecord | None, job: _PreparedJob) -> dict[str, Any]:
        """The answer to a sync job, from its final record (445 if it has none yet)."""
        name, began = job.request.name, job.began
        if record is None or record.state is JobState.WORKING:
            raise self.sync_timed_out(job.request.job_id)
        if record.state is JobState.SUCCESS and record.result is not None:
            result = record.result
            if "dryRun" in result:  # a dry run made no file: no link, no credits
                return {
                    "pageCount": result["pageCount"],
                    "name": name,
                    "credits": _credits(result),
                    "duration": _ms_since(began),
                    "dryRun": result["dryRun"],
                    **job.reported,
                }
            return {
                "url": job.url,
                "pageCount": result["pageCount"],
                "name": name,
                "credits": _credits(result),
                "duration": _ms_since(began),
                "outputLinkValidTill": result["outputLinkValidTill"],
                **_provenance(result),
                **job.reported,
            }
        raise ApiError(record.error_code or 500, record.message or "The job did not finish.")

    def check_job(
        self, job_id: str | None, force: bool, base_url: str, owner: str | None = None
    ) -> dict[str, Any]:
        """The ``/job/check`` body for ``job_id``; another key's job reads as unknown."""
        if not job_id:
            raise ApiError(400, "Missing parameter 'jobid'.")
        return self._check_body(self.runner.status(job_id), job_id, force, base_url, owner)

    def check_job_from_memory(
        self, job_id: str | None, force: bool, base_url: str, owner: str | None = None
    ) -> dict[str, Any] | None:
        """:meth:`check_job`'s answer without blocking when the runner has the job in
        memory (one this process runs or ran lately), else ``None``."""
        record = self.runner.recent(job_id) if job_id else None
        if record is None or job_id is None:
            return None
        return self._check_body(record, job_id, force, base_url, owner)

    def _check_body(
        self,
        record: JobRecord | None,
        job_id: str,
        force: bool,
        base_url: str,
        owner: str | None,
    ) -> dict[str, Any]:
        if record is not None and not visible_to(
            record.spec.params.get("owner"), owner, keys_required=bool(self.settings.api_keys)
        ):
            record = None
        if record is None:
            if force or self.settings.unknown_job_status == "unknown":
                return {
                    "status": "unknown",
                    "jobId": job_id,
                    "message": "Unknown job id.",
                    "remainingCredits": REMAINING_CREDITS,
                }
            return {"status": "working", "jobId": job_id, "remainingCredits": REMAINING_CREDITS}
        return job_body(record, base_url)

    def _execute(
        self, spec: JobSpec, should_stop: Callable[[], bool], progress: ProgressReport
    ) -> dict[str, Any]:
        """Run the job, giving its admission slot back as soon as the work is over
        (before the runner publishes the outcome, so a client may submit again at once)."""
        try:
            return self._executor(spec, should_stop, progress)
        finally:
            self.slots.release(spec.params["output_id"])

    def _job_finished(self, record: JobRecord, spec: JobSpec) -> None:
        self.slots.release(spec.params["output_id"])  # e.g. cancelled before it ran
        callback = spec.params.get("callback")
        if callback:
            self.callbacks.send(callback, job_body(record, spec.params["base_url"]))


def job_body(record: JobRecord, base_url: str) -> dict[str, Any]:
    """The ``/job/check`` (and callback) JSON for a job's record."""
    base: dict[str, Any] = {"status": record.state.value, "jobId": record.job_id}
    if record.state is JobState.WORKING:
        progress = record.progress
        live: dict[str, Any] = {"progress": progress.percent if progress else 0}
        if progress is not None and progress.input_index is not None:
            live["currentInput"] = {"index": progress.input_index, "name": progress.input_name}
        return {**base, "remainingCredits": REMAINING_CREDITS, **live}
    if record.state is JobState.SUCCESS and record.result is not None:
        result, params = record.result, record.spec.params
        total = (record.finished_at or record.created_at) - record.created_at
        notice = params.get("notice")
        made = (
            {"dryRun": result["dryRun"]}  # a dry run made no file: no link, no credits
            if "dryRun" in result
            else {
                "url": file_url(base_url, params["output_id"], params["name"]),
                "outputLinkValidTill": result["outputLinkValidTill"],
            }
        )
        return {
            **base,
            "message": f"Success. {notice}" if notice else "Success",
            "error": False,
            "name": params["name"],
            "pageCount": result["pageCount"],
            "credits": _credits(result),
            "remainingCredits": REMAINING_CREDITS,
            "duration": round(total.total_seconds() * 1000),
            "jobDuration": result["jobDuration"],
            "progress": 100,
            **_provenance(result),
            **made,
        }
    body = {**base, "message": record.message or record.state.value, "error": True}
    if record.error_code is not None:
        body["errorCode"] = record.error_code
    return body


def _provenance(result: dict[str, Any]) -> dict[str, Any]:
    """pdfbinder's provenance field, for results that have one (older records do not)."""
    provenance = result.get("provenance")
    return {"provenance": provenance} if provenance is not None else {}


def _credits(result: dict[str, Any]) -> int:
    """One credit per output page (at least one), like the vendor's page-based pricing.

    A dry run costs nothing: it makes no file.
    """
    return 0 if "dryRun" in result else max(1, int(result["pageCount"]))


def _ms_since(began: float) -> int:
    return round((time.monotonic() - began) * 1000)
