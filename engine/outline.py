"""Bookmarks from every input, pointing at their pages in the output.

Each input's outline tree is copied in the same qpdf copy as its pages, so a
bookmark's explicit destination lands on the copied page by construction;
named destinations are rewritten to the input's namespaced names beforehand.
The copied trees are then grafted under the output's outline root: side by
side (``keep``), one bookmark per input holding its tree (``nest``), or not at
all (``drop``). Damaged outlines (cycles in the sibling chain) are cut where
they loop rather than copied as an endless list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Literal

import pikepdf
from pikepdf import Array, Dictionary, Name, String

from .names import drop_lost_destination, points_nowhere

OutlinePolicy = Literal["keep", "nest", "drop"]
OUTLINE_POLICIES: tuple[OutlinePolicy, ...] = ("keep", "nest", "drop")


def _children(item: pikepdf.Object) -> Iterator[pikepdf.Object]:
    """The direct children of an outline node, stopping where a damaged chain loops."""
    seen: set[tuple[int, int]] = set()
    child = item.get("/First")
    while isinstance(child, Dictionary):
        key = child.objgen
        if key in seen:
            return
        seen.add(key)
        yield child
        child = child.get("/Next")


def walk_items(root: pikepdf.Object) -> Iterator[pikepdf.Object]:
    """Every outline item below ``root``, depth first, each at most once."""
    stack = [root]
    seen: set[tuple[int, int]] = set()
    while stack:
        node = stack.pop()
        for child in _children(node):
            if child.objgen in seen:
                continue
            seen.add(child.objgen)
            yield child
            stack.append(child)


def prepare_source_outline(
    pdf: pikepdf.Pdf, rewrite: Callable[[pikepdf.Object], None] | None
) -> pikepdf.Object | None:
    """The source's outline root, or None without one.

    ``rewrite`` (given when the input's destination names changed) is applied
    to every item first; without it the tree is not walked at all.
    """
    root = pdf.Root.get("/Outlines")
    if not isinstance(root, Dictionary) or not root.is_indirect or "/First" not in root:
        return None
    if rewrite is not None:
        for item in walk_items(root):
            rewrite(item)
    return root


def visible_count(children: list[pikepdf.Object]) -> int:
    """How many items show under a parent whose children are ``children`` (its /Count).

    Counts the children and the descendants of every open (/Count > 0) one;
    iterative and cycle-safe: damaged outlines can make an item its own ancestor.
    """
    total = 0
    level = children
    seen: set[tuple[int, int]] = set()
    stack: list[pikepdf.Object] = []
    while True:
        for child in level:
            if child.objgen in seen:
                continue
            seen.add(child.objgen)
            total += 1
            if int(child.get("/Count", 0)) > 0:
                stack.append(child)
        if not stack:
            return total
        level = list(_children(stack.pop()))


class OutlineBuilder:
    """Collects the copied outline of each input and grafts them under one root."""

    def __init__(self, pdf: pikepdf.Pdf, policy: OutlinePolicy) -> None:
        self.pdf = pdf
        self.policy = policy
        self.top_level: list[pikepdf.Object] = []
        self.visible = 0
        """How many bookmarks show with the output root open (its /Count)."""

    def add(
        self,
        copied_root: pikepdf.Object | None,
        title: str,
        first_page: pikepdf.Object | None,
        lost_names: set[str] | None,
    ) -> None:
        """Graft one input's copied outline root (``None`` when it has none).

        ``lost_names`` is given when a page range left pages out: bookmarks to
        those pages (null after the copy) or to those names lose their
        destination. Under ``nest`` the input's own bookmark opens its first
        copied page.
        """
        if self.policy == "drop":
            return
        children = list(_children(copied_root)) if copied_root is not None else []
        if copied_root is not None and lost_names is not None:
            for item in walk_items(copied_root):
                if points_nowhere(item, lost_names):
                    drop_lost_destination(item)
        shown = visible_count(children)
        if self.policy == "keep":
            self.top_level.extend(children)
            self.visible += shown
            return
        holder = self.pdf.make_indirect(Dictionary(Title=String(title)))
        if first_page is not None:
            holder.Dest = Array([first_page, Name.Fit])
        _link_siblings(holder, children)
        if children:
            holder.Count = shown
        self.top_level.append(holder)
        self.visible += 1 + shown

    def finish(self) -> None:
        """Write the outline root into the output catalog (nothing when it is empty)."""
        if not self.top_level:
            return
        root = self.pdf.make_indirect(Dictionary(Type=Name.Outlines))
        _link_siblings(root, self.top_level)
        root.Count = self.visible
        self.pdf.Root.Outlines = root
        if "/PageMode" not in self.pdf.Root:
            self.pdf.Root.PageMode = Name.UseOutlines


def _link_siblings(parent: pikepdf.Object, items: list[pikepdf.Object]) -> None:
    """Make ``items`` the children of ``parent``: fix /Parent, /Prev, /Next, /First, /Last."""
    for position, item in enumerate(items):
        item.Parent = parent
        if position > 0:
            item.Prev = items[position - 1]
        elif "/Prev" in item:
            del item.Prev
        if position + 1 < len(items):
            item.Next = items[position + 1]
        elif "/Next" in item:
            del item.Next
    if items:
        parent.First = items[0]
        parent.Last = items[-1]

