"""The requirements check reads pyproject.toml and names what is missing or too old."""

from __future__ import annotations

from pathlib import Path

from tests.support.environment import unmet_requirements


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
