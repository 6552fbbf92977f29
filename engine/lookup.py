"""Reading a key that PDF dictionaries often lack, without paying for its absence.

pikepdf's ``Object.get`` answers a missing key by raising and catching a
``KeyError`` across the C++ boundary, several times the cost of a hit. A merge
asks every input, page, font and bookmark for keys most of them lack
(/AcroForm, /PageLabels, /Dests, /FontDescriptor, /Next on the last bookmark,
...), which made those misses a measurable share of merging many small files.
Testing membership first makes a miss cheap and adds a little to a hit (figures
in the README's benchmark notes), so this is for keys that are absent at least
now and then; a key that is (almost) always there is read with ``.get``.
"""

from __future__ import annotations

from typing import TypeVar, cast

import pikepdf

Default = TypeVar("Default")


def lookup(
    dictionary: pikepdf.Object,
    key: str,
    default: Default = None,  # type: ignore[assignment]
) -> pikepdf.Object | Default:
    """``dictionary[key]`` when present, else ``default``: a dictionary's or a stream's key."""
    if key in dictionary:
        return cast(pikepdf.Object, dictionary.get(key))  # a hit through .get is the fast path
    return default
