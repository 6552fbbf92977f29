"""Encrypted, damaged and mislabelled inputs: merged when possible, refused by name otherwise."""

from __future__ import annotations

import io
from pathlib import Path

import pikepdf
import pytest

from pdfbinder.engine import (
    CorruptInput,
    InvalidOption,
    PasswordRequired,
    PdfInput,
    UnsupportedInput,
    WrongPassword,
    merge_pdfs,
)
from tests.support.merge_samples import text_pdf
from tests.support.qpdf import qpdf_check


def _encrypted(path: Path, *, user: str, owner: str) -> Path:
    with pikepdf.open(text_pdf(path.with_suffix(".plain.pdf"), ["secret page"])) as pdf:
        pdf.save(path, encryption=pikepdf.Encryption(user=user, owner=owner, R=6))
    return path


def _page_texts(path: Path) -> list[bytes]:
    with pikepdf.open(path) as pdf:
        return [page.obj.Contents.read_bytes() for page in pdf.pages]


def test_aes256_input_merges_with_its_password(tmp_path: Path) -> None:
    locked = _encrypted(tmp_path / "locked.pdf", user="u-pass", owner="o-pass")
    plain = text_pdf(tmp_path / "plain.pdf", ["open page"])
    out = tmp_path / "out.pdf"
    report = merge_pdfs([plain, PdfInput(locked, password="u-pass")], out)
    assert report.page_count == 2
    qpdf_check(out)
    texts = _page_texts(out)
    assert b"(open page)" in texts[0] and b"(secret page)" in texts[1]
    with pikepdf.open(out) as pdf:
        assert not pdf.is_encrypted


def test_merge_wide_password_applies_to_inputs_without_their_own(tmp_path: Path) -> None:
    locked = _encrypted(tmp_path / "locked.pdf", user="u-pass", owner="o-pass")
    out = tmp_path / "out.pdf"
    assert merge_pdfs([locked], out, password="u-pass").page_count == 1


def test_missing_password_names_the_input_and_leaves_no_output(tmp_path: Path) -> None:
    plain = text_pdf(tmp_path / "plain.pdf", ["open page"])
    locked = _encrypted(tmp_path / "locked.pdf", user="u-pass", owner="o-pass")
    out = tmp_path / "out.pdf"
    with pytest.raises(PasswordRequired) as caught:
        merge_pdfs([plain, locked], out)
    assert caught.value.message == "input 2 (locked.pdf): is encrypted; a password is required"
    assert not out.exists()
    assert list(tmp_path.glob(".pdfbinder-*")) == []


def test_wrong_password_names_the_input(tmp_path: Path) -> None:
    locked = _encrypted(tmp_path / "locked.pdf", user="u-pass", owner="o-pass")
    with pytest.raises(WrongPassword, match=r"^input 1 \(locked\.pdf\): .*password"):
        merge_pdfs([PdfInput(locked, password="nope")], tmp_path / "out.pdf")


def test_owner_password_only_file_opens_without_a_password(tmp_path: Path) -> None:
    restricted = _encrypted(tmp_path / "restricted.pdf", user="", owner="o-pass")
    out = tmp_path / "out.pdf"
    assert merge_pdfs([restricted], out).page_count == 1
    assert b"(secret page)" in _page_texts(out)[0]


def test_damaged_xref_is_repaired_and_reported(tmp_path: Path) -> None:
    good = text_pdf(tmp_path / "good.pdf", ["first", "second"])
    data = good.read_bytes()
    start = data.rindex(b"startxref")
    damaged = tmp_path / "damaged.pdf"
    damaged.write_bytes(data[:start] + b"startxref\n999999\n%%EOF\n")
    out = tmp_path / "out.pdf"
    report = merge_pdfs([damaged], out)
    assert report.page_count == 2
    assert report.repairs and report.repairs[0].startswith("input 1 (damaged.pdf): repaired:")
    assert set(report.repairs) <= set(report.warnings)
    qpdf_check(out)
    assert b"(second)" in _page_texts(out)[1]


def test_png_named_pdf_is_refused_by_name(tmp_path: Path) -> None:
    fake = tmp_path / "scan.pdf"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    with pytest.raises(UnsupportedInput) as caught:
        merge_pdfs([text_pdf(tmp_path / "ok.pdf", ["x"]), fake], tmp_path / "out.pdf")
    assert caught.value.message == "input 2 (scan.pdf): is not a PDF (it is an image)"
    assert not (tmp_path / "out.pdf").exists()


def test_truncated_pdf_is_a_clear_corrupt_input(tmp_path: Path) -> None:
    truncated = tmp_path / "cut.pdf"
    truncated.write_bytes(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog")
    with pytest.raises((CorruptInput, InvalidOption), match=r"input 1 \(cut\.pdf\)"):
        merge_pdfs([truncated], tmp_path / "out.pdf")


def test_bad_page_range_is_an_invalid_option_naming_the_input(tmp_path: Path) -> None:
    doc = text_pdf(tmp_path / "doc.pdf", ["a", "b"])
    with pytest.raises(InvalidOption, match=r"input 1 \(doc\.pdf\): page 5 does not exist"):
        merge_pdfs([PdfInput(doc, pages="1-5")], tmp_path / "out.pdf")


def test_bytes_and_stream_inputs_and_stream_output(tmp_path: Path) -> None:
    doc = text_pdf(tmp_path / "doc.pdf", ["a", "b"])
    sink = io.BytesIO()
    merge_pdfs([doc.read_bytes(), io.BytesIO(doc.read_bytes())], sink)
    with pikepdf.open(io.BytesIO(sink.getvalue())) as pdf:
        assert len(pdf.pages) == 4


def test_progress_is_reported_per_input(tmp_path: Path) -> None:
    doc = text_pdf(tmp_path / "doc.pdf", ["a"])
    calls: list[tuple[int, int]] = []
    merge_pdfs(
        [doc, doc, doc],
        tmp_path / "out.pdf",
        on_progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(1, 3), (2, 3), (3, 3)]


def test_many_inputs_do_not_hold_file_handles(tmp_path: Path) -> None:
    import os

    doc = text_pdf(tmp_path / "doc.pdf", ["a"])
    before = len(os.listdir("/proc/self/fd"))
    peak = 0

    def watch(done: int, total: int) -> None:
        nonlocal peak
        peak = max(peak, len(os.listdir("/proc/self/fd")))

    merge_pdfs([doc] * 300, tmp_path / "out.pdf", on_progress=watch)
    assert peak - before < 5
