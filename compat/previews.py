"""Previews of stored files: a small PNG of the first page, and the input's page count.

Only files in our own store are previewed (never a remote URL), for the key
that uploaded them. A preview is bounded in pixels whatever the input, and an
input the engine refuses answers with the same code and message a job would.
"""

from __future__ import annotations

from dataclasses import dataclass

from pdfbinder.engine import EngineError
from pdfbinder.engine.images import DEFAULT_MAX_PIXELS
from pdfbinder.engine.inputs import NamedSource
from pdfbinder.engine.preview import Preview, first_page_preview

from .clock import utcnow
from .errors import ApiError
from .uploads import Uploads

MIN_SIDE = 16
MAX_SIDE = 512
DEFAULT_SIDE = 160


@dataclass(frozen=True)
class StoredPreview:
    """A preview, and what a cache needs to know about the file it shows."""

    preview: Preview
    file_id: str
    seconds_left: int


def preview_stored_file(
    uploads: Uploads,
    url: str | None,
    owner: str | None,
    *,
    side: int = DEFAULT_SIDE,
    password: str | None = None,
) -> StoredPreview:
    """The preview of the stored file at ``url``; :class:`ApiError` for anything else."""
    if not url:
        raise ApiError(400, "Missing parameter 'url': the uploaded file to preview.")
    if not MIN_SIDE <= side <= MAX_SIDE:
        raise ApiError(400, f"Parameter 'size' must be between {MIN_SIDE} and {MAX_SIDE}.")
    file_id, info = uploads.visible_file(url, owner)
    opened = uploads.store.open(file_id)
    if opened is None:  # expired between the two looks
        raise ApiError(404, f"File not found or expired: {url}")
    stored, stream = opened
    max_pixels = uploads.settings.max_pixels or DEFAULT_MAX_PIXELS
    try:
        with stream:
            preview = first_page_preview(
                NamedSource(stream, stored.shown_name),
                max_side=side,
                password=password,
                max_pixels=max_pixels,
            )
    except EngineError as error:
        raise ApiError.from_engine(error) from None
    seconds_left = max(0, int((info.expires_at - utcnow()).total_seconds()))
    return StoredPreview(preview, file_id, seconds_left)
