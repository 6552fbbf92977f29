"""merge_any: PDFs, images and ZIP archives of them, detected by content, merged in order."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from pdfbinder.engine import NamedSource, TooLarge, UnsupportedInput, merge_any
from pdfbinder.engine.merge.archives import ArchiveLimits
from tests.support.merge_samples import text_pdf
from tests.support.qpdf import qpdf_check


def _png(color: tuple[int, int, int], size: tuple[int, int] = (40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members.items():
            if name.endswith("/"):
                archive.writestr(zipfile.ZipInfo(name), b"")
            else:
                archive.writestr(name, data)
    return buffer.getvalue()


def _page_pixels(page: pikepdf.Page) -> bytes:
    (image,) = page.get_images().values()
    assert isinstance(image, pikepdf.Stream), image  # an image XObject is a stream
    return bytes(pikepdf.PdfImage(image).as_pil_image().convert("RGB").tobytes())


def test_pdfs_images_and_zip_members_in_order(tmp_path: Path) -> None:
    pdf_path = text_pdf(tmp_path / "intro.pdf", ["intro"])
    disguised = tmp_path / "photo.pdf"  # a PNG with a .pdf name: detected by content
    disguised.write_bytes(_png((255, 0, 0)))
    archive = tmp_path / "bundle.zip"
    archive.write_bytes(
        _zip(
            {
                "scans/": b"",
                "scans/1-green.png": _png((0, 255, 0)),
                "__MACOSX/scans/._1-green.png": b"resource fork",
                "scans/.DS_Store": b"junk",
                "scans/2-doc.pdf": text_pdf(tmp_path / "member.pdf", ["member page"]).read_bytes(),
                "scans/3-blue.png": _png((0, 0, 255)),
            }
        )
    )
    out = tmp_path / "out.pdf"
    report = merge_any([pdf_path, disguised, archive], out)
    assert report.page_count == 5
    qpdf_check(out)
    with pikepdf.open(out) as pdf:
        pages = list(pdf.pages)
        assert b"(intro)" in pages[0].obj.Contents.read_bytes()
        assert _page_pixels(pages[1]) == bytes((255, 0, 0)) * 40 * 30
        assert _page_pixels(pages[2]) == bytes((0, 255, 0)) * 40 * 30
        assert b"(member page)" in pages[3].obj.Contents.read_bytes()
        assert _page_pixels(pages[4]) == bytes((0, 0, 255)) * 40 * 30


def test_office_container_of_another_kind_is_refused_by_name(tmp_path: Path) -> None:
    """Office documents are converted (tests/engine/test_office.py); a Visio drawing is not."""
    vsdx = tmp_path / "plan.vsdx"
    types = b'<Types><Override ContentType="application/vnd.ms-visio.drawing.main+xml"/></Types>'
    vsdx.write_bytes(_zip({"[Content_Types].xml": types, "visio/document.xml": b"<v/>"}))
    with pytest.raises(UnsupportedInput) as caught:
        merge_any([vsdx], tmp_path / "out.pdf")
    assert caught.value.message == (
        "input 1 (plan.vsdx): is an Office Open XML file of another kind, "
        "a kind of document merge does not convert"
    )
    assert not (tmp_path / "out.pdf").exists()


def test_unknown_content_is_refused_by_name(tmp_path: Path) -> None:
    notes = tmp_path / "notes.pdf"
    notes.write_text("just some text\n")
    with pytest.raises(UnsupportedInput, match=r"^input 2 \(notes\.pdf\): is not a PDF, an image"):
        merge_any([text_pdf(tmp_path / "a.pdf", ["a"]), notes], tmp_path / "out.pdf")


def test_nested_archive_is_refused(tmp_path: Path) -> None:
    outer = _zip({"inner.zip": _zip({"a.png": _png((1, 2, 3))})})
    with pytest.raises(UnsupportedInput, match=r"outer\.zip/inner\.zip\): is an archive inside"):
        merge_any([NamedSource(outer, "outer.zip")], tmp_path / "out.pdf")


def test_zip_bomb_is_refused_as_too_large(tmp_path: Path) -> None:
    bomb = _zip({"zeros.pdf": b"%PDF-1.7\n" + b"\0" * 5_000_000})
    with pytest.raises(TooLarge, match=r"bomb\.zip/zeros\.pdf\): expands \d+:1"):
        merge_any([NamedSource(bomb, "bomb.zip")], tmp_path / "out.pdf")


def test_archive_total_size_is_capped(tmp_path: Path) -> None:
    archive = _zip({f"{n}.png": _png((n, n, n)) for n in range(3)}, zipfile.ZIP_STORED)
    with pytest.raises(TooLarge, match=r"archive expands beyond 150 bytes"):
        merge_any(
            [NamedSource(archive, "pngs.zip")],
            tmp_path / "out.pdf",
            limits=ArchiveLimits(max_total_bytes=150),
        )
