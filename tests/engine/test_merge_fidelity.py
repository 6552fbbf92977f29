"""Everything every input had survives the merge: outlines, links, forms, labels, boxes."""

from __future__ import annotations

import io
from pathlib import Path

import pikepdf
import pytest
from pikepdf import Array, Dictionary, Name, String

from pdfbinder.engine import MergeReport, PdfInput, merge_pdfs
from tests.support.merge_samples import pair_a_b, text_pdf
from tests.support.qpdf import qpdf_check


def _page_number(pdf: pikepdf.Pdf, page_object: pikepdf.Object) -> int:
    """1-based output page number of ``page_object``."""
    return pdf.pages.index(pikepdf.Page(page_object)) + 1


def _outline(pdf: pikepdf.Pdf) -> list[tuple[int, str, int | None]]:
    """(depth, title, target page number) of every bookmark, depth first."""
    found: list[tuple[int, str, int | None]] = []

    def walk(items: list[pikepdf.OutlineItem], depth: int) -> None:
        for item in items:
            destination = item.destination
            # A page number stands for a destination only in an outline built in memory.
            assert not isinstance(destination, int), destination
            target: pikepdf.Object | None = destination
            if isinstance(destination, (str, pikepdf.String)):
                target = pikepdf.NameTree(pdf.Root.Names.Dests)[str(destination)]
            page = _page_number(pdf, target[0]) if target is not None else None
            found.append((depth, item.title, page))
            walk(list(item.children), depth + 1)

    with pdf.open_outline() as outline:
        walk(list(outline.root), 0)
    return found


def _link_targets(pdf: pikepdf.Pdf) -> list[tuple[int, int | None]]:
    """(page the link is on, page it lands on or None) for every link annotation."""
    names = pikepdf.NameTree(pdf.Root.Names.Dests)
    found: list[tuple[int, int | None]] = []
    for number, page in enumerate(pdf.pages, start=1):
        for annot in page.obj.get("/Annots", Array()):
            if annot.Subtype != Name.Link:
                continue
            destination = annot.get("/Dest")
            if destination is None:
                found.append((number, None))
                continue
            if isinstance(destination, pikepdf.String):
                destination = names[str(destination)]
            found.append((number, _page_number(pdf, destination[0])))
    return found


@pytest.mark.parametrize("b_legacy_dests", [False, True], ids=["name-tree", "root-dests"])
def test_pair_keeps_outlines_labels_fields_and_links(tmp_path: Path, b_legacy_dests: bool) -> None:
    a, b = pair_a_b(tmp_path, b_legacy_dests=b_legacy_dests)
    out = tmp_path / "merged.pdf"

    report = merge_pdfs([a, b], out)

    assert isinstance(report, MergeReport)
    assert report.page_count == 5
    assert report.renamed_fields == {"input 2 (B.pdf): name": "name_2"}
    qpdf_check(out)
    with pikepdf.open(out) as pdf:
        assert len(pdf.pages) == 5
        assert _outline(pdf) == [
            (0, "A bookmark 1", 1),
            (0, "A bookmark 2", 2),
            (0, "A bookmark 3", 3),
            (0, "B bookmark 1", 4),
            (0, "B bookmark 2", 5),
            (1, "B detail", 5),
        ]
        assert [page.label for page in pdf.pages] == ["i", "ii", "iii", "B-1", "B-2"]
        fields = {str(f.T): (str(f.V), _page_number(pdf, f.P)) for f in pdf.Root.AcroForm.Fields}
        assert fields == {"name": ("Alice", 1), "name_2": ("Bob", 4)}
        for widget in pdf.Root.AcroForm.Fields:
            assert "/N" in widget.AP
        assert "/Helv" in pdf.Root.AcroForm.DR.Font
        # A's link (page 1) goes to A's chap1 (page 3); B's (page 4) to B's chap1 (page 5).
        assert _link_targets(pdf) == [(1, 3), (4, 5)]
        texts = [page.obj.Contents.read_bytes() for page in pdf.pages]
        assert b"(A page 1)" in texts[0] and b"(B page 2)" in texts[4]


def test_nest_policy_puts_each_file_under_its_own_bookmark(tmp_path: Path) -> None:
    a, b = pair_a_b(tmp_path)
    out = tmp_path / "nested.pdf"
    merge_pdfs([a, PdfInput(b, name="Second part.pdf")], out, outline="nest")
    qpdf_check(out)
    with pikepdf.open(out) as pdf:
        assert _outline(pdf) == [
            (0, "A", 1),
            (1, "A bookmark 1", 1),
            (1, "A bookmark 2", 2),
            (1, "A bookmark 3", 3),
            (0, "Second part", 4),
            (1, "B bookmark 1", 4),
            (1, "B bookmark 2", 5),
            (2, "B detail", 5),
        ]


