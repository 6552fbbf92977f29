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
    pdf: pikepdf.Pdf, rewrite: Callable[[pikepdf.Object], None]
) -> pikepdf.Object | None:
    """The source's outline root with named references rewritten, or None without one."""
    root = pdf.Root.get("/Outlines")
    if not isinstance(root, Dictionary) or not root.is_indirect or "/First" not in root:
        return None
    for item in walk_items(root):
        rewrite(item)
    return root


def visible_count(node: pikepdf.Object) -> int:
    """How many descendants show when ``node`` is open (the value its /Count needs).

    Iterative and cycle-safe: damaged outlines can make an item its own ancestor.
    """
    total = 0
    stack = [node]
    seen: set[tuple[int, int]] = set()
    while stack:
        for child in _children(stack.pop()):
            if child.objgen in seen:
                continue
            seen.add(child.objgen)
            total += 1
            if int(child.get("/Count", 0)) > 0:
                stack.append(child)
    return total


class OutlineBuilder:
    """Collects the copied outline of each input and grafts them under one root."""

    def __init__(self, pdf: pikepdf.Pdf, policy: OutlinePolicy) -> None:
        self.pdf = pdf
        self.policy = policy
        self.top_level: list[pikepdf.Object] = []

    def add(
        self,
        copied_root: pikepdf.Object | None,
        title: str,
        first_page: pikepdf.Object | None,
        lost_names: set[str],
    ) -> None:
        """Graft one input's copied outline root (``None`` when it has none).

        Under ``nest`` the input's own bookmark opens its first copied page.
        """
        if self.policy == "drop":
            return
        children = list(_children(copied_root)) if copied_root is not None else []
        if copied_root is not None:
            for item in walk_items(copied_root):
                if points_nowhere(item, lost_names):
                    drop_lost_destination(item)
        if self.policy == "keep":
            self.top_level.extend(children)
            return
        holder = self.pdf.make_indirect(Dictionary(Title=String(title)))
        if first_page is not None:
            holder.Dest = Array([first_page, Name.Fit])
        _link_siblings(holder, children)
        if children:
            holder.Count = visible_count(holder)
        self.top_level.append(holder)

    def finish(self) -> None:
        """Write the outline root into the output catalog (nothing when it is empty)."""
        if not self.top_level:
            return
        root = self.pdf.make_indirect(Dictionary(Type=Name.Outlines))
        _link_siblings(root, self.top_level)
        root.Count = visible_count(root)
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

