"""What an engine call tells its caller besides the output bytes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

ProgressCallback = Callable[[int, int], None]
"""Called as ``(inputs_done, inputs_total)`` after each input is written."""


@dataclass
class Report:
    """The outcome of one engine call.

    ``warnings`` are things the user should know but that did not stop the
    work (an invalid EXIF orientation ignored, a damaged PDF repaired).
    """

    page_count: int = 0
    warnings: list[str] = field(default_factory=list)
