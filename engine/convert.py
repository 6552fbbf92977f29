"""Placeholder: replaced by the image→PDF engine."""
from __future__ import annotations

from typing import Any


def images_to_pdf(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError
