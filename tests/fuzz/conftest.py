"""Fixtures of the fuzz tests: one engine worker process and the corpus seeds, per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.engine_worker import EngineWorker
from tests.support.fuzz import Seed, load_seeds


@pytest.fixture(scope="session")
def worker() -> Iterator[EngineWorker]:
    """The child process every fuzzed engine call runs in (see engine_worker)."""
    running = EngineWorker()
    yield running
    running.close()


@pytest.fixture(scope="session")
def image_seeds(shared_dir: Path) -> dict[str, list[Seed]]:
    return load_seeds(shared_dir, "images")


@pytest.fixture(scope="session")
def pdf_seeds(shared_dir: Path) -> dict[str, list[Seed]]:
    return load_seeds(shared_dir, "pdfs")
