"""Preflight: inputs described and the output planned by the engine's own code, nothing written."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from PIL import Image

from pdfbinder.engine import PdfInput, images_to_pdf, merge_pdfs
from pdfbinder.engine.preflight import inspect_inputs
from tests.support.colour import display_p3_profile, jpeg_with_profile
from tests.support.images import encode_png
from tests.support.merge_samples import pair_a_b, text_pdf
from tests.support.office import make_docx


def _jpeg(path: Path, mode: str = "RGB", *, orientation: int | None = None) -> Path:
    image = Image.new(mode, (60, 40), (10, 120, 200, 0) if mode == "CMYK" else (200, 40, 40))
    extra: dict[str, Any] = {"dpi": (300, 300), "quality": 90}
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        extra["exif"] = exif.tobytes()
    image.save(path, "JPEG", **extra)
    return path


def _rgba_png(path: Path) -> Path:
    Image.new("RGBA", (20, 10), (0, 0, 255, 128)).save(path)
    return path


def _gray16_png(path: Path) -> Path:
    samples = [[(x * 4000 + y * 97) % 65536 for x in range(8)] for y in range(6)]
    encode_png(path, 8, 6, 0, 16, samples)
    return path


def _encrypted(path: Path, *, user: str, owner: str) -> Path:
    with pikepdf.open(text_pdf(path.with_suffix(".plain.pdf"), ["secret page"])) as pdf:
        pdf.save(path, encryption=pikepdf.Encryption(user=user, owner=owner, R=6))
    return path


def _files(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*")}


def _outline(path: Path) -> list[tuple[str, int | None, list[Any]]]:
    """A written PDF's bookmarks as (title, 1-based page, children), read back with pikepdf."""
    with pikepdf.open(path) as pdf:
        pages = {page.objgen: number for number, page in enumerate(pdf.pages, start=1)}

        def tree(items: list[pikepdf.OutlineItem]) -> list[tuple[str, int | None, list[Any]]]:
            found = []
            for item in items:
                destination = item.destination
                # The engine writes explicit destinations (an array naming the page).
                assert destination is None or isinstance(destination, pikepdf.Array), destination
                page = pages.get(destination[0].objgen) if destination is not None else None
                found.append((item.title, page, tree(item.children)))
            return found

        with pdf.open_outline() as outline:
            return tree(outline.root)


def _planned(marks: list[dict[str, Any]]) -> list[tuple[str, int | None, list[Any]]]:
    return [(mark["title"], mark["page"], _planned(mark["children"])) for mark in marks]


def test_image_routes_match_what_the_converter_does(tmp_path: Path) -> None:
    inputs = [
        _jpeg(tmp_path / "photo.jpg"),
        _rgba_png(tmp_path / "alpha.png"),
        _gray16_png(tmp_path / "deep.png"),
        _jpeg(tmp_path / "cmyk.jpg", "CMYK"),
        _jpeg(tmp_path / "turned.jpg", orientation=6),
    ]
    before = _files(tmp_path)

    report = inspect_inputs(inputs, operation="images_to_pdf")

    assert _files(tmp_path) == before  # nothing written
    frames = [item.image.frames[0] for item in report.inputs if item.image is not None]
    assert [(f.embedding, f.method) for f in frames] == [
        ("copied", "jpeg-passthrough"),
        ("re-encoded", "png-alpha-split"),
        ("copied", "png-idat-copy"),
        ("copied", "jpeg-passthrough"),
        ("copied", "jpeg-passthrough"),
    ]
    photo, alpha, deep, cmyk, turned = frames
    assert (photo.width, photo.height, photo.dpi, photo.dpi_from_file) == (60, 40, (300, 300), True)
    assert (photo.colour, photo.bits, photo.alpha, photo.orientation) == (
        "YCbCr (RGB)",
        8,
        False,
        1,
    )
    assert "unchanged" in photo.reason
    assert alpha.alpha and alpha.colour == "RGB + alpha" and "soft mask" in alpha.reason
    assert (alpha.dpi, alpha.dpi_from_file) == ((96.0, 96.0), False)
    assert (deep.bits, deep.colour, deep.alpha) == (16, "Gray", False)
    assert cmyk.colour.startswith("CMYK")
    assert turned.orientation == 6
    # 60x40 px at 300 dpi, turned a quarter by its EXIF orientation: 9.6 x 14.4 pt.
    assert turned.page_size == (9.6, 14.4) and photo.page_size == (14.4, 9.6)
    assert report.plan.page_count == 5
    assert report.plan.page_sizes == [frame.page_size for frame in frames]
    assert report.plan.refused == []

    converted = images_to_pdf(inputs, tmp_path / "out.pdf")
    assert [item.methods[0] for item in converted.inputs] == [f.method for f in frames]
    with pikepdf.open(tmp_path / "out.pdf") as pdf:
        sizes = [tuple(round(float(v), 4) for v in page.MediaBox[2:]) for page in pdf.pages]
    assert sizes == report.plan.page_sizes


