"""The command line as a user feels it: whole processes, beside what they would run instead.

Every row times complete processes — interpreter start, imports, argument
parsing, the work, exit — for pdfbinder and its peers, round-robin in one
run (each round runs every command once, so a slow spell on this shared
machine stretches all of them alike). The figure per command is its least CPU
time (user + system) over the rounds: on a loaded machine CPU time tracks the
work a process does, where wall time mostly tracks the other processes. The
wall-time median is printed beside it.

Peers: ``img2pdf`` for a one-image convert; the six-line pikepdf script
(open, ``pages.extend``, save: the least any Python merge can do) for merges,
with pdfunite and ``qpdf --pages`` on the large set; ``python -c "import
typer"`` for ``--help`` and ``--version``. Commands run with bytecode caching
on and after an untimed warm-up round, as after ``pip install``.

Smoke mode runs one round on small inputs and checks each output. Full mode
(``PDFBINDER_BENCH=full``) uses the issue's sizes, asserts its targets and
writes ``.benchmarks/cli.md``.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from tests.support.bench import FULL, REPO
from tests.support.cli import pdfbinder_script
from tests.support.merge_samples import outlined_pdf

ROUNDS = 9 if FULL else 1
PIKEPDF_SCRIPT = """\
import sys
import pikepdf
out = pikepdf.Pdf.new()
for name in sys.argv[1:-1]:
    out.pages.extend(pikepdf.open(name).pages)
out.save(sys.argv[-1])
"""
_ROWS: list[str] = []


@dataclass(frozen=True)
class Timing:
    cpu: float  # least CPU seconds over the rounds
    wall: float  # median wall seconds


def _environment() -> dict[str, str]:
    environment = dict(os.environ)
    environment.pop("PYTHONDONTWRITEBYTECODE", None)  # installed packages have bytecode
    return environment


def _run(command: list[str], cwd: Path) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=_environment(), check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return cpu, wall


def time_interleaved(commands: dict[str, list[str]], cwd: Path) -> dict[str, Timing]:
    """Each command's least CPU time and median wall time over round-robin rounds."""
    for command in commands.values():  # warm-up: bytecode written, files cached
        _run(command, cwd)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(ROUNDS):
        for name, command in commands.items():
            samples[name].append(_run(command, cwd))
    return {
        name: Timing(min(cpu for cpu, _ in runs), statistics.median(wall for _, wall in runs))
        for name, runs in samples.items()
    }


def _record(row: str, timings: dict[str, Timing], base: str, peer: str, target: float) -> float:
    ratio = timings[base].cpu / timings[peer].cpu
    cells = " · ".join(
        f"{name} {t.cpu * 1000:.0f} ms CPU ({t.wall * 1000:.0f} ms wall)"
        for name, t in timings.items()
    )
    verdict = "✔" if ratio <= target else "✘"
    line = f"| {row} | {cells} | {ratio:.2f}× {peer} | ≤ {target}× {verdict} |"
    _ROWS.append(line)
    print("\n" + line)
    return ratio


@pytest.fixture(scope="module", autouse=True)
def _publish() -> Iterator[None]:
    yield
    if FULL and _ROWS:
        folder = REPO / ".benchmarks"
        folder.mkdir(exist_ok=True)
        header = "| command | whole processes (least CPU, median wall) | ratio | target |\n"
        text = "## cli\n\n" + header + "|---|---|---|---|\n" + "\n".join(_ROWS) + "\n"
        (folder / "cli.md").write_text(text, encoding="utf-8")


def _beside_python(name: str) -> str:
    script = Path(sys.executable).with_name(name)
    assert script.is_file(), f"{name} is not installed beside {sys.executable}"
    return str(script)


def _pages(path: Path) -> int:
    with pikepdf.open(path) as pdf:
        return len(pdf.pages)


