"""Fuzzing ``merge_any`` with mixed inputs: damaged images, damaged PDFs, hostile ZIPs.

1–3 inputs per call, each a damaged image, a damaged PDF or a ZIP archive
(of damaged or intact files, under hostile member names, sometimes with a
lying header field) or a small zip bomb. Same property: a valid
PDF or an EngineError, never another exception, a hang or a partial file.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from tests.support.engine_worker import EngineWorker
from tests.support.fuzz import Seed, Tally, damaged, fuzz_settings, judge
from tests.support.fuzz_archives import bomb_archive, hostile_archive
from tests.support.fuzz_mutations import IMAGE_AWARE, PDF_AWARE


def test_mixed_hostile_inputs_merge_or_fail_cleanly(
    worker: EngineWorker,
    tmp_path: Path,
    image_seeds: dict[str, list[Seed]],
    pdf_seeds: dict[str, list[Seed]],
) -> None:
    images = damaged(image_seeds, IMAGE_AWARE)
    pdfs = damaged(pdf_seeds, PDF_AWARE)
    intact = st.sampled_from(
        [
            seed
            for seeds in (*image_seeds.values(), *pdf_seeds.values())
            for seed in seeds
            if seed.expected == "ok"
        ]
    )
    member = st.one_of(
        images.map(lambda s: s.data), pdfs.map(lambda s: s.data), intact.map(lambda s: s.data)
    )
    one_input = st.one_of(
        images.map(lambda s: ("malformed image", f"{s.name}", s.data, s.edits)),
        pdfs.map(lambda s: ("malformed PDF", f"{s.name}", s.data, s.edits)),
        hostile_archive(member).map(lambda d: ("hostile archive", "upload.zip", d, ("zip",))),
        bomb_archive(member).map(lambda d: ("bomb", "bomb.zip", d, ("bomb",))),
    )
    tally = Tally("merge_any")

    @fuzz_settings()
    @given(items=st.lists(one_input, min_size=1, max_size=3))
    def merge(items: list[tuple[str, str, bytes, tuple[str, ...]]]) -> None:
        with tempfile.TemporaryDirectory(dir=tmp_path) as scratch:
            inputs = []
            for position, (kind, name, data, _) in enumerate(items):
                inputs.append(Path(scratch) / f"{position}-{name}")
                inputs[-1].write_bytes(data)
                tally.inputs[kind] += 1
            (Path(scratch) / "out").mkdir()
            output = Path(scratch) / "out" / "merged.pdf"
            outcome = worker.run("merge_any", inputs, output)
            edits = [item[3] for item in items]
            tally.outcomes[judge(outcome, output, inputs, edits)] += 1

    merge()
    summary = tally.save()
    assert summary["outcomes"].get("pdf", 0) > 0
    assert summary["inputs"]["bomb"] > 0 and summary["outcomes"].get("TooLarge", 0) > 0
    assert sum(count for label, count in summary["outcomes"].items() if label != "pdf") > 0