def test_a_jpeg_icc_profile_is_reported_and_the_jpeg_still_copied(tmp_path: Path) -> None:
    path = tmp_path / "p3.jpg"
    path.write_bytes(jpeg_with_profile((200, 30, 30), display_p3_profile()))

    (item,) = inspect_inputs([path], operation="images_to_pdf").inputs

    assert item.image is not None
    frame = item.image.frames[0]
    assert frame.icc is not None and frame.icc.colour_space == "RGB"
    assert frame.icc.description == "Display P3 (test, gamma 2.2)"
    assert frame.icc.size == len(display_p3_profile())
    assert (frame.embedding, frame.method) == ("copied", "jpeg-passthrough")


def test_interlaced_png_and_gif_are_re_encoded_and_say_why(tmp_path: Path) -> None:
    samples = [[x * 30 for x in range(8)] for _ in range(8)]
    encode_png(tmp_path / "laced.png", 8, 8, 0, 8, samples, interlace=True)
    Image.new("P", (8, 8), 3).save(tmp_path / "anim.gif")

    report = inspect_inputs(
        [tmp_path / "laced.png", tmp_path / "anim.gif"], operation="images_to_pdf"
    )

    laced, gif = (item.image.frames[0] for item in report.inputs if item.image is not None)
    assert (laced.method, laced.embedding) == ("png-decoded-flate", "re-encoded")
    assert "interlaced" in laced.reason
    assert (gif.method, gif.embedding) == ("flate", "re-encoded")
    assert gif.reason.startswith("GIF data has no PDF filter")


def test_layout_options_change_the_planned_pages(tmp_path: Path) -> None:
    photo = _jpeg(tmp_path / "photo.jpg")
    report = inspect_inputs([photo], operation="images_to_pdf", page_size="A4", margin="10mm")
    assert report.plan.page_sizes == [(595.2756, 841.8898)]


def test_bad_inputs_are_listed_not_raised(tmp_path: Path) -> None:
    photo = _jpeg(tmp_path / "photo.jpg")
    junk = tmp_path / "notes.bin"
    junk.write_bytes(b"\x00\x01 nothing here" * 10)
    cut = tmp_path / "cut.png"
    cut.write_bytes(_rgba_png(tmp_path / "whole.png").read_bytes()[:-20])

    report = inspect_inputs([photo, junk, cut], operation="images_to_pdf")

    good, bad, truncated = report.inputs
    assert good.problem is None and good.image is not None
    assert bad.problem == "input 2 (notes.bin): not an image in a supported format"
    assert bad.problem_kind == "UnsupportedInput"
    assert truncated.problem_kind == "CorruptInput"
    assert truncated.problem is not None and truncated.problem.startswith("input 3 (cut.png): ")
    assert report.plan.refused == [bad.problem, truncated.problem]
    assert report.plan.page_count == 1  # what the inputs that pass would make