def test_convert_one_small_jpeg(tmp_path: Path) -> None:
    Image.linear_gradient("L").resize((300, 200)).convert("RGB").save(
        tmp_path / "one-small.jpg", quality=88
    )
    timings = time_interleaved(
        {
            "pdfbinder convert": [pdfbinder_script(), "convert", "one-small.jpg", "-o", "x.pdf"],
            "img2pdf": [_beside_python("img2pdf"), "one-small.jpg", "-o", "y.pdf"],
        },
        tmp_path,
    )
    assert _pages(tmp_path / "x.pdf") == _pages(tmp_path / "y.pdf") == 1
    ratio = _record("`convert` one 300×200 JPEG", timings, "pdfbinder convert", "img2pdf", 1.2)
    if FULL:
        assert ratio <= 1.2


def _merge_row(tmp_path: Path, inputs: list[Path], peers: list[str]) -> dict[str, Timing]:
    (tmp_path / "merge.py").write_text(PIKEPDF_SCRIPT)
    names = [str(path) for path in inputs]
    commands = {
        "pdfbinder merge": [pdfbinder_script(), "merge", *names, "-o", "ours.pdf"],
        "pikepdf script": [sys.executable, "merge.py", *names, "script.pdf"],
        "pdfunite": ["pdfunite", *names, "pdfunite.pdf"],
        "qpdf": ["qpdf", "--empty", "--pages", *names, "--", "qpdf.pdf"],
    }
    chosen = {name: commands[name] for name in ["pdfbinder merge", *peers]}
    timings = time_interleaved(chosen, tmp_path)
    expected = sum(_pages(path) for path in inputs)
    assert _pages(tmp_path / "ours.pdf") == expected
    with pikepdf.open(tmp_path / "ours.pdf") as merged, merged.open_outline() as outline:
        titles = [item.title for item in outline.root]
    with pikepdf.open(inputs[0]) as first, first.open_outline() as outline:
        assert titles[: len(outline.root)] == [item.title for item in outline.root]
    return timings


def test_merge_two_small_pdfs(tmp_path: Path) -> None:
    inputs = [outlined_pdf(tmp_path / f"{name}.pdf", 3, name) for name in "ab"]
    timings = _merge_row(tmp_path, inputs, ["pikepdf script"])
    ratio = _record("`merge` two 3-page PDFs", timings, "pdfbinder merge", "pikepdf script", 1.5)
    if FULL:
        assert ratio <= 1.5


def test_merge_many_small_outlined_pdfs(tmp_path: Path) -> None:
    count, pages = (100, 10) if FULL else (5, 10)
    inputs = [outlined_pdf(tmp_path / f"doc{i:03d}.pdf", pages, f"doc{i}") for i in range(count)]
    timings = _merge_row(tmp_path, inputs, ["pikepdf script", "pdfunite", "qpdf"])
    ratio = _record(
        f"`merge` {count} × {pages} pages with outlines",
        timings,
        "pdfbinder merge",
        "pikepdf script",
        1.3,
    )
    if FULL:
        assert ratio <= 1.3


def test_merge_few_large_pdfs(tmp_path: Path) -> None:
    count, pages = (5, 2000) if FULL else (2, 50)
    inputs = [outlined_pdf(tmp_path / f"doc{i:03d}.pdf", pages, f"doc{i}") for i in range(count)]
    timings = _merge_row(tmp_path, inputs, ["pdfunite", "qpdf"])
    row = f"`merge` {count} × {pages:,} pages"
    to_pdfunite = _record(row, timings, "pdfbinder merge", "pdfunite", 1.5)
    to_qpdf = _record(row, timings, "pdfbinder merge", "qpdf", 0.8)
    if FULL:
        assert to_pdfunite <= 1.5
        assert to_qpdf <= 0.8


@pytest.mark.parametrize("option", ["--help", "--version"])
def test_help_and_version(tmp_path: Path, option: str) -> None:
    timings = time_interleaved(
        {
            f"pdfbinder {option}": [pdfbinder_script(), option],
            "import typer": [sys.executable, "-c", "import typer"],
        },
        tmp_path,
    )
    ratio = _record(f"`pdfbinder {option}`", timings, f"pdfbinder {option}", "import typer", 2.0)
    if FULL:
        assert ratio <= 2.0
