"""Whether the interpreter running the tests has what pyproject.toml asks for."""

from __future__ import annotations

import os
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement

if sys.version_info >= (3, 11):
    import tomllib
else:  # the same parser, before it joined the standard library
    import tomli as tomllib

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
PROJECT_VENV = PYPROJECT.parent / ".venv"
"""The virtual environment ``.ci/run`` makes and installs the test requirements into."""
PYTHON_SET_UP = PYPROJECT.parent / ".ci" / "python-env"
"""The script that makes ``.venv`` and installs the project and its test requirements in it."""
HANDED_OVER = "PDFBINDER_TESTS_HANDED_OVER"
"""Set for the interpreter a test run was handed over to: what the first one lacked."""
TEST_EXTRAS = ("test", "scale")


def read_pyproject(pyproject: Path = PYPROJECT) -> dict[str, Any]:
    """The project's pyproject.toml, parsed."""
    parsed: dict[str, Any] = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    return parsed


def unmet_requirements(
    pyproject: Path = PYPROJECT, extras: tuple[str, ...] = TEST_EXTRAS
) -> list[str]:
    """The requirements (runtime plus ``extras``) this interpreter lacks or has at a wrong version.

    Read from pyproject.toml itself, not from the installed package's metadata: an install
    made before a dependency was added still carries the old list.
    """
    project = read_pyproject(pyproject)["project"]
    wanted = list(project["dependencies"])
    for extra in extras:
        wanted += project["optional-dependencies"][extra]
    unmet = []
    for line in wanted:
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        try:
            installed = version(requirement.name)
        except PackageNotFoundError:
            unmet.append(f"{requirement} (not installed)")
            continue
        if not requirement.specifier.contains(installed, prereleases=True):
            unmet.append(f"{requirement} (found {installed})")
    return unmet


def private_temp_environment(folder: Path) -> dict[str, str]:
    """This process's environment with ``TMPDIR`` at ``folder`` (made here), for a program
    that, killed, would leave its temp files in the shared /tmp."""
    folder.mkdir(exist_ok=True)
    return {**os.environ, "TMPDIR": str(folder)}


def project_venv_python() -> Path | None:
    """``.venv``'s interpreter, when it exists and is not the one running (``.ci/run`` made
    it, so it has what the tests need)."""
    python = PROJECT_VENV / "bin" / "python"
    if not python.is_file() or Path(sys.prefix).resolve() == PROJECT_VENV.resolve():
        return None
    return python
