"""``--json`` carries the provenance map; ``--attach-sources`` embeds the originals."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pikepdf
from PIL import Image

from tests.support.merge_samples import text_pdf


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    entry = "from pdfbinder.cli.app import main; main()"
    return subprocess.run(
        [sys.executable, "-c", entry, *args], capture_output=True, text=True, timeout=300
    )


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_convert_json_maps_pages_and_attaches_sources(tmp_path: Path) -> None:
    first, second = tmp_path / "a.png", tmp_path / "b.jpg"
    Image.new("RGB", (20, 10), (255, 0, 0)).save(first)
    Image.new("RGB", (12, 30), (0, 0, 255)).save(second, quality=90)
    out = tmp_path / "out.pdf"
    result = _run("convert", str(first), str(second), "-o", str(out), "--json", "--attach-sources")
    assert result.returncode == 0, result.stderr
    provenance = json.loads(result.stdout)["provenance"]
    assert provenance == {
        "inputs": [
            {"index": 0, "name": "a.png", "size": first.stat().st_size, "sha256": _sha(first)},
            {"index": 1, "name": "b.jpg", "size": second.stat().st_size, "sha256": _sha(second)},
        ],
        "pages": [
            {"output": [1, 1], "input": 0, "pages": [1, 1]},
            {"output": [2, 2], "input": 1, "pages": [1, 1]},
        ],
    }
    with pikepdf.open(out) as pdf:
        extracted = {key: spec.get_file().read_bytes() for key, spec in pdf.attachments.items()}
    assert extracted == {"a.png": first.read_bytes(), "b.jpg": second.read_bytes()}


def test_merge_json_maps_ranges_without_attachments_by_default(tmp_path: Path) -> None:
    a = text_pdf(tmp_path / "a.pdf", ["a1", "a2", "a3"])
    b = text_pdf(tmp_path / "b.pdf", ["b1", "b2"])
    out = tmp_path / "out.pdf"
    result = _run("merge", f"{a}:3-1", str(b), "-o", str(out), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["page_count"] == 5
    assert report["provenance"] == {
        "inputs": [
            {"index": 0, "name": "a.pdf", "size": a.stat().st_size, "sha256": _sha(a)},
            {"index": 1, "name": "b.pdf", "size": b.stat().st_size, "sha256": _sha(b)},
        ],
        "pages": [
            {"output": [1, 3], "input": 0, "pages": [3, 1]},
            {"output": [4, 5], "input": 1, "pages": [1, 2]},
        ],
    }
    with pikepdf.open(out) as pdf:
        assert len(pdf.attachments) == 0
    attached = tmp_path / "attached.pdf"
    result = _run("merge", str(a), str(b), "-o", str(attached), "--attach-sources")
    assert result.returncode == 0, result.stderr
    with pikepdf.open(attached) as pdf:
        extracted = {key: spec.get_file().read_bytes() for key, spec in pdf.attachments.items()}
    assert extracted == {"a.pdf": a.read_bytes(), "b.pdf": b.read_bytes()}
