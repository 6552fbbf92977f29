"""Page labels (i, ii, iii, B-1, ...) kept for every input at its offset in the output.

Each copied page is given the label it had in its input: numbering style,
prefix and number. Consecutive pages that continue one style are written as a
single /PageLabels entry. Pages of an input without labels are numbered in
plain decimal by their position in the output, so a later input's labels do
not run on over them. An output whose inputs have no labels gets none.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass

import pikepdf
from pikepdf import Dictionary, Name, String

from ..lookup import lookup

LabelStyle = tuple[str | None, str | None]
"""``(numbering style name such as "/r", prefix)``; a None style means prefix only."""


@dataclass(frozen=True)
class _Range:
    start: int
    style: LabelStyle
    first_number: int


class SourceLabels:
    """The labelling scheme of one input (possibly empty)."""

    def __init__(self, pdf: pikepdf.Pdf) -> None:
        self.ranges: list[_Range] = []
        self._starts: list[int] = []
        tree = lookup(pdf.Root, "/PageLabels")
        if not isinstance(tree, Dictionary):
            return
        for start, entry in pikepdf.NumberTree(tree).items():
            if not isinstance(entry, Dictionary):
                continue
            style = entry.get("/S")
            prefix = lookup(entry, "/P")
            self.ranges.append(
                _Range(
                    start=int(start),
                    style=(
                        str(style) if isinstance(style, Name) else None,
                        str(prefix) if isinstance(prefix, String) else None,
                    ),
                    first_number=int(lookup(entry, "/St", 1)),
                )
            )
        self.ranges.sort(key=lambda item: item.start)
        self._starts = [item.start for item in self.ranges]

    @property
    def present(self) -> bool:
        return bool(self.ranges)

    def label(self, page_index: int, output_index: int) -> tuple[LabelStyle, int]:
        """Style and number of source page ``page_index`` (decimal by output position if none)."""
        position = bisect_right(self._starts, page_index) - 1 if self.ranges else -1
        if position < 0:
            return ("/D", None), output_index + 1
        found = self.ranges[position]
        return found.style, found.first_number + page_index - found.start

    def stretches(self, start: int, length: int) -> Iterator[tuple[int, int]]:
        """Split source pages ``start`` .. ``start + length - 1`` where a label range begins.

        Yields ``(first page, page count)``; within a stretch, numbers run on by one.
        """
        end = start + length
        cuts = self._starts[bisect_right(self._starts, start) : bisect_left(self._starts, end)]
        for cut in [*cuts, end]:
            yield start, cut - start
            start = cut


def _ascending_runs(page_indices: list[int]) -> Iterator[tuple[int, int]]:
    """``(first index, length)`` of each stretch of consecutive ascending page indices."""
    if not page_indices:
        return
    first = previous = page_indices[0]
    for index in page_indices[1:]:
        if index != previous + 1:
            yield first, previous - first + 1
            first = index
        previous = index
    yield first, previous - first + 1


class LabelBuilder:
    """Collects the label of every output page and writes the /PageLabels tree."""

    def __init__(self) -> None:
        self.entries: list[tuple[int, LabelStyle, int]] = []
        self.any_labels = False
        self._last: tuple[LabelStyle, int] | None = None

    def add(self, labels: SourceLabels, page_indices: list[int], first_output_index: int) -> None:
        """Record the labels of one input's copied pages, in output order.

        Works a stretch of consecutively numbered pages at a time, not page by page:
        thousands of pages usually make one or two stretches.
        """
        self.any_labels |= labels.present
        output_index = first_output_index
        for run_start, run_length in _ascending_runs(page_indices):
            for page_index, count in labels.stretches(run_start, run_length):
                style, number = labels.label(page_index, output_index)
                self._record(output_index, style, number, count)
                output_index += count

    def add_next(self) -> None:
        """Record one page labelled as the page after the last one recorded."""
        assert self._last is not None, "a page must come before"
        style, number = self._last
        self._last = (style, number + 1)

    @classmethod
    def of_pages(cls, pages: list[tuple[SourceLabels, int] | None]) -> LabelBuilder:
        """The labels of pages in a new order: each page's input labelling and page number
        there (``None``: labelled as the page before it)."""
        builder = cls()
        for output_index, page in enumerate(pages):
            if page is None:
                builder.add_next()
            else:
                builder.add(page[0], [page[1]], output_index)
        return builder

    def _record(self, output_index: int, style: LabelStyle, number: int, count: int) -> None:
        """``count`` pages from ``output_index`` on, numbered from ``number`` in ``style``."""
        last = self._last
        if last is None or last[0] != style or last[1] + 1 != number:
            self.entries.append((output_index, style, number))
        self._last = (style, number + count - 1)

    def finish(self, pdf: pikepdf.Pdf) -> None:
        """Write the number tree into ``pdf``'s catalog when any input had labels."""
        if not self.any_labels:
            return
        tree = pikepdf.NumberTree.new(pdf)
        for output_index, (style, prefix), number in self.entries:
            entry = Dictionary()
            if style is not None:
                entry.S = Name(style)
            if prefix is not None:
                entry.P = String(prefix)
            if number != 1:
                entry.St = number
            tree[output_index] = entry
        pdf.Root.PageLabels = tree.obj
