"""Refuse to run on an interpreter that lacks the project's requirements, with the fix."""

from __future__ import annotations

import pytest

from tests.support.environment import unmet_requirements


def pytest_configure(config: pytest.Config) -> None:
    unmet = unmet_requirements()
    if unmet:
        raise pytest.UsageError(
            "this interpreter lacks what pyproject.toml asks for: "
            + "; ".join(unmet)
            + ". Set up with `bash .ci/run` (it makes and uses .venv), "
            "or `pip install -e '.[test,scale]'` into the interpreter you run pytest with."
        )
