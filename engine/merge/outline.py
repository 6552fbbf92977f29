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
from dataclasses import dataclass, field
from typing import Literal

import pikepdf
from pikepdf import Array, Dictionary, Name, String

from ..lookup import lookup
from .names import drop_lost_destination, points_nowhere

OutlinePolicy = Literal["keep", "nest", "drop"]
OUTLINE_POLICIES: tuple[OutlinePolicy, ...] = ("keep", "nest", "drop")


def _children(item: pikepdf.Object) -> list[pikepdf.Object]:
    """The direct children of an outline node, stopping where a damaged chain loops.

    In the list, each item is the /Next of the one before it.
    """
    children: list[pikepdf.Object] = []
    seen: set[tuple[int, int]] = set()
    child = lookup(item, "/First")
    while isinstance(child, Dictionary):
        key = child.objgen
        if key in seen:
            break
        seen.add(key)
        children.append(child)
        child = lookup(child, "/Next")
    return children


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


@dataclass
class Bookmark:
    """One bookmark as a reader sees it: its title, the 1-based page it opens, its children.

    ``page`` is ``None`` when the bookmark opens no page of the document (a
    link elsewhere, or a page left out by a page range).
    """

    title: str
    page: int | None
    children: list[Bookmark] = field(default_factory=list)


def bookmark_tree(
    root: pikepdf.Object, page_of: Callable[[pikepdf.Object], int | None]
) -> list[Bookmark]:
    """The bookmarks under ``root``; ``page_of`` maps an item to its page (cycle-safe)."""
    seen: set[tuple[int, int]] = set()

    def below(node: pikepdf.Object) -> list[Bookmark]:
        found = []
        for child in _children(node):
            if child.objgen in seen:
                continue
            seen.add(child.objgen)
            title = lookup(child, "/Title")
            text = str(title) if isinstance(title, String) else ""
            found.append(Bookmark(text, page_of(child), below(child)))
        return found

    return below(root)


def item_destination(item: pikepdf.Object) -> pikepdf.Object | None:
    """What a bookmark opens: its /Dest, or the destination of its GoTo action."""
    destination = lookup(item, "/Dest")
    if destination is None:
        action = lookup(item, "/A")
        if isinstance(action, Dictionary) and lookup(action, "/S") == Name.GoTo:
            destination = lookup(action, "/D")
    return destination


def prepare_source_outline(
    pdf: pikepdf.Pdf, rewrite: Callable[[pikepdf.Object], None] | None
) -> pikepdf.Object | None:
    """The source's outline root, or None without one.

    ``rewrite`` (given when the input's destination names changed) is applied
    to every item first; without it the tree is not walked at all.
    """
    root = lookup(pdf.Root, "/Outlines")
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
    total = len(children)
    seen = {child.objgen for child in children}
    stack = [child for child in children if _is_open(child)]
    while stack:
        for child in _children(stack.pop()):
            if child.objgen in seen:
                continue
            seen.add(child.objgen)
            total += 1
            if _is_open(child):
                stack.append(child)
    return total


def _is_open(item: pikepdf.Object) -> bool:
    count = lookup(item, "/Count")
    return isinstance(count, int) and count > 0


def _shown(root: pikepdf.Object, children: list[pikepdf.Object]) -> int:
    """How many items of an outline show with its root open, ``children`` being its top level.

    The input's own root /Count says exactly that, and reading every item's
    /Count instead cost merges of many bookmarked files more than all their
    other outline work; so it is used when plausible: an integer at least the
    number of top-level items, on a top-level chain that ends properly.
    Otherwise the items are counted.
    """
    if "/Next" not in children[-1]:
        count = lookup(root, "/Count")
        if isinstance(count, int) and count >= len(children):
            return count
    return visible_count(children)


class OutlineBuilder:
    """Collects the copied outline of each input and grafts them under one root."""

    def __init__(self, pdf: pikepdf.Pdf, policy: OutlinePolicy) -> None:
        self.pdf = pdf
        self.policy = policy
        self.root: pikepdf.Object | None = None
        """The output's outline root, made when the first bookmark is grafted."""
        self.first: pikepdf.Object | None = None
        self.last: pikepdf.Object | None = None
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
        children = _children(copied_root) if copied_root is not None else []
        if copied_root is not None and lost_names is not None:
            for item in walk_items(copied_root):
                if points_nowhere(item, lost_names):
                    drop_lost_destination(item)
        shown = _shown(copied_root, children) if copied_root is not None and children else 0
        if self.policy == "keep":
            self._append(children)
            self.visible += shown
            return
        holder = self.pdf.make_indirect(Dictionary(Title=String(title)))
        if first_page is not None:
            holder.Dest = Array([first_page, Name.Fit])
        if children:
            _adopt(holder, children, None)
            holder.First = children[0]
            holder.Last = children[-1]
            holder.Count = shown
        self._append([holder])
        self.visible += 1 + shown

    def _append(self, items: list[pikepdf.Object]) -> None:
        """Make ``items`` (siblings chained by /Next) the output root's next children."""
        if not items:
            return
        if self.root is None:
            self.root = self.pdf.make_indirect(Dictionary(Type=Name.Outlines))
        _adopt(self.root, items, self.last)
        if self.first is None:
            self.first = items[0]
        self.last = items[-1]

    def finish(self) -> None:
        """Write the outline root into the output catalog (nothing when it is empty)."""
        if self.root is None:
            return
        self.root.First = self.first
        self.root.Last = self.last
        self.root.Count = self.visible
        self.pdf.Root.Outlines = self.root
        if "/PageMode" not in self.pdf.Root:
            self.pdf.Root.PageMode = Name.UseOutlines


def _adopt(
    parent: pikepdf.Object, items: list[pikepdf.Object], previous: pikepdf.Object | None
) -> None:
    """Make ``items`` children of ``parent``, following sibling ``previous`` (None: first).

    ``items`` are already chained by /Next (that is how they were found), so
    only the links at the chain's ends are rewritten; /Parent and /Prev are
    written on every item, since a damaged input's /Prev cannot be trusted.
    Writing only what changes matters: a merge grafts thousands of bookmarks.
    """
    if previous is not None:
        previous.Next = items[0]
    elif "/Prev" in items[0]:
        del items[0].Prev
    for item in items:
        item.Parent = parent
        if previous is not None:
            item.Prev = previous
        previous = item
    if "/Next" in items[-1]:  # where a damaged chain looped back
        del items[-1].Next
