"""Doing one job: resolve its sources, run the engine, commit the result to the store.

:class:`JobExecutor` works from a serialisable
:class:`~pdfbinder.compat.jobs.base.JobSpec` alone, so any job runner (the
local pool today, a distributed one later) can call it in any process that
has the store and the sources.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import timedelta
from typing import Any, BinaryIO

from pdfbinder.engine import EngineError, images_to_pdf, merge_any, merge_pdfs
from pdfbinder.engine.merge.archives import ArchiveLimits

from .clock import utcnow
from .errors import ApiError
from .files.base import FileExists, FileStore
from .jobs.base import CancelCheck, JobCancelled, JobSpec
from .limits import JobBudget, check_page_count, source_size
from .protocol import timestamp
from .sources import FetchAuth, Sources


class JobExecutor:
    """Runs one job: resolve the sources, run the engine into the store.

    Limits: the inputs' bytes add up to at most ``max_job_bytes`` (each ZIP's
    expanded size too), images to ``max_pixels`` each, and the result to
    ``max_pages`` pages — checked before the result is committed, so an
    over-limit job leaves no file behind.
    """

    def __init__(
        self,
        store: FileStore,
        sources: Sources,
        *,
        max_pixels: int | None,
        max_pages: int,
        max_job_bytes: int,
    ) -> None:
        self._store = store
        self._sources = sources
        self._max_pixels = max_pixels
        self._max_pages = max_pages
        self._max_job_bytes = max_job_bytes

    def __call__(self, spec: JobSpec, should_stop: CancelCheck) -> dict[str, Any]:
        params = spec.params
        auth = None
        if params.get("httpusername") or params.get("httppassword"):
            auth = FetchAuth(params.get("httpusername") or "", params.get("httppassword") or "")

        def on_progress(done: int, total: int) -> None:
            if should_stop():
                raise JobCancelled

        started = time.monotonic()
        try:
            with ExitStack() as stack:
                budget = JobBudget(self._max_job_bytes)
                inputs = []
                for url in spec.urls:
                    opened = self._sources.open(url, stack, auth)
                    budget.add(source_size(opened.source), url)
                    inputs.append(opened)
                if should_stop():
                    raise JobCancelled
                expires_at = utcnow() + timedelta(minutes=params["expiration"])
                try:
                    with self._store.writer(
                        params["output_id"],
                        name=params["name"],
                        expires_at=expires_at,
                        owner=params.get("owner"),
                    ) as sink:
                        page_count = self._run_engine(
                            spec.kind, inputs, sink.stream, params, on_progress
                        )
                        check_page_count(page_count, self._max_pages)  # before the commit
                except FileExists:
                    # The job's own, unguessable output id is taken only by an earlier run of
                    # this job that committed and died before its record said so (a worker
                    # killed in between, then the job handed to another). Stores commit whole
                    # files only, so that result stands; this run has just made the same document.
                    pass
        except EngineError as error:
            raise ApiError.from_engine(error) from None
        return {
            "pageCount": page_count,
            "outputLinkValidTill": timestamp(expires_at),
            "jobDuration": round((time.monotonic() - started) * 1000),
        }

    def _run_engine(
        self,
        kind: str,
        inputs: list[Any],
        output: BinaryIO,
        params: dict[str, Any],
        on_progress: Callable[[int, int], None],
    ) -> int:
        # None keeps the engine's own default pixel limit.
        pixels = {} if self._max_pixels is None else {"max_pixels": self._max_pixels}
        if kind == "convert":
            report: Any = images_to_pdf(inputs, output, on_progress=on_progress, **pixels)
        elif kind == "merge":
            report = merge_pdfs(
                inputs, output, password=params.get("password"), on_progress=on_progress
            )
        elif kind == "merge2":
            report = merge_any(
                inputs,
                output,
                password=params.get("password"),
                on_progress=on_progress,
                limits=ArchiveLimits(max_total_bytes=self._max_job_bytes),
                **pixels,
            )
        else:
            raise ApiError(400, f"Unknown job kind {kind!r}.")
        return int(report.page_count)