def test_drop_policy_writes_no_outline(tmp_path: Path) -> None:
    a, b = pair_a_b(tmp_path)
    out = tmp_path / "plain.pdf"
    merge_pdfs([a, b], out, outline="drop")
    with pikepdf.open(out) as pdf:
        assert "/Outlines" not in pdf.Root
        assert len(pdf.pages) == 5


def test_page_ranges_keep_only_links_and_bookmarks_whose_page_survives(tmp_path: Path) -> None:
    a, b = pair_a_b(tmp_path)
    out = tmp_path / "ranges.pdf"
    # A's pages 3,1 (reversed order); B's page 1 only: B's chap1 (its page 2) is gone.
    merge_pdfs([PdfInput(a, pages="3,1"), PdfInput(b, pages="1")], out)
    qpdf_check(out)
    with pikepdf.open(out) as pdf:
        assert [p.obj.Contents.read_bytes().split(b"(")[1][:8] for p in pdf.pages] == [
            b"A page 3",
            b"A page 1",
            b"B page 1",
        ]
        assert [page.label for page in pdf.pages] == ["iii", "i", "B-1"]
        outline = _outline(pdf)
        assert (0, "A bookmark 1", 2) in outline and (0, "A bookmark 3", 1) in outline
        assert (0, "A bookmark 2", None) in outline  # its page was left out: no destination
        # A's link still reaches A's chap1 (now page 1); B's lost its target page.
        assert _link_targets(pdf) == [(2, 1), (3, None)]
        assert list(pikepdf.NameTree(pdf.Root.Names.Dests).keys()) == ["chap1"]


def test_unlabelled_inputs_get_decimal_labels_at_their_offset(tmp_path: Path) -> None:
    a, _ = pair_a_b(tmp_path)
    plain = text_pdf(tmp_path / "plain.pdf", ["x", "y"])
    out = tmp_path / "labels.pdf"
    merge_pdfs([plain, a, plain], out)
    with pikepdf.open(out) as pdf:
        assert [page.label for page in pdf.pages] == ["1", "2", "i", "ii", "iii", "6", "7"]


def test_inherited_rotation_and_boxes_survive(tmp_path: Path) -> None:
    source = tmp_path / "inherited.pdf"
    pdf = pikepdf.Pdf.new()
    pdf.add_blank_page(page_size=(200, 300))
    page = pdf.pages[0].obj
    del page.MediaBox
    pdf.Root.Pages.MediaBox = Array([0, 0, 400, 500])
    pdf.Root.Pages.Rotate = 90
    page.CropBox = Array([10, 10, 390, 490])
    pdf.save(source)
    out = tmp_path / "out.pdf"
    merge_pdfs([source, source], out)
    with pikepdf.open(out) as merged:
        for merged_page in merged.pages:
            assert merged_page.mediabox == Array([0, 0, 400, 500])
            assert merged_page.cropbox == Array([10, 10, 390, 490])
            assert int(merged_page.obj.Rotate) == 90


def test_first_inputs_info_is_kept_unless_overridden(tmp_path: Path) -> None:
    a, b = pair_a_b(tmp_path)
    with pikepdf.open(a, allow_overwriting_input=True) as pdf:
        pdf.docinfo["/Title"] = "Document A"
        pdf.docinfo["/Author"] = "Ann"
        pdf.save(a)
    out = tmp_path / "info.pdf"
    merge_pdfs([a, b], out)
    with pikepdf.open(out) as pdf:
        assert str(pdf.docinfo["/Title"]) == "Document A"
    merge_pdfs([a, b], out, title="Bound volume")
    with pikepdf.open(out) as pdf:
        assert str(pdf.docinfo["/Title"]) == "Bound volume"
        assert str(pdf.docinfo["/Author"]) == "Ann"


def test_repeated_page_becomes_two_pages(tmp_path: Path) -> None:
    source = text_pdf(tmp_path / "one.pdf", ["only"])
    out = tmp_path / "twice.pdf"
    report = merge_pdfs([PdfInput(source, pages="1,1")], out)
    assert report.page_count == 2
    qpdf_check(out)
    with pikepdf.open(out) as pdf:
        assert len(pdf.pages) == 2
        assert pdf.pages[0].obj.objgen != pdf.pages[1].obj.objgen


