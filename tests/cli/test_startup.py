"""What each command loads: a command imports only the half of pdfbinder it uses.

Start-up is most of what a one-file ``convert`` or ``merge`` costs (the timings
are in tests/benchmarks/test_bench_cli.py), so these tests pin down the module
sets rather than times: each command runs in a fresh interpreter, which then
lists the modules it loaded.
"""

from __future__ import annotations

import gc
import importlib.metadata
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from PIL import Image

from pdfbinder.cli import YOUNG_COLLECTION_THRESHOLD
from tests.support.heif import heic_bytes, needs_heif, sample_image


def _console_probe(reported: str, setup: str = "") -> str:
    """A script that runs the command line as the console script does and, from an exit
    handler, writes ``reported`` (an expression) as JSON to the path given first.

    A one-job command ends by ``os._exit`` after its exit handlers, so the handler
    still runs then, and sees what the run left behind.
    """
    return f"""
import atexit, gc, json, sys
report = sys.argv.pop(1)
{setup}
atexit.register(lambda: open(report, "w").write(json.dumps({reported})))
sys.argv[0] = "pdfbinder"
from pdfbinder.cli import main
main()
"""


# The modules the run loaded, though the command ends the process with SystemExit.
_PROBE = _console_probe("sorted(sys.modules)")
# What the run's exit left to the operating system: the documents it kept were never freed.
_EXIT_PROBE = _console_probe(
    "left_kinds()",
    setup="""
from pdfbinder.engine import teardown
def left_kinds():
    left = teardown._left
    return None if left is None else [type(item).__name__ for item in left]
""",
)
# The young generation's collection threshold that the run ended with.
_GC_PROBE = _console_probe("gc.get_threshold()[0]")
# Loaded by no command that does not need it: the server stack, Typer's optional
# pydantic coercion (Typer 0.29+), rich (only for a progress bar on a terminal),
# pillow-heif (only once a HEIF file is seen).
_NEVER_FOR_FILES = {
    "pydantic",
    "fastapi",
    "uvicorn",
    "httpx",
    "rich",
    "celery",
    "redis",
    "pillow_heif",
}


