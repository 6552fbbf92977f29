"""Merging for double-sided printing and scanning: ``pad_to_even`` and ``collate``.

Page contents are read back with pdftotext; collation is compared with qpdf's
own ``--collate`` on the same inputs. Bookmarks, links and labels are checked
to stay on their own pages.
"""

from __future__ import annotations

import io
import subprocess
import zipfile
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from pdfbinder.engine import InvalidOption, PdfInput, merge_any, merge_pdfs
from tests.support.merge_samples import text_pdf
from tests.support.office import page_texts


def _labels(path: Path) -> list[str]:
    with pikepdf.open(path) as pdf:
        return [page.label for page in pdf.pages]


def _bookmarks(path: Path) -> list[tuple[str, str]]:
    """Each top-level bookmark's title and the text of the page it opens (pdftotext)."""
    texts = page_texts(path)
    with pikepdf.open(path) as pdf, pdf.open_outline() as outline:
        pages = {page.objgen: number for number, page in enumerate(pdf.pages)}
        found = []
        for item in outline.root:
            target = item.destination[0] if item.destination is not None else None
            found.append((item.title, texts[pages[target.objgen]] if target is not None else ""))
        return found


def _sizes(path: Path) -> list[tuple[float, float]]:
    with pikepdf.open(path) as pdf:
        return [(float(p.mediabox[2]), float(p.mediabox[3])) for p in pdf.pages]


def test_duplex_scan_fronts_and_reversed_backs_collate_into_reading_order(
    tmp_path: Path,
) -> None:
    # A sheet feeder scans fronts 1, 3, 5; the stack turned over gives backs 6, 4, 2.
    fronts = text_pdf(tmp_path / "fronts.pdf", ["page 1", "page 3", "page 5"])
    backs = text_pdf(tmp_path / "backs.pdf", ["page 6", "page 4", "page 2"])
    output = tmp_path / "book.pdf"

    report = merge_pdfs([fronts, PdfInput(backs, pages="z-1")], output, collate=True)

    assert report.page_count == 6
    assert page_texts(output) == [f"page {n}" for n in range(1, 7)]
    origins = [report.provenance.origin(page) for page in range(1, 7)]
    assert [(o.name, o.page) for o in origins] == [
        ("fronts.pdf", 1),
        ("backs.pdf", 3),
        ("fronts.pdf", 2),
        ("backs.pdf", 2),
        ("fronts.pdf", 3),
        ("backs.pdf", 1),
    ]


def test_collation_matches_qpdf_with_inputs_of_different_lengths(tmp_path: Path) -> None:
    a = text_pdf(tmp_path / "a.pdf", ["a1", "a2", "a3", "a4"])
    b = text_pdf(tmp_path / "b.pdf", ["b1"])
    c = text_pdf(tmp_path / "c.pdf", ["c1", "c2", "c3"])
    ours, theirs = tmp_path / "ours.pdf", tmp_path / "qpdf.pdf"
    merge_pdfs([a, b, PdfInput(c, pages="2-3")], ours, collate=True)
    subprocess.run(
        ["qpdf", "--collate", "--empty", "--pages", a, b, c, "2-3", "--", theirs], check=True
    )

    assert page_texts(ours) == page_texts(theirs)
    assert page_texts(ours) == ["a1", "b1", "c2", "a2", "c3", "a3", "a4"]


def test_collated_bookmarks_and_labels_stay_with_their_pages(tmp_path: Path) -> None:
    fronts = text_pdf(tmp_path / "fronts.pdf", ["F1", "F2", "F3"], bookmarks=True, label_style="/r")
    backs = text_pdf(tmp_path / "backs.pdf", ["B1", "B2"], bookmarks=True, label_prefix="B-")
    kept, nested = tmp_path / "kept.pdf", tmp_path / "nested.pdf"

    merge_pdfs([fronts, backs], kept, collate=True)
    merge_pdfs([fronts, backs], nested, collate=True, outline="nest", bookmark_titles="file")

    assert page_texts(kept) == ["F1", "B1", "F2", "B2", "F3"]
    # Bookmarks stay in input order, each opening its own page wherever it went.
    assert _bookmarks(kept) == [(t, t) for t in ["F1", "F2", "F3", "B1", "B2"]]
    assert _labels(kept) == ["i", "B-", "ii", "B-", "iii"]
    # One bookmark per input opens that input's first page: page 2 for the backs.
    assert _bookmarks(nested) == [("fronts", "F1"), ("backs", "B1")]


def test_collated_labels_of_unlabelled_inputs_follow_the_new_positions(tmp_path: Path) -> None:
    roman = text_pdf(tmp_path / "roman.pdf", ["r1", "r2"], label_style="/r")
    plain = text_pdf(tmp_path / "plain.pdf", ["p1", "p2", "p3"])
    output = tmp_path / "out.pdf"

    merge_pdfs([roman, plain], output, collate=True)

    assert page_texts(output) == ["r1", "p1", "r2", "p2", "p3"]
    assert _labels(output) == ["i", "2", "ii", "4", "5"]


