"""Helpers for the image benchmarks: mode switch, peak-memory measurement, ratio tables.

Smoke mode (the default,
``--benchmark-disable``) runs each benchmark body once on tiny inputs and only
checks correctness; ``PDFBINDER_BENCH=full`` with ``--benchmark-enable`` uses
full-size inputs and prints each peer's time as a ratio to pdfbinder's (also
written to ``.benchmarks/<table>.md``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

FULL = os.environ.get("PDFBINDER_BENCH") == "full"
REPO = Path(__file__).resolve().parents[2]


def peak_rss_mb(code: str, *args: str) -> float:
    """Peak resident memory (MB) of a fresh Python process running ``code``.

    The work runs in a grandchild so that RUSAGE_CHILDREN of the child we
    wait for covers that one process only, not earlier test processes.
    """
    wrapper = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run([sys.executable, '-c', sys.argv[1], *sys.argv[2:]])\n"
        "if done.returncode: sys.exit(done.returncode)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", wrapper, code, *args], capture_output=True, text=True, check=True
    )
    kilobytes = int(result.stdout.strip().splitlines()[-1])
    return kilobytes / 1024


class RatioTable:
    """Collects median seconds per (group, peer) and renders peer/pdfbinder ratios."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.medians: dict[str, dict[str, float]] = {}
        self.notes: dict[str, dict[str, str]] = {}

    def record(self, group: str, peer: str, benchmark: object) -> None:
        """Remember this benchmark's median (only when benchmarks actually ran)."""
        stats = getattr(benchmark, "stats", None)
        if stats is not None and getattr(stats, "stats", None) is not None:
            self.medians.setdefault(group, {})[peer] = stats.stats.median

    def ratio(self, group: str, peer: str, reference: str) -> float:
        """``peer``'s median time over ``reference``'s: how many times faster the reference is."""
        row = self.medians.get(group, {})
        missing = [name for name in (peer, reference) if name not in row]
        assert not missing, f"{group}: no timing for {missing}; run the whole group in one run"
        return row[peer] / row[reference]

    def note(self, group: str, peer: str, text: str) -> None:
        """A cell that is not a time (a peer that refuses the input, a memory figure)."""
        self.notes.setdefault(group, {})[peer] = text

    def render(self, reference: str = "pdfbinder") -> str:
        """A markdown table: median time per peer and how many times pdfbinder's it is."""
        rows: list[dict[str, float] | dict[str, str]] = [
            *self.medians.values(),
            *self.notes.values(),
        ]
        peers = sorted(
            {peer for row in rows for peer in row}, key=lambda peer: (peer != reference, peer)
        )
        lines = ["| set | " + " | ".join(peers) + " |", "|---" * (len(peers) + 1) + "|"]
        for group in sorted(set(self.medians) | set(self.notes)):
            row = self.medians.get(group, {})
            base = row.get(reference)
            cells = []
            for peer in peers:
                if peer in row:
                    ratio = f" ({row[peer] / base:.1f}×)" if base and peer != reference else ""
                    cells.append(f"{row[peer] * 1000:.0f} ms{ratio}")
                else:
                    cells.append(self.notes.get(group, {}).get(peer, "–"))
            lines.append(f"| {group} | " + " | ".join(cells) + " |")
        return "\n".join(lines)

    def publish(self) -> None:
        """Print the table and write it under .benchmarks/ (full mode only)."""
        if not FULL or not self.medians:
            return
        text = f"## {self.name}\n\n{self.render()}\n"
        folder = REPO / ".benchmarks"
        folder.mkdir(exist_ok=True)
        (folder / f"{self.name}.md").write_text(text, encoding="utf-8")
        sys.stdout.write("\n" + text + "\n")
