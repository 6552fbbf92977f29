"""Fuzzing ``merge_pdfs`` with damaged real PDFs: a valid PDF or an EngineError, nothing else.

Each example merges one damaged PDF, or a damaged one after an intact one
(so a failure half-way through a merge is exercised too: no partial output).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from tests.support.engine_worker import EngineWorker
from tests.support.fuzz import Sample, Seed, Tally, damaged, fuzz_settings, judge
from tests.support.fuzz_mutations import PDF_AWARE


def test_damaged_pdfs_merge_or_fail_cleanly(
    worker: EngineWorker, tmp_path: Path, pdf_seeds: dict[str, list[Seed]]
) -> None:
    intact = [seed for seed in pdf_seeds["pdf"] if seed.expected == "ok"]
    tally = Tally("pdfs")

    @fuzz_settings()
    @given(sample=damaged(pdf_seeds, PDF_AWARE), lead=st.none() | st.sampled_from(intact))
    def merge(sample: Sample, lead: Seed | None) -> None:
        with tempfile.TemporaryDirectory(dir=tmp_path) as scratch:
            inputs = []
            if lead is not None:
                inputs.append(Path(scratch) / f"intact-{lead.name}")
                inputs[-1].write_bytes(lead.data)
            inputs.append(Path(scratch) / f"damaged-{sample.name}")
            inputs[-1].write_bytes(sample.data)
            (Path(scratch) / "out").mkdir()
            output = Path(scratch) / "out" / "merged.pdf"
            outcome = worker.run("merge_pdfs", inputs, output)
            tally.outcomes[judge(outcome, output, inputs, sample.edits)] += 1
            tally.inputs["malformed PDF"] += 1

    merge()
    summary = tally.save()
    assert summary["outcomes"].get("pdf", 0) > 0
    assert sum(count for label, count in summary["outcomes"].items() if label != "pdf") > 0