def test_pad_to_even_adds_a_blank_page_the_size_of_the_inputs_last_page(tmp_path: Path) -> None:
    odd = text_pdf(
        tmp_path / "odd.pdf",
        ["o1", "o2", "o3"],
        sizes=[(612, 792), (612, 792), (420, 595)],
        label_style="/r",
        bookmarks=True,
    )
    even = text_pdf(tmp_path / "even.pdf", ["e1", "e2"], sizes=[(300, 200)] * 2)
    single = text_pdf(tmp_path / "single.pdf", ["s1"], sizes=[(200, 300)], bookmarks=True)
    output = tmp_path / "out.pdf"

    report = merge_pdfs([odd, even, single], output, pad_to_even=True)

    assert report.page_count == 8
    assert page_texts(output) == ["o1", "o2", "o3", "", "e1", "e2", "s1", ""]
    assert [(o.input, o.page) for o in map(report.provenance.origin, (3, 5, 7))] == [
        (0, 3),
        (1, 1),
        (2, 1),
    ]
    for padding in (4, 8):
        with pytest.raises(IndexError):
            report.provenance.origin(padding)
    assert _sizes(output) == [
        (612, 792),
        (612, 792),
        (420, 595),
        (420, 595),  # blank, as the page before it
        (300, 200),
        (300, 200),
        (200, 300),
        (200, 300),  # the last input is padded too: the whole prints on whole sheets
    ]
    # The blank page continues its input's numbering; the next input starts on page 5.
    assert _labels(output) == ["i", "ii", "iii", "iv", "5", "6", "7", "8"]
    assert _bookmarks(output) == [("o1", "o1"), ("o2", "o2"), ("o3", "o3"), ("s1", "s1")]
    with pikepdf.open(output) as pdf:
        blank = pdf.pages[3]
        assert "/Contents" not in blank.obj
        assert list(blank.obj.Resources.keys()) == []


def test_padding_page_takes_the_crop_box_and_rotation(tmp_path: Path) -> None:
    source = tmp_path / "turned.pdf"
    with pikepdf.new() as pdf:
        page = pdf.add_blank_page(page_size=(400, 300))
        page.obj.CropBox = pikepdf.Array([10, 10, 390, 290])
        page.obj.Rotate = 90
        pdf.save(source)
    output = tmp_path / "out.pdf"

    merge_pdfs([source], output, pad_to_even=True)

    with pikepdf.open(output) as pdf:
        first, blank = pdf.pages
        for key in ("/MediaBox", "/CropBox", "/Rotate"):
            assert blank.obj[key] == first.obj[key]


def test_nested_bookmarks_open_each_input_after_padding(tmp_path: Path) -> None:
    a = text_pdf(tmp_path / "a.pdf", ["a1"])
    b = text_pdf(tmp_path / "b.pdf", ["b1", "b2", "b3"])
    c = text_pdf(tmp_path / "c.pdf", ["c1", "c2"])
    output = tmp_path / "out.pdf"

    merge_pdfs([a, b, c], output, pad_to_even=True, outline="nest", bookmark_titles="file")

    assert page_texts(output) == ["a1", "", "b1", "b2", "b3", "", "c1", "c2"]
    assert _bookmarks(output) == [("a", "a1"), ("b", "b1"), ("c", "c1")]


def test_merge_any_pads_an_image_and_counts_an_archive_as_one_input(tmp_path: Path) -> None:
    photo = tmp_path / "photo.png"
    Image.new("RGB", (144, 72), (20, 120, 200)).save(photo, dpi=(72, 72))  # 2 by 1 inch
    inner = text_pdf(tmp_path / "inner.pdf", ["z1", "z2"])
    other = text_pdf(tmp_path / "other.pdf", ["z3"])
    archive = tmp_path / "scans.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.write(inner, "1.pdf")
        bundle.write(other, "2.pdf")
    output = tmp_path / "out.pdf"

    report = merge_any([photo, archive], output, pad_to_even=True)

    assert report.page_count == 6
    assert page_texts(output) == ["", "", "z1", "z2", "z3", ""]
    photo_size, blank_size = _sizes(output)[:2]
    assert blank_size == photo_size == pytest.approx((144, 72), abs=0.1)
    with pikepdf.open(output) as pdf:
        assert len(pdf.pages[0].get_images()) == 1 and len(pdf.pages[1].get_images()) == 0


def test_pad_to_even_and_collate_together_are_refused() -> None:
    with pytest.raises(InvalidOption, match="cannot be combined"):
        merge_pdfs([io.BytesIO(b"")], io.BytesIO(), pad_to_even=True, collate=True)
