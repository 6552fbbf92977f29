"""Run the tests on an interpreter that has the project's requirements.

An interpreter that lacks one hands the run over to the project's ``.venv`` when
``.ci/run`` has made it, so a bare ``pytest`` after the set-up runs the tests; without
one the run is refused with the fix.
"""

from __future__ import annotations

import os
import sys

import pytest

from tests.support.environment import HANDED_OVER, project_venv_python, unmet_requirements


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
    venv_python = project_venv_python()
    if venv_python is not None and HANDED_OVER not in os.environ:
        capture = config.pluginmanager.getplugin("capturemanager")
        if capture is not None:  # the new interpreter writes to the terminal, not a capture
            capture.stop_global_capturing()
        os.environ[HANDED_OVER] = lacking
        os.chdir(config.invocation_params.dir)
        arguments = [str(venv_python), "-m", "pytest", *config.invocation_params.args]
        os.execv(venv_python, arguments)
    raise pytest.UsageError(
        lacking + ". Set up with `bash .ci/run` (it makes and uses .venv), "
        "or `pip install -e '.[test,scale]'` into the interpreter you run pytest with."
    )


def pytest_report_header() -> str | None:
    lacked = os.environ.get(HANDED_OVER)
    return f"{lacked}; the tests run with {sys.executable} instead" if lacked else None
