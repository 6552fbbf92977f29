"""Doing one job: resolve its sources, run the engine, commit the result to the store.

:class:`JobExecutor` works from a serialisable
:class:`~pdfbinder.compat.jobs.base.JobSpec` alone, so any job runner (the
local pool today, a distributed one later) can call it in any process that
has the store and the sources.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import timedelta
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from pdfbinder.engine import (
    EngineError,
    NamedSource,
    PdfInput,
    Report,
    images_to_pdf,
    merge_any,
    merge_pdfs,
)
from pdfbinder.engine.inputs import input_label, open_binary
from pdfbinder.engine.merge.archives import ArchiveLimits, MemberFilter
from pdfbinder.engine.office.pool import OfficePool

from .clock import utcnow
from .datacrypt import AesKey, DecryptionFailed, base64_stream, decrypt_stream, encrypt_stream
from .errors import ApiError
from .files.base import FileExists, FileStore
from .jobs.base import CancelCheck, JobCancelled, JobSpec
from .jobs.progress import JobProgress, ProgressReport, ignore_progress
from .limits import JobBudget, check_page_count
from .protocol import JobOptions, timestamp
from .sources import FetchAuth, Sources, url_file_name

if TYPE_CHECKING:
    from pdfbinder.engine.preflight import Preflight

_SPOOL_IN_MEMORY = 64 * 1024**2


class JobExecutor:
    """Runs one job: resolve the sources, run the engine into the store.

    Limits: the inputs' bytes add up to at most ``max_job_bytes`` (each ZIP's
    expanded size too, and each Office document's before it is converted),
    images to ``max_pixels`` each, and the result to ``max_pages`` pages —
    checked before the result is committed, so an over-limit job leaves no
    file behind. Office documents are converted by ``office``'s LibreOffice
    processes.
    """

    def __init__(
        self,
        store: FileStore,
        sources: Sources,
        *,
        max_pixels: int | None,
        max_pages: int,
        max_job_bytes: int,
        office: OfficePool,
    ) -> None:
        self._store = store
        self._sources = sources
        self._office = office
        self._max_pixels = max_pixels
        self._max_pages = max_pages
        self._max_job_bytes = max_job_bytes

    def __call__(
        self, spec: JobSpec, should_stop: CancelCheck, progress: ProgressReport = ignore_progress
    ) -> dict[str, Any]:
        params = spec.params
        options = JobOptions.from_params(params.get("options", {}))
        auth = None
        if params.get("httpusername") or params.get("httppassword"):
            auth = FetchAuth(params.get("httpusername") or "", params.get("httppassword") or "")

        inputs: list[Any] = []

        def working_on(position: int, done: int = 0) -> None:
            if progress is ignore_progress:
                return
            # Below 100 until the result is committed; no input once every input was read.
            percent = min(99, done * 100 // len(spec.urls))
            if position >= len(spec.urls):
                progress(JobProgress(percent))
                return
            fetched = position < len(inputs)
            name = inputs[position].name if fetched else url_file_name(spec.urls[position])
            progress(JobProgress(percent, position, name))

        def on_progress(done: int, total: int) -> None:
            if should_stop():
                raise JobCancelled
            working_on(done, done)

        started = time.monotonic()
        try:
            with ExitStack() as stack:
                budget = JobBudget(self._max_job_bytes)
                for position, url in enumerate(spec.urls):
                    working_on(position)  # fetching it
                    opened, size = self._sources.open(url, stack, auth)
                    budget.add(size, url)
                    if options.decrypt_inputs is not None:
                        opened = _decrypted(opened, options.decrypt_inputs, position, stack)
                    inputs.append(opened)
                if should_stop():
                    raise JobCancelled
                if options.dry_run:
                    preflight = self._preflight(spec.kind, inputs, params, options)
                    return {
                        "pageCount": preflight.plan.page_count or 0,
                        "dryRun": preflight.to_dict(),
                        "jobDuration": round((time.monotonic() - started) * 1000),
                    }
                working_on(0)
                expires_at = utcnow() + timedelta(minutes=params["expiration"])
                try:
                    with self._store.writer(
                        params["output_id"],
                        name=params["name"],
                        expires_at=expires_at,
                        owner=params.get("owner"),
                        # A result can be made again: it is not worth a wait for the disk
                        # before the answer (the store flushes it right after).
                        durable=False,
                    ) as sink:
                        report = self._write_output(
                            spec.kind, inputs, sink.stream, params, options, on_progress
                        )
                        check_page_count(report.page_count, self._max_pages)  # before the commit
                except FileExists:
                    # The job's own, unguessable output id is taken only by an earlier run of
                    # this job that committed and died before its record said so (a worker
                    # killed in between, then the job handed to another). Stores commit whole
                    # files only, so that result stands; this run has just made the same document.
                    pass
        except EngineError as error:
            raise ApiError.from_engine(error) from None
        return {
            "pageCount": report.page_count,
            "outputLinkValidTill": timestamp(expires_at),
            "jobDuration": round((time.monotonic() - started) * 1000),
            "provenance": report.provenance.to_json(),
        }

    def _write_output(
        self,
        kind: str,
        inputs: list[Any],
        output: BinaryIO,
        params: dict[str, Any],
        options: JobOptions,
        on_progress: Callable[[int, int], None],
    ) -> Report:
        """Run the engine into ``output``, through encryption and base64 when asked for."""
        if options.encrypt_output is None and not options.output_base64:
            return self._run_engine(kind, inputs, output, params, options, on_progress)
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY) as document:
            report = self._run_engine(kind, inputs, document, params, options, on_progress)  # type: ignore[arg-type]
            document.seek(0)
            if options.encrypt_output is None:
                base64_stream(document, output)  # type: ignore[arg-type]
                return report
            if not options.output_base64:
                encrypt_stream(document, output, options.encrypt_output)  # type: ignore[arg-type]
                return report
            with tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY) as encrypted:
                encrypt_stream(document, encrypted, options.encrypt_output)  # type: ignore[arg-type]
                encrypted.seek(0)
                base64_stream(encrypted, output)  # type: ignore[arg-type]
        return report

    def _run_engine(
        self,
        kind: str,
        inputs: list[Any],
        output: BinaryIO,
        params: dict[str, Any],
        options: JobOptions,
        on_progress: Callable[[int, int], None],
    ) -> Report:
        pixels = self._pixels()
        if kind == "convert":
            return images_to_pdf(
                inputs,
                output,
                on_progress=on_progress,
                attach_sources=options.attach_sources,
                page_size=options.page_size,
                fit=options.fit,
                margin=options.margin,
                auto_orient=options.auto_orient,
                **pixels,
            )
        merging = _merge_options(params, options)
        merging["on_progress"] = on_progress
        merging["attach_sources"] = options.attach_sources
        if kind == "merge":
            return merge_pdfs(_with_choices(inputs, options), output, **merging)
        if kind == "merge2":
            return merge_any(
                _with_choices(inputs, options),
                output,
                limits=ArchiveLimits(max_total_bytes=self._max_job_bytes),
                members=MemberFilter(options.zip_include, options.zip_exclude),
                office=self._office,
                **merging,
                **pixels,
            )
        raise ApiError(400, f"Unknown job kind {kind!r}.")

    def _pixels(self) -> dict[str, Any]:
        # None keeps the engine's own default pixel limit.
        return {} if self._max_pixels is None else {"max_pixels": self._max_pixels}

    def _preflight(
        self, kind: str, inputs: list[Any], params: dict[str, Any], options: JobOptions
    ) -> Preflight:
        """What the job would do, with the options it would run with; nothing is stored."""
        from pdfbinder.engine.preflight import inspect_inputs

        if kind == "convert":
            return inspect_inputs(
                inputs,
                operation="images_to_pdf",
                page_size=options.page_size,
                fit=options.fit,
                margin=options.margin,
                auto_orient=options.auto_orient,
                **self._pixels(),
            )
        if kind not in ("merge", "merge2"):
            raise ApiError(400, f"Unknown job kind {kind!r}.")
        return inspect_inputs(
            _with_choices(inputs, options),
            operation="merge_pdfs" if kind == "merge" else "merge_any",
            limits=ArchiveLimits(max_total_bytes=self._max_job_bytes),
            members=MemberFilter(options.zip_include, options.zip_exclude),
            **_merge_options(params, options),
            **self._pixels(),
        )


def _merge_options(params: dict[str, Any], options: JobOptions) -> dict[str, Any]:
    """The merge engine's options for a job's parameters and ``profiles``."""
    return {
        "password": params.get("password"),
        "outline": _outline(options),
        "bookmark_titles": "file",
        "fields": "rename" if options.rename_matching_fields else "join",
        "pad_to_even": options.pad_to_even,
        "collate": options.collate,
    }


def _outline(options: JobOptions) -> str:
    if options.drop_bookmarks:
        return "drop"
    return "nest" if options.generate_bookmarks else "keep"


def _with_choices(inputs: list[Any], options: JobOptions) -> list[Any]:
    """Inputs carrying their own page range and password (``Inputs``), where one was given."""
    if not options.inputs:
        return inputs
    return [
        PdfInput(source, pages=own.get("pages") or None, password=own.get("password") or None)
        if own
        else source
        for source, own in zip(inputs, options.inputs, strict=True)
    ]


def _decrypted(source: NamedSource, key: AesKey, position: int, stack: ExitStack) -> NamedSource:
    """``source`` decrypted (user-controlled AES) into a spooled file the job's stack closes."""
    # typeshed types a SpooledTemporaryFile as IO[bytes] only; it is a binary file all the same.
    plain = cast(
        "BinaryIO",
        stack.enter_context(tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)),  # noqa: SIM115
    )
    try:
        with open_binary(source) as encrypted:
            decrypt_stream(encrypted, plain, key)
    except DecryptionFailed as error:
        raise ApiError(
            442,
            f"{input_label(position, source.name)}: cannot be decrypted with "
            f"DataDecryptionAlgorithm/Key/IV: {error}",
        ) from None
    plain.seek(0)
    return NamedSource(plain, source.name)
