"""qpdf's verdict on a PDF a test wrote."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def qpdf_check(path: Path) -> str:
    """Run ``qpdf --check`` and fail the test unless it reports no errors or warnings."""
    qpdf = shutil.which("qpdf")
    if qpdf is None:
        pytest.fail("qpdf is not installed (.ci/run installs it)")
    result = subprocess.run([qpdf, "--check", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, f"qpdf --check {path}:\n{result.stdout}{result.stderr}"
    return result.stdout
