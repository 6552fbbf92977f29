"""Identical fonts and images embedded by several inputs are stored once in the output."""

from __future__ import annotations

from pathlib import Path

import pikepdf
from pikepdf import Name

from pdfbinder.engine import merge_pdfs
from tests.support.merge_samples import shared_assets_pdf
from tests.support.qpdf import qpdf_check


def test_shared_font_and_image_are_stored_once(tmp_path: Path) -> None:
    first = shared_assets_pdf(tmp_path / "first.pdf", tag="first")
    second = shared_assets_pdf(tmp_path / "second.pdf", tag="second")
    out = tmp_path / "out.pdf"
    merge_pdfs([first, second], out)
    qpdf_check(out)
    inputs_size = first.stat().st_size + second.stat().st_size
    assert out.stat().st_size < 0.6 * inputs_size
    with pikepdf.open(out) as pdf:
        images = [
            o
            for o in pdf.objects
            if isinstance(o, pikepdf.Stream) and o.get("/Subtype") == Name.Image
        ]
        programs = [o for o in pdf.objects if isinstance(o, pikepdf.Stream) and "/Length1" in o]
        assert len(images) == 1 and len(programs) == 1
        for page in pdf.pages:
            assert page.Resources.XObject.Im1.objgen == images[0].objgen
            descriptor = page.Resources.Font.F1.FontDescriptor
            assert descriptor.FontFile2.objgen == programs[0].objgen
        assert len(images[0].read_bytes()) == 256 * 256 * 3


def test_different_images_are_not_merged(tmp_path: Path) -> None:
    first = shared_assets_pdf(tmp_path / "first.pdf", tag="first", seed=1)
    second = shared_assets_pdf(tmp_path / "second.pdf", tag="second", seed=2)
    out = tmp_path / "out.pdf"
    merge_pdfs([first, second], out)
    with pikepdf.open(out) as pdf:
        digests = {bytes(page.Resources.XObject.Im1.read_raw_bytes()) for page in pdf.pages}
        assert len(digests) == 2
