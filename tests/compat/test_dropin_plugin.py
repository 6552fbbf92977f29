"""Installing pdfbinder is enough: pytest finds the fixtures with no conftest, and the example
test file (two unedited client apps, faults included) passes as a user would run it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


def run(args: list[str], folder: Path) -> subprocess.CompletedProcess[str]:
    """Run Python in ``folder`` as a user would, away from this repository's conftest."""
    return subprocess.run(
        [sys.executable, *args], cwd=folder, capture_output=True, text=True, timeout=300
    )


def test_fixtures_are_listed_without_any_conftest(tmp_path: Path) -> None:
    (tmp_path / "test_empty.py").write_text("def test_nothing():\n    pass\n")

    result = run(["-m", "pytest", "--fixtures", "-p", "no:cacheprovider"], tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "pdfbinder_server -- " in result.stdout
    assert "pdfco_mock -- " in result.stdout
    assert "Route every requests/httpx call aimed at https://api.pdf.co" in result.stdout


def test_ini_option_adds_base_urls(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\npdfco_mock_base_urls =\n    https://localhost\n"
    )
    (tmp_path / "test_local.py").write_text(
        "import requests\n\n"
        "def test_cloud_api_server_url(pdfco_mock):\n"
        "    answer = requests.get('https://localhost/job/check?jobid=x').json()\n"
        "    assert answer['status'] == 'unknown'\n"
        "    assert pdfco_mock.requests[0].headers['host'] == 'localhost'\n"
    )

    result = run(["-m", "pytest", "-q", "-p", "no:cacheprovider"], tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_example_test_file_passes_under_pytest_and_unittest(tmp_path: Path) -> None:
    for source in EXAMPLES.glob("*.py"):
        shutil.copy(source, tmp_path / source.name)

    under_pytest = run(["-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs"], tmp_path)
    under_unittest = run(["-m", "unittest", "-v", "test_pdfco_merge_app.MergeAppTest"], tmp_path)

    assert under_pytest.returncode == 0, under_pytest.stdout + under_pytest.stderr
    assert "11 passed" in under_pytest.stdout and "skipped" not in under_pytest.stdout
    assert under_unittest.returncode == 0, under_unittest.stdout + under_unittest.stderr
    assert "Ran 2 tests" in under_unittest.stderr and "OK" in under_unittest.stderr
