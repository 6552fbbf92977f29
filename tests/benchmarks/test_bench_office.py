"""Office documents → PDF: pdfbinder's warm LibreOffice pool vs one ``soffice`` per file.

The peer is what a user scripts without a pool: ``soffice --headless
--convert-to pdf`` once per file, each run a fresh LibreOffice process (its
profile made beforehand, so no run pays for creating one). pdfbinder converts
the same files one after the other through an :class:`OfficePool` of one
process that has already converted a document (warm), with ``merge_any``,
as merge2 does. Files alternate between the two, so a slow spell on this
shared machine hits both alike; the ratio is of wall-clock totals in the
same run. 20 small DOCX files in full mode (``PDFBINDER_BENCH=full``, which
asserts the target, ≤ 0.3×), 2 in smoke mode.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from pdfbinder.engine import merge_any
from pdfbinder.engine.office.pool import OfficePool
from tests.support.bench import FULL, REPO
from tests.support.office import make_docx, page_texts

FILES = 20 if FULL else 2
TARGET = 0.3


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("office-bench")
    paths = []
    for number in range(FILES):
        path = folder / f"memo-{number:02d}.docx"
        path.write_bytes(
            make_docx([(f"Memo {number}", "A short note. " * 40), ("Details", "More text. " * 40)])
        )
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def warm_pool(
    documents: list[Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OfficePool]:
    with OfficePool(processes=1) as pool:
        merge_any([documents[0]], tmp_path_factory.mktemp("warm") / "warm.pdf", office=pool)
        yield pool


def _soffice_once(document: Path, profile: Path, outdir: Path) -> Path:
    subprocess.run(
        [
            "soffice",
            "--headless",
            f"-env:UserInstallation={profile.as_uri()}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(outdir),
            str(document),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return outdir / f"{document.stem}.pdf"


def test_warm_pool_vs_one_soffice_per_file(
    benchmark: BenchmarkFixture, documents: list[Path], warm_pool: OfficePool, tmp_path: Path
) -> None:
    profile = tmp_path / "peer-profile"
    _soffice_once(documents[0], profile, tmp_path / "peer-warmup")  # creates the peer's profile

    def interleaved() -> tuple[float, float]:
        ours = theirs = 0.0
        for document in documents:
            began = time.perf_counter()
            merge_any([document], tmp_path / f"{document.stem}.pool.pdf", office=warm_pool)
            ours += time.perf_counter() - began
            began = time.perf_counter()
            _soffice_once(document, profile, tmp_path / "peer")
            theirs += time.perf_counter() - began
        return ours, theirs

    benchmark.group = "office"
    ours, theirs = benchmark.pedantic(interleaved, rounds=1, iterations=1)
    for number, document in enumerate(documents):
        expected = f"Memo {number} " + "A short note. " * 40
        assert page_texts(tmp_path / f"{document.stem}.pool.pdf")[0].startswith(expected.strip())
        assert page_texts(tmp_path / "peer" / f"{document.stem}.pdf")[0].startswith(
            expected.strip()
        )
    ratio = ours / theirs
    if FULL:
        text = (
            f"## office ({FILES} small DOCX, one after the other, wall clock)\n\n"
            "| path | total | per file | ratio |\n|---|---|---|---|\n"
            f"| pdfbinder, warm pool of 1 | {ours:.1f} s | {ours / FILES * 1000:.0f} ms "
            f"| {ratio:.2f}× |\n"
            f"| soffice --convert-to per file | {theirs:.1f} s | "
            f"{theirs / FILES * 1000:.0f} ms | 1× |\n"
        )
        folder = REPO / ".benchmarks"
        folder.mkdir(exist_ok=True)
        (folder / "office.md").write_text(text, encoding="utf-8")
        sys.stdout.write("\n" + text + "\n")
        assert ratio <= TARGET, (
            f"pool {ours:.1f} s vs soffice per file {theirs:.1f} s: {ratio:.2f}×"
        )
