"""``serve --processes 2`` beside ``serve --processes 1``, with wrk as the client.

The same server, the same settings (2 job threads per process, a 64×48 PNG job
from an offline URL mirror), one process and then two, in turns: sync jobs and
``/health`` at 8 keep-alive connections (the kernel spreads the connections over
the processes). The row is the two-process rate as a multiple of the one-process
rate measured in the same run, so the machine's load weighs on both.

Smoke mode runs one turn of a second each and checks the answers; full mode
(``PDFBINDER_BENCH=full``) runs two turns of 8 s, asserts that two processes
answer at least 1.3× the sync jobs of one (on a machine with 2 cores or more)
and writes ``.benchmarks/processes.md``.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pikepdf
from PIL import Image

from tests.support.bench import FULL, REPO
from tests.support.compat import ServeProcess

SECONDS = 8 if FULL else 1
TURNS = 2 if FULL else 1
HOST = "bench.example.test"
COLOR = (10, 80, 160)
JOB = f"/pdf/convert/from/image?name=one.pdf&url=https://{HOST}/one.png"


def _rate(url: str) -> float:
    """Answers per second wrk gets from ``url`` at 8 keep-alive connections; all 200."""
    done = subprocess.run(
        ["wrk", "-t8", "-c8", f"-d{SECONDS}s", "--timeout", "30s", url],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Non-2xx" not in done.stdout and "Socket errors" not in done.stdout, done.stdout
    found = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    assert found is not None, done.stdout
    return float(found.group(1))


def _one_turn(root: Path, processes: int, turn: int) -> tuple[float, float]:
    """(sync jobs/s, /health requests/s) of a fresh server on ``processes`` processes."""
    data = root / f"data-{processes}-{turn}"
    args = ("--url-map", str(root / "mirror"), "--workers", "2", "--processes", str(processes))
    with ServeProcess(data, *args) as serve:
        serve.wait_for_processes(processes)
        answer = httpx.get(serve.url + JOB, timeout=60).json()
        with pikepdf.open(io.BytesIO(httpx.get(answer["url"]).content)) as pdf:
            (image,) = pdf.pages[0].get_images().values()
            assert pikepdf.PdfImage(image).as_pil_image().getpixel((5, 5)) == COLOR
        return _rate(serve.url + JOB), _rate(serve.url + "/health")


def test_two_processes_beside_one(tmp_path: Path) -> None:
    assert shutil.which("wrk"), "wrk is not installed (.ci/run installs it)"
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), COLOR).save(buffer, "PNG")
    (tmp_path / "mirror" / HOST).mkdir(parents=True)
    (tmp_path / "mirror" / HOST / "one.png").write_bytes(buffer.getvalue())
    rates: dict[int, list[tuple[float, float]]] = {1: [], 2: []}
    for turn in range(TURNS):
        for processes in (1, 2):
            rates[processes].append(_one_turn(tmp_path, processes, turn))
    one_jobs = sum(jobs for jobs, _ in rates[1]) / TURNS
    two_jobs = sum(jobs for jobs, _ in rates[2]) / TURNS
    one_health = sum(health for _, health in rates[1]) / TURNS
    two_health = sum(health for _, health in rates[2]) / TURNS
    load = Path("/proc/loadavg").read_text().split()[:3]
    rows = {
        "sync jobs, 8 connections": f"{two_jobs:.0f} vs {one_jobs:.0f} jobs/s = "
        f"{two_jobs / one_jobs:.2f}× (target ≥ 1.3× on 2+ cores)",
        "/health, 8 connections": f"{two_health:.0f} vs {one_health:.0f} requests/s = "
        f"{two_health / one_health:.2f}×",
    }
    print("\n", rows, "load", load)
    if FULL:
        folder = REPO / ".benchmarks"
        folder.mkdir(exist_ok=True)
        text = (
            f"## serve --processes 2 vs 1 ({os.cpu_count()} CPUs, load {' '.join(load)})\n\n"
            "| row | 2 processes vs 1 |\n|---|---|\n"
        )
        lines = "\n".join(f"| {name} | {value} |" for name, value in rows.items())
        (folder / "processes.md").write_text(text + lines + "\n", encoding="utf-8")
        if (os.cpu_count() or 1) >= 2:
            assert two_jobs / one_jobs >= 1.3
