"""The requirements check reads pyproject.toml and names what is missing or too old."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.environment import HANDED_OVER, PYPROJECT, unmet_requirements


def test_the_running_interpreter_meets_the_projects_requirements() -> None:
    assert unmet_requirements() == []


def test_missing_and_wrong_versions_are_named(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        "[project]\n"
        'dependencies = ["pytest>=8", "no-such-package-pdfbinder>=1", "pytest<1"]\n'
        '[project.optional-dependencies]\ntest = ["packaging", "other; python_version < \'3\'"]\n',
        encoding="utf-8",
    )
    unmet = unmet_requirements(pyproject, ("test",))
    assert unmet[0] == "no-such-package-pdfbinder>=1 (not installed)"
    assert unmet[1].startswith("pytest<1 (found ")
    assert len(unmet) == 2


def test_an_interpreter_without_them_hands_the_run_to_the_projects_venv(tmp_path: Path) -> None:
    """A copy of the test set-up whose pyproject.toml asks for a package nobody has, and whose
    ``.venv`` interpreter records how it was started: the run is handed to it once, with the
    same arguments and directory, and the interpreter it was handed to, lacking the package
    as well, refuses with the fix instead of handing it on."""
    project = tmp_path / "project"
    repository = PYPROJECT.parent
    for name in ("__init__.py", "conftest.py", "support/__init__.py", "support/environment.py"):
        (project / "tests" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(repository / "tests" / name, project / "tests" / name)
    (project / "tests" / "test_nothing.py").write_text("def test_nothing():\n    pass\n")
    (project / "pyproject.toml").write_text(
        '[project]\ndependencies = ["no-such-package-pdfbinder>=1"]\n'
        "[project.optional-dependencies]\ntest = []\nscale = []\n"
        '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n',
        encoding="utf-8",
    )
    started = tmp_path / "started.txt"
    venv_python = project / ".venv" / "bin" / "python"
    venv_python.parent.mkdir(parents=True)
    venv_python.write_text(f'#!/bin/sh\necho "$PWD $*" >> {started}\nexec {sys.executable} "$@"\n')
    venv_python.chmod(0o755)
    environment = {key: value for key, value in os.environ.items() if key != HANDED_OVER}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert started.read_text() == f"{project} -m pytest -q -p no:cacheprovider tests\n"
    assert done.returncode == 4, done.stdout + done.stderr
    assert done.stderr.startswith(
        "ERROR: this interpreter lacks what pyproject.toml asks for: "
        "no-such-package-pdfbinder>=1 (not installed). Set up with `bash .ci/run`"
    )
