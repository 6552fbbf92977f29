"""Placeholder: replaced by the merge engine."""
from __future__ import annotations

from typing import Any


def merge_pdfs(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError


def merge_any(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError
