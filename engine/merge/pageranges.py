"""Page selection in qpdf's page-range grammar, turned into 0-based page indices.

Users already know this grammar from ``qpdf --pages``: comma-separated items,
each a page number, ``z`` (the last page), ``rN`` (the N-th page from the
end) or a range ``A-B`` of those (descending when A > B), optionally followed
by ``:even`` or ``:odd`` to keep every second page of the whole selection.
An empty or missing selection means every page.
"""

from __future__ import annotations

import re

_ITEM = re.compile(r"^(?P<start>z|r?\d+)(?:-(?P<end>z|r?\d+))?$")


class PageRangeError(ValueError):
    """The range text is malformed or names a page the document does not have."""


def _page_number(token: str, page_count: int) -> int:
    """1-based page number for ``token`` (``7``, ``z`` or ``r2``), checked against the document."""
    if token == "z":
        number = page_count
    elif token.startswith("r"):
        number = page_count - int(token[1:]) + 1
    else:
        number = int(token)
    if not 1 <= number <= page_count:
        raise PageRangeError(f"page {token} does not exist (the document has {page_count} pages)")
    return number


def parse_page_ranges(spec: str | None, page_count: int) -> list[int]:
    """The 0-based page indices ``spec`` selects, in the order it lists them."""
    if spec is None or not spec.strip():
        return list(range(page_count))
    text = spec.replace(" ", "")
    parity = ""
    if text.endswith((":even", ":odd")):
        text, parity = text.rsplit(":", 1)
    selected: list[int] = []
    for item in text.split(","):
        match = _ITEM.match(item)
        if match is None:
            raise PageRangeError(f"invalid page range {item!r} in {spec!r}")
        start = _page_number(match["start"], page_count)
        end = _page_number(match["end"], page_count) if match["end"] else start
        step = 1 if end >= start else -1
        selected.extend(number - 1 for number in range(start, end + step, step))
    if parity:
        selected = selected[1::2] if parity == "even" else selected[0::2]
    return selected
