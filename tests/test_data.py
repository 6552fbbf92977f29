"""The test data the repository carries: complete, licensed, and true to the full corpus."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.support.corpus import CURATED, DATA, FULL_SKIPPED, full_corpus
from tests.support.seeds import SEEDS


def _manifest_paths() -> set[str]:
    return {row["path"] for kind in ("images", "pdfs") for row in CURATED.rows(kind)}


def test_every_curated_file_has_a_manifest_row_and_every_row_a_file() -> None:
    on_disk = {
        str(path.relative_to(CURATED.root))
        for path in CURATED.root.rglob("*")
        if path.is_file() and path.name != "MANIFEST.tsv"
    }
    assert on_disk == _manifest_paths()


def test_licenses_name_every_file_in_tests_data() -> None:
    listed = set(re.findall(r"^\| `([^`]+)` \|", (DATA / "LICENSES.md").read_text(), re.M))
    files = {f"corpus/{path}" for path in _manifest_paths()}
    files |= {f"seeds/{path.name}" for path in SEEDS.iterdir()}
    assert files <= listed
    for licence in ("Apache-2.0", "LGPL-3.0", "GPL-3.0", "MIT-CMU"):
        assert (DATA / "licenses" / f"{licence}.txt").stat().st_size > 1000


def test_curated_subset_stays_small() -> None:
    size = sum(path.stat().st_size for path in DATA.rglob("*") if path.is_file())
    assert size < 12 * 1024 * 1024


def _classes(rows: list[dict[str, str]]) -> set[tuple[str, str, str]]:
    """(source folder, file format, expected outcome) of each row."""
    return {
        (os.path.dirname(row["path"]), Path(row["path"]).suffix.lower(), row["expected"])
        for row in rows
    }


@pytest.mark.skipif(full_corpus() is None, reason=FULL_SKIPPED)
def test_curated_subset_is_a_faithful_sample_of_the_full_corpus() -> None:
    full = full_corpus()
    assert full is not None
    for kind in ("images", "pdfs"):
        everything = {row["path"]: row for row in full.rows(kind)}
        curated = CURATED.rows(kind)
        for row in curated:
            assert everything.get(row["path"]) == row, row["path"]
            assert CURATED.path(row).read_bytes() == full.path(row).read_bytes(), row["path"]
        assert _classes(list(everything.values())) == _classes(curated)
    seeds = full.root.parent / "seeds"
    if seeds.is_dir():
        assert {path.name: path.read_bytes() for path in seeds.iterdir()} == {
            path.name: path.read_bytes() for path in SEEDS.iterdir()
        }