def test_output_uses_object_streams_and_can_be_linearized(tmp_path: Path) -> None:
    a, b = pair_a_b(tmp_path)
    out = tmp_path / "lin.pdf"
    merge_pdfs([a, b], out, linearize=True)
    with pikepdf.open(out) as pdf:
        # libqpdf 12's own check; the qpdf 11 CLI disagrees about hint tables of 12's writer.
        assert pdf.is_linearized and pdf.check_linearization(io.StringIO())
        assert any(
            isinstance(obj, pikepdf.Stream) and obj.get("/Type") == Name.ObjStm
            for obj in pdf.objects
        )


def _named_page(pdf: pikepdf.Pdf, name: pikepdf.Object) -> int:
    """Output page number a named destination lands on."""
    return _page_number(pdf, pikepdf.NameTree(pdf.Root.Names.Dests)[str(name)][0])


def test_goto_actions_in_chains_and_triggers_land_on_their_own_documents_pages(
    tmp_path: Path,
) -> None:
    a, b = pair_a_b(tmp_path)
    with pikepdf.open(b, allow_overwriting_input=True) as pdf:
        # A link that opens a web page, then (/Next) jumps to B's chap1; and a page-open
        # trigger (/AA /O) on B's first page that goes to chap1 as well.
        chained = Dictionary(
            S=Name.URI,
            URI=String("https://example.invalid/"),
            Next=Dictionary(S=Name.GoTo, D=String("chap1")),
        )
        link = pdf.make_indirect(
            Dictionary(
                Type=Name.Annot, Subtype=Name.Link, Rect=Array([72, 400, 272, 420]), A=chained
            )
        )
        first = pdf.pages[0].obj
        first.Annots = Array([*first.Annots, link])
        first.AA = Dictionary(O=Dictionary(S=Name.GoTo, D=String("chap1")))
        pdf.save(b)
    out = tmp_path / "actions.pdf"

    merge_pdfs([a, b], out)

    qpdf_check(out)
    with pikepdf.open(out) as pdf:
        b_first = pdf.pages[3].obj
        chained_goto = next(annot.A.Next for annot in b_first.Annots if "/A" in annot)
        assert str(chained_goto.D) == "chap1-2"
        assert _named_page(pdf, chained_goto.D) == 5
        assert str(b_first.AA.O.D) == "chap1-2"
        assert _named_page(pdf, b_first.AA.O.D) == 5
        assert _named_page(pdf, String("chap1")) == 3  # A's own chap1 is untouched


def _with_open_action(path: Path, action: pikepdf.Object | None) -> Path:
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        if action is None:
            pdf.Root.OpenAction = Array([pdf.pages[1].obj, Name.FitH, 700])
        else:
            pdf.Root.OpenAction = action
        pdf.save(path)
    return path


def test_merged_document_opens_where_its_first_input_did(tmp_path: Path) -> None:
    a, b = pair_a_b(tmp_path)
    out = tmp_path / "opens.pdf"
    # B's own opening action is not the merged document's: only the first input's counts.
    _with_open_action(b, Dictionary(S=Name.GoTo, D=String("chap1")))

    merge_pdfs([_with_open_action(a, None), b], out)  # A opens at its page 2, fit width

    with pikepdf.open(out) as pdf:
        opening = pdf.Root.OpenAction
        assert str(opening.S) == "/GoTo"
        assert _page_number(pdf, opening.D[0]) == 2
        assert list(opening.D)[1:] == [Name.FitH, 700]

    merge_pdfs([b, a], out)  # B first: its GoTo chap1 lands on B's page 2, output page 2
    with pikepdf.open(out) as pdf:
        assert str(pdf.Root.OpenAction.D) == "chap1"
        assert _named_page(pdf, pdf.Root.OpenAction.D) == 2

    merge_pdfs([PdfInput(a, pages="1,3"), b], out)  # the page A opened at was left out
    with pikepdf.open(out) as pdf:
        assert "/OpenAction" not in pdf.Root


def test_opening_scripts_are_not_carried_over(tmp_path: Path) -> None:
    a, b = pair_a_b(tmp_path)
    _with_open_action(a, Dictionary(S=Name.JavaScript, JS=String("app.alert('A');")))
    out = tmp_path / "noscript.pdf"
    merge_pdfs([a, b], out)
    with pikepdf.open(out) as pdf:
        assert "/OpenAction" not in pdf.Root