def test_encrypted_pdf_with_and_without_its_passwords(tmp_path: Path) -> None:
    locked = _encrypted(tmp_path / "locked.pdf", user="u-pass", owner="o-pass")
    restricted = _encrypted(tmp_path / "restricted.pdf", user="", owner="o-pass")
    plain = text_pdf(tmp_path / "plain.pdf", ["open page"])

    report = inspect_inputs(
        [
            locked,
            PdfInput(locked, password="u-pass"),
            PdfInput(locked, password="o-pass"),
            PdfInput(locked, password="nope"),
            restricted,
            plain,
        ],
        operation="merge_pdfs",
    )

    none, user, owner, wrong, empty, open_one = report.inputs
    assert none.problem_kind == "PasswordRequired"
    assert none.problem == "input 1 (locked.pdf): is encrypted; a password is required"
    assert user.pdf is not None and (user.pdf.encrypted, user.pdf.password) == (True, "user")
    assert user.pdf.encryption == "AES-256"
    assert owner.pdf is not None and owner.pdf.password == "owner"
    assert wrong.problem_kind == "WrongPassword"
    assert empty.pdf is not None and (empty.pdf.encrypted, empty.pdf.password) == (True, "empty")
    assert open_one.pdf is not None and (open_one.pdf.encrypted, open_one.pdf.password) == (
        False,
        "none",
    )
    assert report.plan.refused == [none.problem, wrong.problem]
    assert report.plan.page_count == 4  # the inputs that open: 2, 3, 5, 6


def test_damaged_pdf_is_repairable_and_a_wreck_is_not(tmp_path: Path) -> None:
    data = text_pdf(tmp_path / "good.pdf", ["first", "second"]).read_bytes()
    damaged = tmp_path / "damaged.pdf"
    damaged.write_bytes(data[: data.rindex(b"startxref")] + b"startxref\n999999\n%%EOF\n")
    wreck = tmp_path / "wreck.pdf"
    wreck.write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 50)

    report = inspect_inputs([damaged, wreck], operation="merge_pdfs")

    repaired, lost = report.inputs
    assert repaired.pdf is not None and repaired.pdf.damaged and repaired.pdf.pages == 2
    assert repaired.pdf.repairs
    assert lost.problem_kind == "CorruptInput"
    assert report.plan.page_count == 2
    assert report.plan.warnings[0].startswith("input 1 (damaged.pdf): repaired")
    assert report.plan.warnings == merge_pdfs([damaged], tmp_path / "out.pdf").warnings


def test_fields_renames_labels_and_bookmarks_are_the_merges_own(tmp_path: Path) -> None:
    a, b = pair_a_b(tmp_path)

    report = inspect_inputs([a, b], operation="merge_pdfs")

    first, second = report.inputs
    assert first.pdf is not None and second.pdf is not None
    assert (first.pdf.pages, first.pdf.outline_items, first.pdf.fields) == (3, 3, ["name"])
    assert first.pdf.renamed_fields == {}
    assert second.pdf.renamed_fields == {"name": "name_2"}
    assert report.plan.renamed_fields == {"input 2 (B.pdf): name": "name_2"}
    assert [(r.first_page, r.style, r.prefix, r.start) for r in first.pdf.page_labels] == [
        (1, "lowercase roman", None, 1)
    ]
    assert [(r.style, r.prefix) for r in second.pdf.page_labels] == [("decimal", "B-")]
    assert report.plan.page_count == 5

    merged = merge_pdfs([a, b], tmp_path / "out.pdf")
    assert merged.renamed_fields == report.plan.renamed_fields
    assert _planned(report.plan.bookmarks) == _outline(tmp_path / "out.pdf")
    assert _planned(report.plan.bookmarks)[3:] == [
        ("B bookmark 1", 4, []),
        ("B bookmark 2", 5, [("B detail", 5, [])]),
    ]


