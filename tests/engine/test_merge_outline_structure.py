"""The merged outline is a well-formed tree: links both ways, parents, ends and /Count.

Merging grafts every input's bookmarks under one root, rewriting only the
links that change; these tests read the raw dictionaries (not pikepdf's
outline helper, which forgives broken links) to show the result is what the
PDF specification asks for, including from inputs whose outline is damaged.
"""

from __future__ import annotations

from pathlib import Path

import pikepdf
from pikepdf import OutlineItem

from pdfbinder.engine import merge_pdfs
from tests.support.merge_samples import text_pdf
from tests.support.qpdf import qpdf_check

_LIMIT = 10_000
"""More items than any test document has: a longer chain is a loop."""


_Tree = list[tuple[str, "_Tree"]]
"""(title, children) of each outline item, in order."""


def _siblings(parent: pikepdf.Object) -> list[pikepdf.Object]:
    """``parent``'s children by /First and /Next, checking every link on the way."""
    items: list[pikepdf.Object] = []
    item = parent.get("/First")
    while item is not None:
        assert len(items) < _LIMIT, "the /Next chain loops"
        assert item.Parent.objgen == parent.objgen
        if items:
            assert item.Prev.objgen == items[-1].objgen
        else:
            assert "/Prev" not in item
        items.append(item)
        item = item.get("/Next")
    if items:
        assert parent.First.objgen == items[0].objgen
        assert parent.Last.objgen == items[-1].objgen
    return items


def _tree(parent: pikepdf.Object) -> _Tree:
    """(title, children) of every item below ``parent``, links checked at every level."""
    return [(str(item.Title), _tree(item)) for item in _siblings(parent)]


def _visible(parent: pikepdf.Object) -> int:
    """The /Count a parent must carry: its children plus what its open children show."""
    total = 0
    for item in _siblings(parent):
        total += 1
        if int(item.get("/Count", 0)) > 0:
            total += _visible(item)
    return total


def _outlined(path: Path, tag: str, *, open_children: int = 0) -> Path:
    """Three pages, a bookmark each; the second, open, gets ``open_children`` children."""
    text_pdf(path, [f"{tag} {number}" for number in range(1, 4)])
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        with pdf.open_outline() as outline:
            for number in range(3):
                outline.root.append(OutlineItem(f"{tag} {number + 1}", number))
            for child in range(open_children):
                outline.root[1].children.append(OutlineItem(f"{tag} 2.{child + 1}", 1))
        pdf.save(path)
    return path


def _damage(path: Path, change: str) -> Path:
    """Break ``path``'s outline root in one way a real damaged file does."""
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        root = pdf.Root.Outlines
        items = [root.First, root.First.Next, root.First.Next.Next]
        if change == "loop":  # the last bookmark leads back to the first, /Count is absurd
            items[2].Next = items[0]
            root.Count = 999
        elif change == "no count":
            del root.Count
        elif change == "low count":
            root.Count = 1
        elif change == "wrong prev":
            items[0].Prev = items[2]
            items[2].Prev = items[2]
        pdf.save(path)
    return path


def test_keep_links_every_bookmark_under_one_root(tmp_path: Path) -> None:
    inputs = [
        _outlined(tmp_path / f"{tag}.pdf", tag, open_children=2 if tag == "B" else 0)
        for tag in ("A", "B", "C")
    ]
    out = tmp_path / "out.pdf"
    merge_pdfs(inputs, out)
    qpdf_check(out)
    with pikepdf.open(out) as pdf:
        root = pdf.Root.Outlines
        assert _tree(root) == [
            ("A 1", []),
            ("A 2", []),
            ("A 3", []),
            ("B 1", []),
            ("B 2", [("B 2.1", []), ("B 2.2", [])]),
            ("B 3", []),
            ("C 1", []),
            ("C 2", []),
            ("C 3", []),
        ]
        assert root.Count == _visible(root) == 11
        assert pdf.Root.PageMode == pikepdf.Name.UseOutlines


def test_nest_gives_each_input_one_bookmark_holding_its_tree(tmp_path: Path) -> None:
    inputs = [
        _outlined(tmp_path / "A.pdf", "A", open_children=1),
        _outlined(tmp_path / "B.pdf", "B"),
    ]
    out = tmp_path / "out.pdf"
    merge_pdfs(inputs, out, outline="nest")
    with pikepdf.open(out) as pdf:
        root = pdf.Root.Outlines
        assert _tree(root) == [
            ("A", [("A 1", []), ("A 2", [("A 2.1", [])]), ("A 3", [])]),
            ("B", [("B 1", []), ("B 2", []), ("B 3", [])]),
        ]
        holders = _siblings(root)
        assert [holder.Count for holder in holders] == [4, 3]
        assert root.Count == _visible(root) == 2 + 4 + 3


def test_damaged_outlines_come_out_well_formed(tmp_path: Path) -> None:
    """A looping chain is cut, implausible counts are recounted, stale /Prev links rewritten."""
    changes = ["loop", "no count", "low count", "wrong prev"]
    inputs = [
        _damage(_outlined(tmp_path / f"{index}.pdf", f"D{index}", open_children=1), change)
        for index, change in enumerate(changes)
    ]
    out = tmp_path / "out.pdf"
    report = merge_pdfs(inputs, out)
    qpdf_check(out)
    assert report.page_count == 12
    with pikepdf.open(out) as pdf:
        root = pdf.Root.Outlines
        titles = [title for title, _ in _tree(root)]
        assert titles == [f"D{index} {number}" for index in range(4) for number in (1, 2, 3)]
        assert root.Count == _visible(root) == 4 * (3 + 1)


def test_an_input_without_bookmarks_leaves_the_chain_intact(tmp_path: Path) -> None:
    plain = text_pdf(tmp_path / "plain.pdf", ["no bookmarks"])
    inputs = [_outlined(tmp_path / "A.pdf", "A"), plain, _outlined(tmp_path / "B.pdf", "B")]
    out = tmp_path / "out.pdf"
    merge_pdfs(inputs, out)
    with pikepdf.open(out) as pdf:
        root = pdf.Root.Outlines
        assert [title for title, _ in _tree(root)] == ["A 1", "A 2", "A 3", "B 1", "B 2", "B 3"]
        assert root.Count == 6
