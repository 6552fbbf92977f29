"""The vendor's client samples (``tests/data/seeds``), run against a server as they are.

Each seed is a tutorial page with the Python client in one fenced block; the
only edit a test may make is its ``BASE_URL`` line.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.corpus import DATA

SEEDS = DATA / "seeds"
ORIGINAL_BASE = 'BASE_URL = "https://localhost"'
IMAGES_SEED = "000"
"""Converts two internet images to PDF (async, polls the job)."""
MERGE_SEED = "003"
"""Uploads ``.\\sample1.pdf`` and ``.\\sample2.pdf``, merges them (async), downloads."""


def seed_code(prefix: str, base_url: str | None = None) -> str:
    """The Python code of seed ``prefix``; with ``base_url``, only its BASE_URL line replaced."""
    (seed,) = sorted(SEEDS.glob(f"{prefix}_*.txt"))
    code = seed.read_text(encoding="utf-8").split("```", 2)[1]
    if base_url is None:
        return code
    assert code.count(ORIGINAL_BASE) == 1
    return code.replace(ORIGINAL_BASE, f'BASE_URL = "{base_url}"')


def run_seed(
    code: str,
    cwd: Path,
    *,
    env: dict[str, str] | None = None,
    check: bool = True,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run a seed script in ``cwd`` with this Python (it must exit 0 when ``check``)."""
    script = cwd / "seed.py"
    script.write_text(code, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done
