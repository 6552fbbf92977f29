"""Placeholder: replaced by the merge command."""
from __future__ import annotations


def merge() -> None:
    """Not built yet."""
    raise NotImplementedError
