"""Fixtures of the fuzz tests: one engine worker process and the corpus seeds, per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.corpus import richest_corpus
from tests.support.engine_worker import EngineWorker
from tests.support.fuzz import Seed, load_seeds


@pytest.fixture(scope="session")
def worker() -> Iterator[EngineWorker]:
    """The child process every fuzzed engine call runs in (see engine_worker)."""
    running = EngineWorker()
    yield running
    running.close()


@pytest.fixture(scope="session")
def image_seeds() -> dict[str, list[Seed]]:
    return load_seeds(richest_corpus(), "images")


@pytest.fixture(scope="session")
def pdf_seeds() -> dict[str, list[Seed]]:
    return load_seeds(richest_corpus(), "pdfs")