def test_nested_bookmarks_and_page_ranges_in_the_plan(tmp_path: Path) -> None:
    a, b = pair_a_b(tmp_path)

    report = inspect_inputs(
        [PdfInput(a, pages="2-3"), b],
        operation="merge_pdfs",
        outline="nest",
        bookmark_titles="file",
    )

    assert report.inputs[0].pdf is not None and report.inputs[0].pdf.selected_pages == 2
    assert report.plan.page_count == 4
    merge_pdfs(
        [PdfInput(a, pages="2-3"), b], tmp_path / "out.pdf", outline="nest", bookmark_titles="file"
    )
    planned = _planned(report.plan.bookmarks)
    assert planned == _outline(tmp_path / "out.pdf")
    assert [(title, page) for title, page, _ in planned] == [("A", 1), ("B", 3)]
    assert planned[0][2][0] == ("A bookmark 1", None, [])  # its page was left out


def test_pad_to_even_and_collate_are_planned_by_the_merge(tmp_path: Path) -> None:
    a, b = pair_a_b(tmp_path)  # 3 pages and 2 pages
    variants: list[dict[str, Any]] = [{"pad_to_even": True}, {"collate": True}]
    for options in variants:
        report = inspect_inputs([a, b], operation="merge_pdfs", **options)
        merge_pdfs([a, b], tmp_path / "out.pdf", **options)
        with pikepdf.open(tmp_path / "out.pdf") as pdf:
            assert report.plan.page_count == len(pdf.pages)
        assert _planned(report.plan.bookmarks) == _outline(tmp_path / "out.pdf")
    # Collated: A1 B1 A2 B2 A3, so B's bookmarks open pages 2 and 4.
    assert _planned(report.plan.bookmarks)[3][:2] == ("B bookmark 1", 2)


def test_zip_members_and_office_documents_without_libreoffice(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("one.pdf", text_pdf(tmp_path / "one.pdf", ["one"]).read_bytes())
        buffer = io.BytesIO()
        Image.new("RGB", (8, 8)).save(buffer, "PNG")
        archive.writestr("pic.png", buffer.getvalue())
    letter = tmp_path / "letter.docx"
    letter.write_bytes(make_docx([("Heading 1", "Hello")]))

    report = inspect_inputs([bundle, letter], operation="merge_any")

    archive_facts, document = report.inputs
    assert archive_facts.kind == "zip"
    assert [(m.name, m.kind) for m in archive_facts.members] == [
        ("bundle.zip/one.pdf", "pdf"),
        ("bundle.zip/pic.png", "image"),
    ]
    assert archive_facts.members[1].image is not None
    assert archive_facts.members[1].image.frames[0].method == "png-idat-copy"
    assert (document.kind, document.office, document.problem) == ("office", "docx", None)
    assert report.plan.unconverted == ["input 2 (letter.docx)"]
    assert report.plan.page_count == 2  # the ZIP's two pages; LibreOffice decides the rest


def test_merge_pdfs_refuses_what_merge_pdfs_refuses(tmp_path: Path) -> None:
    photo = _jpeg(tmp_path / "photo.jpg")
    report = inspect_inputs([photo], operation="merge_pdfs")
    assert report.inputs[0].problem == "input 1 (photo.jpg): is not a PDF (it is an image)"
    assert report.plan.page_count is None


def test_to_dict_is_plain_json(tmp_path: Path) -> None:
    import json

    a, b = pair_a_b(tmp_path)
    data = json.loads(json.dumps(inspect_inputs([a, b]).to_dict()))
    assert data["plan"]["operation"] == "merge_any"
    assert data["plan"]["bookmarks"][0] == {"title": "A bookmark 1", "page": 1, "children": []}


def test_a_bad_option_is_the_only_thing_raised(tmp_path: Path) -> None:
    from pdfbinder.engine import InvalidOption

    with pytest.raises(InvalidOption):
        inspect_inputs([_jpeg(tmp_path / "p.jpg")], operation="images_to_pdf", fit="sideways")
