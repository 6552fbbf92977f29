"""Run the tests on an interpreter that has the project's requirements.

An interpreter that lacks one hands the run over to the project's ``.venv``, making it
first when there is none (``.ci/python-env``, the Python half of ``.ci/run``), so a bare
``pytest`` in a fresh clone runs the tests. Where it cannot be made, the run is refused
with the fix.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.environment import (
    HANDED_OVER,
    PROJECT_VENV,
    PYTHON_SET_UP,
    project_venv_python,
    unmet_requirements,
)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    # Benchmarks run once, as smoke tests, unless --benchmark-enable asks for more. Said
    # here rather than as an option in pyproject.toml, which an interpreter without the
    # benchmark plugin would stop at before this check could say what it lacks.
    config.option.benchmark_disable = True
    unmet = unmet_requirements()
    if not unmet:
        return
    lacking = "this interpreter lacks what pyproject.toml asks for: " + "; ".join(unmet)
    if HANDED_OVER in os.environ:  # .venv lacks them too: setting it up again is the fix
        raise pytest.UsageError(lacking + _FIX)
    capture = config.pluginmanager.getplugin("capturemanager")
    if capture is not None:  # what runs next writes to the terminal, not to a capture
        capture.stop_global_capturing()
    venv_python = project_venv_python()
    if venv_python is None:
        venv_python = _set_up_venv(lacking)
    os.environ[HANDED_OVER] = lacking
    os.chdir(config.invocation_params.dir)
    arguments = [str(venv_python), "-m", "pytest", *config.invocation_params.args]
    os.execv(venv_python, arguments)


_FIX = (
    ". Set up with `bash .ci/run` (it makes and uses .venv), "
    "or `pip install -e '.[test,scale]'` into the interpreter you run pytest with."
)


def _set_up_venv(lacking: str) -> Path:
    """Make (or bring up to date) the project's ``.venv``; its interpreter."""
    print(
        f"{lacking}.\nSetting up .venv with `bash .ci/python-env` (the Python packages; "
        "`bash .ci/run` also installs the system tools some tests drive)...",
        file=sys.stderr,
        flush=True,
    )
    done = subprocess.run(["bash", str(PYTHON_SET_UP)], stdout=sys.stderr, check=False)
    python = PROJECT_VENV / "bin" / "python"
    if done.returncode != 0 or not python.is_file():
        raise pytest.UsageError(f"{lacking}; setting up .venv failed{_FIX}")
    return python


def pytest_report_header() -> str | None:
    lacked = os.environ.get(HANDED_OVER)
    return f"{lacked}; the tests run with {sys.executable} instead" if lacked else None
