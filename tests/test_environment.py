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


def _project(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the test set-up whose pyproject.toml asks for a package nobody has, and the
    file a ``.venv`` interpreter made by :func:`_recording_python` records its starts in."""
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
    return project, tmp_path / "started.txt"


def _recording_python(started: Path) -> str:
    """A ``.venv`` interpreter's text: it records how it was started, then runs this one."""
    return f'#!/bin/sh\necho "$PWD $*" >> {started}\nexec {sys.executable} "$@"\n'


def _run_pytest(project: Path) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if key != HANDED_OVER}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


_REFUSAL = (
    "ERROR: this interpreter lacks what pyproject.toml asks for: "
    "no-such-package-pdfbinder>=1 (not installed). Set up with `bash .ci/run`"
)


def test_an_interpreter_without_them_hands_the_run_to_the_projects_venv(tmp_path: Path) -> None:
    """The run is handed to ``.venv``'s interpreter once, with the same arguments and
    directory, and the interpreter it was handed to, lacking the package as well, refuses
    with the fix instead of handing it on."""
    project, started = _project(tmp_path)
    venv_python = project / ".venv" / "bin" / "python"
    venv_python.parent.mkdir(parents=True)
    venv_python.write_text(_recording_python(started))
    venv_python.chmod(0o755)
    done = _run_pytest(project)
    assert started.read_text() == f"{project} -m pytest -q -p no:cacheprovider tests\n"
    assert done.returncode == 4, done.stdout + done.stderr
    assert done.stderr.startswith(_REFUSAL)


def test_without_a_venv_the_run_sets_one_up_and_hands_over(tmp_path: Path) -> None:
    """In a fresh clone (no ``.venv``) the run first calls ``.ci/python-env``, here one that
    makes a recording interpreter, then hands over to what it made."""
    project, started = _project(tmp_path)
    set_up = project / ".ci" / "python-env"
    set_up.parent.mkdir()
    set_up.write_text(
        f'mkdir -p "$(dirname "$0")/../.venv/bin"\necho set up >> {started}\n'
        f'cat > "$(dirname "$0")/../.venv/bin/python" <<\'END\'\n'
        f"{_recording_python(started)}END\n"
        'chmod +x "$(dirname "$0")/../.venv/bin/python"\n'
    )
    done = _run_pytest(project)
    assert started.read_text() == f"set up\n{project} -m pytest -q -p no:cacheprovider tests\n"
    assert done.returncode == 4, done.stdout + done.stderr
    assert "Setting up .venv with `bash .ci/python-env`" in done.stderr
    assert _REFUSAL in done.stderr


def test_a_set_up_that_fails_refuses_the_run_with_the_fix(tmp_path: Path) -> None:
    project, started = _project(tmp_path)
    set_up = project / ".ci" / "python-env"
    set_up.parent.mkdir()
    set_up.write_text("echo 'no index reachable' >&2\nexit 3\n")
    done = _run_pytest(project)
    assert done.returncode == 4, done.stdout + done.stderr
    assert "no index reachable" in done.stderr
    assert "setting up .venv failed. Set up with `bash .ci/run`" in done.stderr
    assert not started.exists()
