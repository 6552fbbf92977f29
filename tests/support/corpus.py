"""Where the shared corpus and seed scripts are, and what the corpus manifest expects."""

from __future__ import annotations

import csv
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("PDFBINDER_SHARED", REPO.parent / "shared"))


def corpus_rows(kind: str) -> list[dict[str, str]]:
    """MANIFEST.tsv rows whose path starts with ``kind`` ("images" or "pdfs")."""
    with open(SHARED / "corpus" / "MANIFEST.tsv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [row for row in rows if row["path"].startswith(kind + "/")]
