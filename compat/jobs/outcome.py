"""How a runner turns one run of a job into its final state, and tells the finish hook.

Every :class:`~.base.JobRunner` runs jobs the same way — cancelled before it
starts, done, refused with a protocol error, or crashed on a bug of ours — so
the mapping from what the executor did to the recorded state lives here once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import ApiError
from .base import CancelCheck, FinishHook, JobCancelled, JobRecord, JobSpec, JobState

_log = logging.getLogger("pdfbinder.jobs")


@dataclass(frozen=True)
class JobOutcome:
    """The final state of one run, with the result or the error code and message."""

    state: JobState
    result: dict[str, Any] | None = None
    code: int | None = None
    message: str | None = None


def outcome_of(
    job_id: str, cancelled: CancelCheck, work: Callable[[], dict[str, Any]]
) -> JobOutcome:
    """Call ``work`` unless the job was cancelled first, and say how it ended.

    Any exception other than :class:`JobCancelled` or
    :class:`~pdfbinder.compat.errors.ApiError` (a refusal: the job fails with its
    status) is a bug of ours: it is logged and the job fails with code 500,
    keeping the process up.
    """
    try:
        if cancelled():
            raise JobCancelled
        return JobOutcome(JobState.SUCCESS, result=work())
    except JobCancelled:
        return JobOutcome(JobState.ABORTED, message="The job was cancelled.")
    except ApiError as refusal:
        return JobOutcome(JobState.FAILED, code=refusal.status, message=refusal.message)
    except Exception as error:
        _log.exception("job %s crashed", job_id)
        return JobOutcome(JobState.FAILED, code=500, message=f"Internal error: {error}")


def notify_finished(hook: FinishHook | None, record: JobRecord | None, spec: JobSpec) -> None:
    """Give ``hook`` the final ``record`` and the job's full ``spec``; a failing hook is
    logged, never raised."""
    if hook is None or record is None:
        return
    try:
        hook(record, spec)
    except Exception:
        _log.exception("finish hook failed for job %s", record.job_id)
