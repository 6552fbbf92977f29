"""The one error type of the server: an HTTP status and a message for the client.

Every layer that refuses something on the client's behalf — parameters, sources,
fetching, limits, uploads, admission, a job's run — raises :class:`ApiError`,
and it travels unchanged to where it is answered: the HTTP layer shapes it as
``{"error": true, "status": N, "message": ...}`` with the same HTTP status, and a
job runner records its status and message as the job's ``errorCode`` and
``message``. Engine refusals (:class:`~pdfbinder.engine.EngineError`) become one
in :meth:`ApiError.from_engine`, the only place their status is decided.
"""

from __future__ import annotations

from typing import Any

from pdfbinder.engine.errors import EngineError, InvalidOption, PasswordRequired, WrongPassword


class ApiError(Exception):
    """A refusal answered as ``{"error": true, "status": status, "message": message}``.

    ``extra`` fields are added to the answer's body (e.g. the ``jobId`` of a
    synchronous job that ran past its time limit).
    """

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra

    @classmethod
    def from_engine(cls, error: EngineError) -> ApiError:
        """The answer to an engine refusal, its message naming the input."""
        return cls(engine_status(error), error.message)


def engine_status(error: EngineError) -> int:
    """The protocol status of an engine refusal.

    Password problems are 441; bad options 400; everything else about an
    input — damaged, unsupported, or too large to process (pixel or page
    limits) — is 442, because it names the input and says why. (413 is kept
    for uploads and fetched sources over the byte limit.)
    """
    if isinstance(error, (PasswordRequired, WrongPassword)):
        return 441
    if isinstance(error, InvalidOption):
        return 400
    return 442
