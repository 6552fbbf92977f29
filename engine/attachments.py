"""Embedding the original inputs in the output, so an archived PDF keeps its sources.

Each input becomes an embedded file (``/EmbeddedFiles`` in the catalog's name
tree) under its own name, with its size, its MD5 in ``/Params /CheckSum`` (the
checksum PDF readers know) and its SHA-256 in the description, marked as the
output's source (``/AFRelationship /Source``). Inputs with the same name get
`` (2)``, `` (3)``… in their key so none replaces another; the file name a
reader extracts to stays the input's own.
"""

from __future__ import annotations

from .provenance import InputDigest


def attachment_description(digest: InputDigest) -> str:
    """What an embedded original says about itself: its input position and SHA-256."""
    return f"input {digest.index + 1}, SHA-256 {digest.sha256}"


def unique_key(name: str, taken: set[str]) -> str:
    """``name``, or ``name (N)`` when an earlier input already took it; recorded in ``taken``."""
    key, number = name, 1
    while key in taken:
        number += 1
        key = f"{name} ({number})"
    taken.add(key)
    return key
