"""The real-world files the tests read: the curated subset in the repo, or a full corpus.

``tests/data/corpus`` (with its own ``MANIFEST.tsv``) is always there. A full
corpus with the same layout runs as well when ``PDFBINDER_CORPUS`` names its
folder; without it, the full sweep is skipped and says so in pytest's summary.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.heif import HEIF_EXTRA_MISSING

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
FULL_SKIPPED = (
    "PDFBINDER_CORPUS is not set: full corpus sweep skipped "
    "(the curated subset in tests/data/corpus runs)"
)


@dataclass(frozen=True)
class Corpus:
    """A folder of files with a ``MANIFEST.tsv`` saying what each is and what must happen."""

    name: str
    root: Path

    def rows(self, kind: str) -> list[dict[str, str]]:
        """Manifest rows whose path starts with ``kind`` ("images" or "pdfs")."""
        manifest = self.root / "MANIFEST.tsv"
        assert manifest.is_file(), f"{self.name} corpus has no manifest: {manifest}"
        with open(manifest, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t"))
        return [_on_this_installation(row) for row in rows if row["path"].startswith(kind + "/")]

    def path(self, row: dict[str, str]) -> Path:
        return self.root / row["path"]


def _on_this_installation(row: dict[str, str]) -> dict[str, str]:
    """The row as this installation must handle it.

    The manifests were written with Pillow alone, which refuses HEIC/HEIF: with
    the ``heif`` extra installed those files convert.
    """
    if row["path"].lower().endswith((".heic", ".heif")) and not HEIF_EXTRA_MISSING:
        return {**row, "expected": "ok"}
    return row


CURATED = Corpus("curated", DATA / "corpus")


def full_corpus() -> Corpus | None:
    """The corpus ``PDFBINDER_CORPUS`` names, if it is set."""
    folder = os.environ.get("PDFBINDER_CORPUS")
    return Corpus("full", Path(folder).expanduser().resolve()) if folder else None


def richest_corpus() -> Corpus:
    """The full corpus when there is one, else the curated subset."""
    return full_corpus() or CURATED


def each_corpus() -> list[Any]:
    """Parameters for a sweep: the curated subset, and the full corpus or its skip reason."""
    full = full_corpus()
    return [
        pytest.param(CURATED, id="curated"),
        pytest.param(full, id="full")
        if full
        else pytest.param(None, id="full", marks=pytest.mark.skip(reason=FULL_SKIPPED)),
    ]


def each_row(kind: str) -> list[Any]:
    """One parameter per manifest row of ``kind``, curated and full (or the full skip)."""
    params: list[Any] = [
        pytest.param(CURATED, row, id=f"curated:{row['path']}") for row in CURATED.rows(kind)
    ]
    full = full_corpus()
    if full is None:
        params.append(pytest.param(None, None, id="full", marks=pytest.mark.skip(FULL_SKIPPED)))
    else:
        params += [pytest.param(full, row, id=f"full:{row['path']}") for row in full.rows(kind)]
    return params
