"""Live progress in /job/check and provenance in every answer, through the real HTTP server.

pdfbinder extensions: while a job runs, /job/check answers ``progress`` (0-100) and
``currentInput`` ({index, name}); a finished job, its callback and the synchronous
answer carry ``provenance``. A job is held between two inputs by a gate the test
opens (never a slow job as a clock).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pikepdf
import pytest

from pdfbinder.compat.settings import Settings
from tests.support.compat import MIRROR_HOST, ThreadServer, mirror_url, poll_job
from tests.support.held_jobs import InputGate, gated_local_service


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture()
def gate() -> Iterator[InputGate]:
    held = InputGate(at_input=1)
    yield held
    held.release()


def test_job_check_reports_progress_then_provenance(
    mirror: Path, tmp_path: Path, gate: InputGate
) -> None:
    settings = Settings(data_dir=tmp_path, url_map=mirror, workers=1)
    red, blue = mirror / MIRROR_HOST / "red.png", mirror / MIRROR_HOST / "blue.jpg"
    with ThreadServer(settings, gated_local_service(gate)) as server:
        job = httpx.post(
            f"{server.url}/pdf/convert/from/image",
            json={
                "url": f"{mirror_url('red.png')},{mirror_url('blue.jpg')}",
                "async": True,
                "name": "held.pdf",
            },
        ).json()
        gate.wait_reached()
        check = httpx.get(f"{server.url}/job/check", params={"jobid": job["jobId"]}).json()
        assert check == {
            "status": "working",
            "jobId": job["jobId"],
            "remainingCredits": check["remainingCredits"],
            "progress": 50,
            "currentInput": {"index": 1, "name": "blue.jpg"},
        }
        gate.release()
        done = poll_job(server.url, job["jobId"])
        assert done["status"] == "success" and done["progress"] == 100
        assert done["provenance"] == {
            "inputs": [
                {"index": 0, "name": "red.png", "size": red.stat().st_size, "sha256": _sha(red)},
                {"index": 1, "name": "blue.jpg", "size": blue.stat().st_size, "sha256": _sha(blue)},
            ],
            "pages": [
                {"output": [1, 1], "input": 0, "pages": [1, 1]},
                {"output": [2, 2], "input": 1, "pages": [1, 1]},
            ],
        }
        with pikepdf.open(io.BytesIO(httpx.get(done["url"]).content)) as pdf:
            assert len(pdf.pages) == 2 and len(pdf.attachments) == 0


def test_sync_merge_answers_provenance_and_attaches_sources(
    server: ThreadServer, mirror: Path
) -> None:
    two, three = mirror / MIRROR_HOST / "two.pdf", mirror / MIRROR_HOST / "three.pdf"
    answer = httpx.post(
        f"{server.url}/pdf/merge2",
        json={
            "url": f"{mirror_url('three.pdf')},{mirror_url('two.pdf')}",
            "profiles": {
                "attachSources": True,
                "Inputs": [{"pages": "3-2"}, {}],
            },
        },
    ).json()
    assert answer["error"] is False and answer["pageCount"] == 4
    assert answer["provenance"] == {
        "inputs": [
            {"index": 0, "name": "three.pdf", "size": three.stat().st_size, "sha256": _sha(three)},
            {"index": 1, "name": "two.pdf", "size": two.stat().st_size, "sha256": _sha(two)},
        ],
        "pages": [
            {"output": [1, 2], "input": 0, "pages": [3, 2]},
            {"output": [3, 4], "input": 1, "pages": [1, 2]},
        ],
    }
    with pikepdf.open(io.BytesIO(httpx.get(answer["url"]).content)) as pdf:
        extracted = {key: spec.get_file().read_bytes() for key, spec in pdf.attachments.items()}
        described = {key: str(spec.description) for key, spec in pdf.attachments.items()}
    assert extracted == {"three.pdf": three.read_bytes(), "two.pdf": two.read_bytes()}
    assert described["two.pdf"] == f"input 2, SHA-256 {_sha(two)}"


def test_async_convert_with_attach_sources_keeps_the_originals(
    server: ThreadServer, mirror: Path
) -> None:
    red = mirror / MIRROR_HOST / "red.png"
    job = httpx.get(
        f"{server.url}/pdf/convert/from/image",
        params={
            "url": mirror_url("red.png"),
            "async": "true",
            "profiles": '{"attachSources": true}',
        },
    ).json()
    done = poll_job(server.url, job["jobId"])
    assert done["status"] == "success" and "message" in done and "Ignored" not in done["message"]
    assert done["provenance"]["inputs"][0]["sha256"] == _sha(red)
    with pikepdf.open(io.BytesIO(httpx.get(done["url"]).content)) as pdf:
        (spec,) = pdf.attachments.values()
        assert spec.get_file().read_bytes() == red.read_bytes()
