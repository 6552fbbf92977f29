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
from tests.support.merge_samples import broken_lzw_pdf, text_pdf, wrong_lengths_pdf, xmp_pdf
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
    (summary,) = report.warnings  # the repairs themselves are all in report.repairs
    assert summary.startswith(f"input 1 (damaged.pdf): repaired {len(report.repairs)} problems")
    assert str(tmp_path) not in " ".join(report.repairs)  # no file paths of this machine
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


_XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
    b'xmlns:pdf="http://ns.adobe.com/pdf/1.3/" pdf:PDFVersion="1.3"/></rdf:RDF></x:xmpmeta>'
)


@pytest.mark.parametrize(
    ("xmp", "flate"),
    [(b"not zlib data at all", True), (b"<x:xmpmeta <<<< not xml", False), (b"<a><b/></a>", False)],
    ids=["undecodable", "not-xml", "xml-not-xmp"],
)
def test_first_input_with_unreadable_xmp_merges_without_it(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], xmp: bytes, flate: bool
) -> None:
    first = xmp_pdf(tmp_path / "first.pdf", xmp, flate=flate)
    second = text_pdf(tmp_path / "second.pdf", ["second"])
    out = tmp_path / "out.pdf"
    report = merge_pdfs([first, second], out)
    assert report.page_count == 2
    assert any(
        warning.startswith("input 1 (first.pdf): its XMP metadata cannot be read")
        for warning in report.warnings
    ), report.warnings
    with pikepdf.open(out) as merged:
        assert "/Metadata" not in merged.Root
    qpdf_check(out)
    assert capfd.readouterr().err == ""  # pikepdf's own XMP complaints stay out of stderr


def test_first_input_with_good_xmp_keeps_it(tmp_path: Path) -> None:
    first = xmp_pdf(tmp_path / "first.pdf", _XMP)
    out = tmp_path / "out.pdf"
    report = merge_pdfs([first, text_pdf(tmp_path / "second.pdf", ["second"])], out)
    assert report.warnings == []
    with pikepdf.open(out) as merged:
        assert merged.open_metadata()["pdf:PDFVersion"] == merged.pdf_version


def test_stream_damage_found_while_writing_names_the_input(tmp_path: Path) -> None:
    good = text_pdf(tmp_path / "good.pdf", ["good"])
    broken = broken_lzw_pdf(tmp_path / "broken.pdf")
    report = merge_pdfs([good, broken, good], io.BytesIO())
    assert report.page_count == 3
    assert not [warning for warning in report.warnings if warning.startswith("output:")]
    (warning,) = report.warnings
    assert warning.startswith("input 2 (broken.pdf): repaired ")
    assert "LZW" in warning
    assert all(repair.startswith("input 2 (broken.pdf): repaired: ") for repair in report.repairs)


def test_many_repairs_of_one_input_are_one_warning_and_all_in_repairs(tmp_path: Path) -> None:
    good = text_pdf(tmp_path / "good.pdf", ["good"])
    damaged = wrong_lengths_pdf(tmp_path / "lengths.pdf", pages=50)
    out = tmp_path / "out.pdf"
    report = merge_pdfs([good, damaged], out)
    assert report.page_count == 51
    assert len(report.repairs) >= 150
    assert all(repair.startswith("input 2 (lengths.pdf): repaired: ") for repair in report.repairs)
    assert report.warnings == [
        f"input 2 (lengths.pdf): repaired {len(report.repairs)} problems, the first: "
        f"{report.repairs[0].split(': repaired: ', 1)[1]} (the report's repairs list them all)"
    ]
    qpdf_check(out)


@pytest.mark.parametrize(
    ("encrypted_with", "typed"),
    [
        ("p\u00e5ssw\u00f6rd", "pa\u030asswo\u0308rd"),  # stored composed, typed decomposed
        ("file key", "\ufb01le\u00a0key"),  # typed with a ligature and a no-break space
        ("pa\u030asswo\u0308rd", "pa\u030asswo\u0308rd"),  # a writer that skipped SASLprep
    ],
    ids=["decomposed", "compatibility-forms", "as-given"],
)
def test_aes256_password_opens_as_given_or_after_saslprep(
    tmp_path: Path, encrypted_with: str, typed: str
) -> None:
    locked = tmp_path / "locked.pdf"
    with pikepdf.open(text_pdf(tmp_path / "plain.pdf", ["secret page"])) as pdf:
        pdf.save(locked, encryption=pikepdf.Encryption(user=encrypted_with, owner="o", R=6))
    out = tmp_path / "out.pdf"
    report = merge_pdfs([locked], out, password=typed)
    assert report.page_count == 1
    assert b"(secret page)" in _page_texts(out)[0]


def test_wrong_unicode_password_is_still_wrong(tmp_path: Path) -> None:
    locked = _encrypted(tmp_path / "locked.pdf", user="p\u00e5ss", owner="o")
    with pytest.raises(WrongPassword):
        merge_pdfs([locked], io.BytesIO(), password="pass")
