"""Fixtures every test folder shares: where the shared corpus is, and qpdf's verdict."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PDFBINDER_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` beside the checkout (CI clones the repo with it there)."""
    if not (SHARED / "corpus" / "MANIFEST.tsv").is_file():
        pytest.fail(f"shared folder not found at {SHARED}; set PDFBINDER_SHARED")
    return SHARED


def corpus_rows(kind: str) -> list[dict[str, str]]:
    """MANIFEST.tsv rows whose path starts with ``kind`` ("images" or "pdfs")."""
    with open(SHARED / "corpus" / "MANIFEST.tsv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [row for row in rows if row["path"].startswith(kind + "/")]


def qpdf_check(path: Path) -> str:
    """Run ``qpdf --check`` and fail the test unless it reports no errors or warnings."""
    qpdf = shutil.which("qpdf")
    if qpdf is None:
        pytest.fail("qpdf is not installed (.ci/run installs it)")
    result = subprocess.run([qpdf, "--check", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, f"qpdf --check {path}:\n{result.stdout}{result.stderr}"
    return result.stdout
