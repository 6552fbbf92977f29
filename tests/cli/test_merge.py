"""The ``pdfbinder merge`` command, run as a user runs it: a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name


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


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    entry = "from pdfbinder.cli.app import main; main()"
    return subprocess.run(
        [sys.executable, "-c", entry, "merge", *args], capture_output=True, text=True, timeout=120
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


def test_not_a_pdf_is_exit_3(tmp_path: Path) -> None:
    fake = tmp_path / "fake.pdf"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(40))
    result = _run(str(fake), "-o", str(tmp_path / "out.pdf"))
    assert result.returncode == 3
    assert "input 1 (fake.pdf): is not a PDF (it is an image)" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_outline_choice_is_a_usage_error(tmp_path: Path) -> None:
    doc = _pdf(tmp_path / "doc.pdf", ["x"])
    result = _run(str(doc), "-o", str(tmp_path / "out.pdf"), "--outline", "sideways")
    assert result.returncode == 2
    assert "--outline must be one of keep, nest, drop" in result.stderr
