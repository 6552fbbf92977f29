"""What an engine call tells its caller besides the output bytes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .provenance import Provenance

ProgressCallback = Callable[[int, int], None]
"""Called as ``(inputs_done, inputs_total)`` after each input is written."""


@dataclass
class Report:
    """The outcome of one engine call.

    ``warnings`` are things the user should know but that did not stop the
    work (an invalid EXIF orientation ignored, a damaged PDF repaired).
    ``provenance`` is filled in while the inputs are read.
    """

    page_count: int = 0
    warnings: list[str] = field(default_factory=list)
    provenance: Provenance = field(default_factory=Provenance)
    """Each input's name, size and SHA-256, and which input page each output page shows."""