def _probed(
    tmp_path: Path, probe: str, *arguments: str
) -> tuple[Any, subprocess.CompletedProcess[str]]:
    """Run the command line under ``probe``: what the probe reported, and the run."""
    report = tmp_path / "probe.json"
    done = subprocess.run(
        [sys.executable, "-c", probe, str(report), *arguments],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    return json.loads(report.read_text()), done


def _modules_loaded(tmp_path: Path, *arguments: str) -> tuple[set[str], str]:
    loaded, done = _probed(tmp_path, _PROBE, *arguments)
    assert done.returncode == 0, done.stderr
    modules = set(loaded)
    return modules | {name.split(".")[0] for name in modules}, done.stdout


def _small_pdf(path: Path, pages: int) -> Path:
    with pikepdf.new() as pdf:
        for _ in range(pages):
            pdf.add_blank_page()
        pdf.save(path)
    return path


@pytest.fixture
def jpeg(tmp_path: Path) -> Path:
    path = tmp_path / "one.jpg"
    Image.new("RGB", (30, 20), (200, 40, 40)).save(path, quality=90)
    return path


def test_convert_of_a_jpeg_loads_neither_pillow_nor_pikepdf(tmp_path: Path, jpeg: Path) -> None:
    loaded, _ = _modules_loaded(tmp_path, "convert", str(jpeg), "-o", "out.pdf")
    with pikepdf.open(tmp_path / "out.pdf") as pdf:
        (image,) = pdf.pages[0].get_images().values()
        assert image.read_raw_bytes() == jpeg.read_bytes()  # the JPEG went in untouched
    assert not loaded & {"PIL", "pikepdf", *_NEVER_FOR_FILES}
    assert "pdfbinder.engine.merge.merge" not in loaded


def test_convert_of_a_tiff_loads_pillow(tmp_path: Path) -> None:
    tiff = tmp_path / "page.tif"
    Image.new("L", (16, 8), 90).save(tiff, compression="tiff_lzw")
    loaded, _ = _modules_loaded(tmp_path, "convert", str(tiff), "-o", "out.pdf")
    with pikepdf.open(tmp_path / "out.pdf") as pdf:
        (image,) = pdf.pages[0].get_images().values()
        assert pikepdf.PdfImage(image).as_pil_image().getpixel((3, 3)) == 90
    assert "PIL" in loaded
    assert not loaded & {"pikepdf", *_NEVER_FOR_FILES}


@needs_heif
def test_pillow_heif_is_loaded_only_once_a_heic_is_seen(tmp_path: Path) -> None:
    heic = tmp_path / "photo.heic"
    heic.write_bytes(heic_bytes(sample_image()))
    loaded, _ = _modules_loaded(tmp_path, "convert", str(heic), "-o", "out.pdf")
    with pikepdf.open(tmp_path / "out.pdf") as pdf:
        (image,) = pdf.pages[0].get_images().values()
        assert image.read_bytes() == sample_image().tobytes()
    assert "pillow_heif" in loaded


def test_merge_loads_no_image_path(tmp_path: Path) -> None:
    first, second = _small_pdf(tmp_path / "a.pdf", 2), _small_pdf(tmp_path / "b.pdf", 3)
    loaded, _ = _modules_loaded(tmp_path, "merge", str(first), str(second), "-o", "m.pdf")
    with pikepdf.open(tmp_path / "m.pdf") as pdf:
        assert len(pdf.pages) == 5
    assert "pikepdf" in loaded
    assert not loaded & {"PIL", "pdfbinder.engine.images.convert", *_NEVER_FOR_FILES}
    # LibreOffice's pool is loaded for the first Office document, not for PDFs, and the
    # ZIP reader for the first archive or zipped document.
    assert not loaded & {"pdfbinder.engine.office.pool", "zipfile"}
    # Only the command named is loaded.
    assert not loaded & {f"pdfbinder.cli.{name}" for name in ("convert", "serve", "demo")}


def test_inspect_of_a_jpeg_for_convert_loads_neither_pillow_nor_pikepdf(
    tmp_path: Path, jpeg: Path
) -> None:
    loaded, printed = _modules_loaded(tmp_path, "inspect", str(jpeg), "--for", "convert", "--json")
    assert json.loads(printed)["inputs"][0]["image"]["frames"][0]["method"] == "jpeg-passthrough"
    assert not loaded & {"PIL", "pikepdf", *_NEVER_FOR_FILES}


def test_inspect_of_pdfs_loads_no_image_path(tmp_path: Path) -> None:
    first = _small_pdf(tmp_path / "a.pdf", 2)
    loaded, printed = _modules_loaded(tmp_path, "inspect", str(first), "--json")
    assert json.loads(printed)["plan"]["page_count"] == 2
    assert not loaded & {"PIL", "pdfbinder.engine.images.convert", *_NEVER_FOR_FILES}


@pytest.mark.parametrize("arguments", [["--help"], ["--version"], ["merge", "--help"]])
def test_help_and_version_load_no_engine(tmp_path: Path, arguments: list[str]) -> None:
    loaded, _ = _modules_loaded(tmp_path, *arguments)
    engine_halves = {"pdfbinder.engine.images.convert", "pdfbinder.engine.merge.merge"}
    assert not loaded & {"PIL", "pikepdf", *engine_halves, *_NEVER_FOR_FILES}


def test_version_is_the_package_metadata_version(tmp_path: Path) -> None:
    _, printed = _modules_loaded(tmp_path, "--version")
    assert printed == f"pdfbinder {importlib.metadata.version('pdfbinder')}\n"


def test_help_lists_every_command_and_the_version_option(tmp_path: Path) -> None:
    _, printed = _modules_loaded(tmp_path, "--help")
    for name in ("convert", "merge", "inspect", "serve", "worker", "demo", "--version"):
        assert name in printed


def test_a_named_command_keeps_the_group_usage(tmp_path: Path) -> None:
    _, printed = _modules_loaded(tmp_path, "merge", "--help")
    assert printed.startswith("Usage: pdfbinder merge [OPTIONS]")
    assert "--password-for" in printed and "--outline" in printed


def test_the_json_summary_of_stdout_output_goes_to_stderr(jpeg: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pdfbinder.cli", "convert", str(jpeg), "-o", "-", "--json"],
        capture_output=True,
    )
    assert done.returncode == 0, done.stderr
    with pikepdf.open(io.BytesIO(done.stdout)) as pdf:
        assert len(pdf.pages) == 1
    assert json.loads(done.stderr)["pages"] == 1


def _left_at_exit(tmp_path: Path, *arguments: str) -> tuple[Any, subprocess.CompletedProcess[str]]:
    return _probed(tmp_path, _EXIT_PROBE, *arguments)


def test_a_merge_run_leaves_its_finished_document_to_the_exit(tmp_path: Path) -> None:
    first, second = _small_pdf(tmp_path / "a.pdf", 2), _small_pdf(tmp_path / "b.pdf", 1)
    left, done = _left_at_exit(tmp_path, "merge", str(first), str(second), "-o", "m.pdf")
    assert done.returncode == 0, done.stderr
    assert left == ["_Merger"]  # kept, not unwound, and the exit handlers still ran
    with pikepdf.open(tmp_path / "m.pdf") as pdf:
        assert len(pdf.pages) == 3


def test_a_failing_one_job_run_keeps_its_exit_status_and_message(tmp_path: Path) -> None:
    left, done = _left_at_exit(tmp_path, "merge", "missing.pdf", "-o", "m.pdf")
    assert done.returncode == 3
    assert "missing.pdf" in done.stderr and "Traceback" not in done.stderr
    assert left == []
    assert not (tmp_path / "m.pdf").exists()


def test_a_server_command_frees_as_usual(tmp_path: Path) -> None:
    left, done = _left_at_exit(tmp_path, "serve", "--help")
    assert done.returncode == 0, done.stderr
    assert left is None  # nothing is left to the exit of a long-running command


def test_a_one_job_command_collects_garbage_less_often(tmp_path: Path) -> None:
    first, second = _small_pdf(tmp_path / "a.pdf", 1), _small_pdf(tmp_path / "b.pdf", 2)
    threshold, done = _probed(tmp_path, _GC_PROBE, "merge", str(first), str(second), "-o", "m.pdf")
    assert done.returncode == 0, done.stderr
    with pikepdf.open(tmp_path / "m.pdf") as pdf:
        assert len(pdf.pages) == 3
    assert threshold == YOUNG_COLLECTION_THRESHOLD


@pytest.mark.parametrize("arguments", [["serve", "--help"], ["--version"]])
def test_other_commands_keep_the_usual_collection_threshold(
    tmp_path: Path, arguments: list[str]
) -> None:
    threshold, done = _probed(tmp_path, _GC_PROBE, *arguments)
    assert done.returncode == 0, done.stderr
    assert threshold == gc.get_threshold()[0] != YOUNG_COLLECTION_THRESHOLD
