"""Placeholder: replaced by the convert command."""
from __future__ import annotations


def convert() -> None:
    """Not built yet."""
    raise NotImplementedError
