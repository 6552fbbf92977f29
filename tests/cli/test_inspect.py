"""``pdfbinder inspect`` as a real process: the report as a table and as JSON, nothing written."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pikepdf
from PIL import Image

from tests.support.cli import pdfbinder_script
from tests.support.merge_samples import pair_a_b, text_pdf


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [pdfbinder_script(), "inspect", *args], capture_output=True, text=True, cwd=cwd, timeout=60
    )


def _images(folder: Path) -> tuple[Path, Path]:
    photo, shot = folder / "photo.jpg", folder / "shot.png"
    Image.new("RGB", (64, 48), (200, 10, 10)).save(photo, dpi=(300, 300))
    Image.new("RGBA", (32, 32), (0, 0, 255, 128)).save(shot)
    return photo, shot


def _listing(folder: Path) -> set[Path]:
    return set(folder.rglob("*"))


def test_json_and_table_say_the_same_about_images(tmp_path: Path) -> None:
    _images(tmp_path)
    before = _listing(tmp_path)

    machine = _run("photo.jpg", "shot.png", "--for", "convert", "--json", cwd=tmp_path)
    human = _run("photo.jpg", "shot.png", "--for", "convert", cwd=tmp_path)

    assert machine.returncode == 0 and human.returncode == 0, machine.stderr + human.stderr
    assert _listing(tmp_path) == before
    report = json.loads(machine.stdout)
    jpeg, png = (item["image"]["frames"][0] for item in report["inputs"])
    assert (jpeg["embedding"], jpeg["method"], jpeg["dpi"]) == (
        "copied",
        "jpeg-passthrough",
        [300, 300],
    )
    assert (png["embedding"], png["method"], png["alpha"]) == (
        "re-encoded",
        "png-alpha-split",
        True,
    )
    assert report["plan"]["page_count"] == 2
    lines = human.stdout.splitlines()
    assert lines[0] == "1. photo.jpg [image]"
    assert (
        lines[1]
        .strip()
        .startswith("JPEG 64x48 px, 300 dpi, EXIF orientation 1, YCbCr (RGB), 8-bit")
    )
    assert lines[2].strip() == f"COPIED AS IS (jpeg-passthrough): {jpeg['reason']}"
    assert f"RE-ENCODED LOSSLESSLY (png-alpha-split): {png['reason']}" in human.stdout
    assert "Plan (images_to_pdf): 2 pages" in human.stdout


def test_layout_options_plan_convert_pages(tmp_path: Path) -> None:
    _images(tmp_path)
    done = _run("photo.jpg", "--for", "convert", "--page-size", "A4", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["plan"]["page_sizes"] == [[595.2756, 841.8898]]

    refused = _run("photo.jpg", "--page-size", "A4", cwd=tmp_path)
    assert refused.returncode == 2
    assert "need --for convert" in refused.stderr


def test_merge_plan_with_ranges_passwords_renames_and_bookmarks(tmp_path: Path) -> None:
    pair_a_b(tmp_path)
    with pikepdf.open(text_pdf(tmp_path / "plain.pdf", ["secret"])) as pdf:
        pdf.save(tmp_path / "locked.pdf", encryption=pikepdf.Encryption(user="u", owner="o", R=6))

    done = _run(
        "A.pdf:1-2", "B.pdf", "locked.pdf", "--password-for", "locked.pdf=o", "--json", cwd=tmp_path
    )

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    first, second, locked = (item["pdf"] for item in report["inputs"])
    assert (first["pages"], first["selected_pages"]) == (3, 2)
    assert second["renamed_fields"] == {"name": "name_2"}
    assert (locked["encrypted"], locked["password"], locked["encryption"]) == (
        True,
        "owner",
        "AES-256",
    )
    plan = report["plan"]
    assert plan["page_count"] == 5
    assert plan["renamed_fields"] == {"input 2 (B.pdf): name": "name_2"}
    assert [(mark["title"], mark["page"]) for mark in plan["bookmarks"]] == [
        ("A bookmark 1", 1),
        ("A bookmark 2", 2),
        ("A bookmark 3", None),
        ("B bookmark 1", 3),
        ("B bookmark 2", 4),
    ]

    human = _run("A.pdf:1-2", "B.pdf", cwd=tmp_path)
    assert "field name would be renamed name_2" in human.stdout
    assert "renamed field: input 2 (B.pdf): name -> name_2" in human.stdout
    assert "    B bookmark 2 -> page 4\n      B detail -> page 4" in human.stdout
    assert "page labels from page 1: lowercase roman from 1" in human.stdout


def test_bad_inputs_are_in_the_report_and_the_exit_code(tmp_path: Path) -> None:
    with pikepdf.open(text_pdf(tmp_path / "plain.pdf", ["secret"])) as pdf:
        pdf.save(tmp_path / "locked.pdf", encryption=pikepdf.Encryption(user="u", owner="o", R=6))

    done = _run("plain.pdf", "locked.pdf", "missing.pdf", "--json", cwd=tmp_path)

    assert done.returncode == 5  # the first problem: a password is missing
    report = json.loads(done.stdout)
    assert [item["problem_kind"] for item in report["inputs"]] == [
        None,
        "PasswordRequired",
        "UnsupportedInput",
    ]
    assert report["plan"]["refused"][0] == (
        "input 2 (locked.pdf): is encrypted; a password is required"
    )
    assert report["plan"]["page_count"] == 1
    human = _run("plain.pdf", "locked.pdf", cwd=tmp_path)
    assert (
        "2. locked.pdf [pdf] PROBLEM (PasswordRequired): "
        "input 2 (locked.pdf): is encrypted; a password is required"
    ) in human.stdout
    assert "would stop: input 2 (locked.pdf)" in human.stdout
