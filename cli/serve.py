"""Placeholder: replaced by the serve command."""
from __future__ import annotations


def serve() -> None:
    """Not built yet."""
    raise NotImplementedError
