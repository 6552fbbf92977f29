"""Shared by the load and chaos tests: a server process's resources, results, PDF checks."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pikepdf

RESULTS = Path(__file__).resolve().parents[2] / ".benchmarks"


class ProcessProbe:
    """Resident memory and open file descriptors of one process, read from ``/proc``."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def rss_bytes(self) -> int:
        status = Path(f"/proc/{self.pid}/status").read_text()
        line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
        return int(line.split()[1]) * 1024

    def open_fds(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))


def page_count(data: bytes) -> int:
    """Pages of a PDF given as bytes (pikepdf raises if it is not a whole PDF)."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        return len(pdf.pages)


def save_result(name: str, summary: dict[str, Any]) -> None:
    """``.benchmarks/<name>.json`` (read for the README table), and one line on stdout."""
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"{name}: {json.dumps(summary)}")
