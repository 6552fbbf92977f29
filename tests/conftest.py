"""Fixtures every test folder shares (helpers to import are in ``tests.support``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.corpus import SHARED


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` beside the checkout (CI clones the repo with it there)."""
    if not (SHARED / "corpus" / "MANIFEST.tsv").is_file():
        pytest.fail(f"shared folder not found at {SHARED}; set PDFBINDER_SHARED")
    return SHARED
