"""What every fuzz test shares: corpus seeds, the drawn sample, the property, the tally.

The property: whatever the bytes, an engine entry point either
writes a valid PDF (pikepdf opens it, it has pages, as many as the report
says) or raises an :class:`EngineError` subclass with a one-line message and
leaves no file behind — never another exception, a dead worker or a hang.

Bounded and deterministic by default (``derandomize=True``, a fixed number
of examples: CI runs the same inputs every time). ``PDFBINDER_FUZZ_EXAMPLES``
raises the count for longer local runs and ``PDFBINDER_FUZZ_RANDOM=1`` draws
fresh inputs each run. A failing input is saved under
``.benchmarks/fuzz-failures/`` so it can become a regression test.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pikepdf
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.support.corpus import Corpus
from tests.support.engine_worker import Outcome
from tests.support.fuzz_mutations import GENERIC, Draw, Mutator, splice

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / ".benchmarks"
EXAMPLES = int(os.environ.get("PDFBINDER_FUZZ_EXAMPLES", "300"))
RANDOM = os.environ.get("PDFBINDER_FUZZ_RANDOM") == "1"
SEED_MAX_BYTES = 64 * 1024
"""Seeds are kept small so each example runs in milliseconds; damage, not size, is the point."""


def fuzz_settings(examples: int = EXAMPLES) -> settings:
    """Hypothesis settings of every fuzz test: bounded, deterministic unless asked otherwise."""
    return settings(
        max_examples=examples,
        derandomize=not RANDOM,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )


@dataclass(frozen=True)
class Seed:
    """One real corpus file: its name, format (file extension), bytes and MANIFEST verdict."""

    name: str
    fmt: str
    data: bytes
    expected: str


def load_seeds(corpus: Corpus, kind: str) -> dict[str, list[Seed]]:
    """Corpus files of ``kind`` ("images" or "pdfs") up to :data:`SEED_MAX_BYTES`, by format."""
    groups: dict[str, list[Seed]] = {}
    for row in corpus.rows(kind):
        path = corpus.path(row)
        if path.stat().st_size <= SEED_MAX_BYTES:
            extension = path.suffix.lower()[1:]
            fmt = {"jpeg": "jpg", "tiff": "tif"}.get(extension, extension)
            seed = Seed(path.name, fmt, path.read_bytes(), row["expected"])
            groups.setdefault(fmt, []).append(seed)
    return groups


@dataclass(frozen=True)
class Sample:
    """A damaged file: the seed it came from and the edits applied, in order."""

    name: str
    data: bytes
    edits: tuple[str, ...]


@st.composite
def damaged(draw: Draw, groups: dict[str, list[Seed]], aware: tuple[Mutator, ...]) -> Sample:
    """A seed of a drawn format, then 1–3 edits (format-aware ones twice as likely)."""
    fmt = draw(st.sampled_from(sorted(groups)))
    seed = draw(st.sampled_from(groups[fmt]))
    partner = draw(st.sampled_from(groups[fmt]))
    mutators = (*aware, *aware, *GENERIC, splice(partner.data))
    data, edits = seed.data, []
    for _ in range(draw(st.integers(1, 3))):
        mutator = draw(st.sampled_from(mutators))
        data = mutator(draw, data)
        edits.append(mutator.__name__)
    return Sample(seed.name, data, tuple(edits))


@dataclass
class Tally:
    """Counts of one fuzz target: inputs tried by kind, outcomes by verdict/error class."""

    target: str
    inputs: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)

    def save(self) -> dict[str, Any]:
        """Write ``.benchmarks/fuzz-<target>.json`` (read for the README table) and return it."""
        summary = {
            "target": self.target,
            "examples": sum(self.outcomes.values()),
            "inputs": dict(self.inputs),
            "outcomes": dict(self.outcomes),
        }
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / f"fuzz-{self.target}.json").write_text(json.dumps(summary, indent=2) + "\n")
        print(f"fuzz {self.target}: {summary}")
        return summary


def keep_failure(inputs: list[Path]) -> Path:
    """Copy a failing example's inputs to ``.benchmarks/fuzz-failures/<digest>/``."""
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in inputs)).hexdigest()[:12]
    folder = RESULTS / "fuzz-failures" / digest
    folder.mkdir(parents=True, exist_ok=True)
    for position, path in enumerate(inputs):
        shutil.copyfile(path, folder / f"{position}-{path.name}")
    return folder


def judge(outcome: Outcome, output: Path, inputs: list[Path], edits: object) -> str:
    """Assert the property for one call; the outcome's label for the tally.

    On failure the inputs are kept (see :func:`keep_failure`) and named in the message.
    """
    try:
        return _check(outcome, output)
    except AssertionError as failure:
        folder = keep_failure(inputs)
        raise AssertionError(f"{failure}\ninputs kept in {folder}; edits {edits}") from None


def _check(outcome: Outcome, output: Path) -> str:
    assert outcome.verdict in ("pdf", "engine-error"), (
        f"{outcome.verdict} ({outcome.error_type}): {outcome.detail}"
    )
    leftovers = sorted(path.name for path in output.parent.iterdir() if path != output)
    assert not leftovers, f"stray files {leftovers} next to the output"
    if outcome.verdict == "pdf":
        with pikepdf.open(output) as pdf:
            pages = len(pdf.pages)
        assert pages > 0 and pages == outcome.page_count, (pages, outcome)
        return "pdf"
    assert "EngineError" in outcome.error_bases, outcome
    assert not output.exists(), f"{outcome.error_type} but an output was left"
    lines = outcome.detail.splitlines()
    assert len(lines) == 1 and lines[0].strip(), f"not one line: {outcome.detail!r}"
    return outcome.error_type
