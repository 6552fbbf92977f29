"""Standard output that cannot be written: one line and an exit status, no traceback.

A report redirected onto a full disk (``/dev/full`` fails every write with ENOSPC)
and a reader that went away (``pdfbinder inspect … | head -1``, which Typer ends
quietly with status 1) are the two ways a command's printing fails; neither is the
command's fault, and neither may end in Python's traceback.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pikepdf
import pytest

from tests.support.cli import pdfbinder_script
from tests.support.merge_samples import text_pdf

FULL = Path("/dev/full")
needs_dev_full = pytest.mark.skipif(not FULL.exists(), reason="no /dev/full here")


def _onto_full_disk(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    with FULL.open("w") as full:
        return subprocess.run(
            [pdfbinder_script(), *args],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd,
            timeout=60,
        )


@needs_dev_full
@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("--version",),
        ("merge", "--help"),
        ("inspect", "a.pdf", "--json"),
        ("inspect", "a.pdf"),
    ],
)
def test_printing_onto_a_full_disk_is_one_line(tmp_path: Path, args: tuple[str, ...]) -> None:
    text_pdf(tmp_path / "a.pdf", ["one", "two"])
    done = _onto_full_disk(*args, cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr == "pdfbinder: No space left on device\n"


@needs_dev_full
def test_a_merge_whose_report_cannot_be_printed_keeps_its_document(tmp_path: Path) -> None:
    text_pdf(tmp_path / "a.pdf", ["one", "two"])
    text_pdf(tmp_path / "b.pdf", ["three"])
    done = _onto_full_disk("merge", "a.pdf", "b.pdf", "-o", "m.pdf", "--json", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr == "pdfbinder: No space left on device\n"
    with pikepdf.open(tmp_path / "m.pdf") as merged:
        assert len(merged.pages) == 3


def test_a_reader_gone_ends_the_command_quietly(tmp_path: Path) -> None:
    text_pdf(tmp_path / "a.pdf", ["one", "two"])
    command = subprocess.Popen(
        [pdfbinder_script(), "inspect", "a.pdf", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    # The only reader closes before the interpreter has started: its first write fails.
    assert command.stdout is not None and command.stderr is not None
    command.stdout.close()
    status = command.wait(timeout=60)
    assert (status, command.stderr.read()) == (1, b"")
    command.stderr.close()
    # The same command with a reader prints its whole report.
    report = subprocess.run(
        [pdfbinder_script(), "inspect", "a.pdf", "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=True,
    )
    assert json.loads(report.stdout)["inputs"][0]["pdf"]["pages"] == 2
