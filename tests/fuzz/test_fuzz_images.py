"""Fuzzing ``images_to_pdf`` with damaged real images: a PDF or an EngineError, nothing else."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given

from tests.support.engine_worker import EngineWorker
from tests.support.fuzz import Sample, Seed, Tally, damaged, fuzz_settings, judge
from tests.support.fuzz_mutations import IMAGE_AWARE


def test_damaged_images_convert_or_fail_cleanly(
    worker: EngineWorker, tmp_path: Path, image_seeds: dict[str, list[Seed]]
) -> None:
    assert {"png", "jpg", "tif", "gif", "bmp", "webp"} <= set(image_seeds)
    tally = Tally("images")

    @fuzz_settings()
    @given(sample=damaged(image_seeds, IMAGE_AWARE))
    def convert(sample: Sample) -> None:
        with tempfile.TemporaryDirectory(dir=tmp_path) as scratch:
            source = Path(scratch) / sample.name
            source.write_bytes(sample.data)
            (Path(scratch) / "out").mkdir()
            output = Path(scratch) / "out" / "result.pdf"
            outcome = worker.run("images_to_pdf", [source], output)
            tally.outcomes[judge(outcome, output, [source], sample.edits)] += 1
            tally.inputs["malformed image"] += 1

    convert()
    summary = tally.save()
    # Both sides of the property were exercised, not just one.
    assert summary["outcomes"].get("pdf", 0) > 0
    assert sum(count for label, count in summary["outcomes"].items() if label != "pdf") > 0
