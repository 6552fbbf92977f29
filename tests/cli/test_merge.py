"""The ``pdfbinder merge`` command, run as a user runs it: a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name
from PIL import Image

from tests.support.merge_samples import wrong_lengths_pdf, xmp_pdf
from tests.support.office import make_docx, make_rtf, page_texts, zip_of


def _pdf(path: Path, texts: list[str], *, user_password: str | None = None) -> Path:
    pdf = pikepdf.Pdf.new()
    font = pdf.make_indirect(
        Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica)
    )
    for text in texts:
        pdf.pages.append(
            pikepdf.Page(
                Dictionary(
                    Type=Name.Page,
                    MediaBox=Array([0, 0, 300, 300]),
                    Resources=Dictionary(Font=Dictionary(F1=font)),
                    Contents=pdf.make_stream(f"BT /F1 12 Tf 20 20 Td ({text}) Tj ET".encode()),
                )
            )
        )
    encryption = (
        pikepdf.Encryption(user=user_password, owner="owner", R=6) if user_password else False
    )
    pdf.save(path, encryption=encryption)
    return path


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    entry = "from pdfbinder.cli.app import main; main()"
    return subprocess.run(
        [sys.executable, "-c", entry, "merge", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def _texts(path: Path) -> list[str]:
    with pikepdf.open(path) as pdf:
        return [
            page.obj.Contents.read_bytes().split(b"(")[1].split(b")")[0].decode()
            for page in pdf.pages
        ]


def test_merge_with_ranges_passwords_and_json(tmp_path: Path) -> None:
    first = _pdf(tmp_path / "first.pdf", ["f1", "f2", "f3"])
    locked = _pdf(tmp_path / "locked.pdf", ["l1", "l2"], user_password="s=cret")
    out = tmp_path / "out.pdf"
    result = _run(
        f"{first}:3,1", str(locked), "-o", str(out), "--password-for", "locked.pdf=s=cret", "--json"
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["page_count"] == 4
    assert report["renamed_fields"] == {} and report["repairs"] == []
    assert _texts(out) == ["f3", "f1", "l1", "l2"]


def test_missing_password_is_one_line_exit_5_and_no_output(tmp_path: Path) -> None:
    locked = _pdf(tmp_path / "locked.pdf", ["l1"], user_password="secret")
    out = tmp_path / "out.pdf"
    result = _run(str(locked), "-o", str(out))
    assert result.returncode == 5
    assert result.stderr.strip() == (
        "pdfbinder: error: input 1 (locked.pdf): is encrypted; a password is required"
    )
    assert not out.exists()


def test_unknown_and_damaged_inputs_are_exit_3(tmp_path: Path) -> None:
    unknown = tmp_path / "notes.pdf"
    unknown.write_bytes(b"just some words\n")
    result = _run(str(unknown), "-o", str(tmp_path / "out.pdf"))
    assert result.returncode == 3
    assert result.stderr.strip() == (
        "pdfbinder: error: input 1 (notes.pdf): is not a PDF, an image, an Office document "
        "or a ZIP archive of them"
    )
    damaged = tmp_path / "fake.pdf"  # a PNG by content, cut short
    damaged.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(40))
    result = _run(str(damaged), "-o", str(tmp_path / "out.pdf"))
    assert result.returncode == 3
    assert "input 1 (fake.pdf): PNG" in result.stderr and "damaged" in result.stderr
    assert "Traceback" not in result.stderr


def test_pdfs_images_zips_and_office_documents_with_ranges(tmp_path: Path) -> None:
    pdf = _pdf(tmp_path / "first.pdf", ["f1", "f2", "f3"])
    image = tmp_path / "dot.png"
    Image.new("RGB", (30, 20), (10, 200, 30)).save(image)
    report = tmp_path / "report.docx"
    report.write_bytes(
        make_docx([("Page one", "of the report"), ("Page two", "of the report")], page_breaks=True)
    )
    bundle = tmp_path / "bundle.zip"
    bundle.write_bytes(zip_of({"memo.rtf": make_rtf("Memo in a ZIP")}))
    out = tmp_path / "out.pdf"
    result = _run(f"{pdf}:2", str(image), f"{report}:2", str(bundle), "-o", str(out), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["page_count"] == 4
    texts = page_texts(out)
    assert texts[0] == "f2" and texts[2:] == ["Page two of the report", "Memo in a ZIP"]
    with pikepdf.open(out) as merged:
        (picture,) = merged.pages[1].get_images().values()
        assert (picture.Width, picture.Height) == (30, 20)


def test_office_document_without_libreoffice_names_the_fix(tmp_path: Path) -> None:
    memo = tmp_path / "memo.rtf"
    memo.write_bytes(make_rtf("x"))
    no_soffice = {**os.environ, "PATH": str(tmp_path)}
    result = _run(str(memo), "-o", str(tmp_path / "out.pdf"), env=no_soffice)
    assert result.returncode == 3
    assert result.stderr.strip() == (
        "pdfbinder: error: input 1 (memo.rtf): cannot be converted: LibreOffice is not installed "
        "(no soffice on PATH); to enable Office documents: apt install libreoffice-writer-nogui "
        "libreoffice-calc-nogui libreoffice-impress-nogui python3-uno (or give soffice's path "
        "with --soffice or PDFBINDER_SOFFICE)"
    )


def test_bad_outline_choice_is_a_usage_error(tmp_path: Path) -> None:
    doc = _pdf(tmp_path / "doc.pdf", ["x"])
    result = _run(str(doc), "-o", str(tmp_path / "out.pdf"), "--outline", "sideways")
    assert result.returncode == 2
    assert "--outline must be one of keep, nest, drop" in result.stderr


def test_collate_puts_a_duplex_scan_back_in_order(tmp_path: Path) -> None:
    fronts = _pdf(tmp_path / "fronts.pdf", ["p1", "p3", "p5"])
    backs = _pdf(tmp_path / "backs.pdf", ["p6", "p4", "p2"])  # the stack turned over
    out = tmp_path / "book.pdf"
    result = _run("--collate", str(fronts), f"{backs}:z-1", "-o", str(out), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["page_count"] == 6
    assert page_texts(out) == ["p1", "p2", "p3", "p4", "p5", "p6"]


def test_pad_to_even_starts_every_input_on_a_front_side(tmp_path: Path) -> None:
    odd = _pdf(tmp_path / "odd.pdf", ["o1", "o2", "o3"])
    even = _pdf(tmp_path / "even.pdf", ["e1", "e2"])
    out = tmp_path / "out.pdf"
    result = _run("--pad-to-even", str(odd), str(even), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert page_texts(out) == ["o1", "o2", "o3", "", "e1", "e2"]
    with pikepdf.open(out) as merged:
        assert [list(page.mediabox) for page in merged.pages] == [[0, 0, 300, 300]] * 6


def test_pad_to_even_with_collate_is_a_usage_error(tmp_path: Path) -> None:
    first = _pdf(tmp_path / "a.pdf", ["a1"])
    out = tmp_path / "out.pdf"
    result = _run("--pad-to-even", "--collate", str(first), "-o", str(out))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "pdfbinder: error: --pad-to-even and --collate cannot be combined"
    )
    assert not out.exists()


def test_library_messages_become_warning_lines_of_our_own(tmp_path: Path) -> None:
    plain = _pdf(tmp_path / "plain.pdf", ["p1"])
    odd_xmp = xmp_pdf(tmp_path / "odd-xmp.pdf", b"<a><b/></a>")  # XML, but not XMP

    result = _run(str(odd_xmp), str(plain), "-o", str(tmp_path / "out.pdf"), "--password", "pw")

    assert result.returncode == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines and all(line.startswith("pdfbinder: warning: input ") for line in lines), lines
    assert "pdfbinder: warning: input 2 (plain.pdf): is not encrypted; " in result.stderr
    assert "pdfbinder: warning: input 1 (odd-xmp.pdf): its XMP metadata cannot be read" in (
        result.stderr
    )


def test_a_much_repaired_input_is_one_line_and_json_lists_every_repair(tmp_path: Path) -> None:
    damaged = wrong_lengths_pdf(tmp_path / "lengths.pdf", pages=50)

    result = _run(str(damaged), "-o", str(tmp_path / "out.pdf"), "--json")

    assert result.returncode == 0, result.stderr
    (line,) = result.stderr.strip().splitlines()
    report = json.loads(result.stdout)
    assert len(report["repairs"]) >= 150
    assert line == f"pdfbinder: warning: {report['warnings'][0]}"
    assert line.startswith(
        f"pdfbinder: warning: input 1 (lengths.pdf): repaired {len(report['repairs'])} problems"
    )
