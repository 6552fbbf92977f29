"""Quick jobs: a small sync job from local files runs in the thread that took its request.

Handing such a job to a worker thread and back costs more than the job itself, so
:meth:`Service.start_quick_job` runs it on the event loop before its answer, sync or
async. An async job from local files is queued there too. Anything that could make
the loop wait (a remote source, a large input, LibreOffice, every worker slot taken)
goes to a worker thread as before.
These tests watch where the executor runs, through the real HTTP server.
"""

from __future__ import annotations

import asyncio
import io
import random
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pikepdf
import pytest
from PIL import Image

from pdfbinder.compat.files.local import LocalFileStore
from pdfbinder.compat.jobs.base import CancelCheck, Executor, FinishHook, JobRunner, JobSpec
from pdfbinder.compat.jobs.local import LocalJobRunner
from pdfbinder.compat.jobs.progress import ProgressReport
from pdfbinder.compat.service import QUICK_JOB_BYTES, Service
from pdfbinder.compat.settings import Settings
from tests.support.compat import MIRROR_HOST, ThreadServer, mirror_url, poll_job
from tests.support.held_jobs import InputGate


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class WhereJobsRun:
    """Wraps a server's executor to note, per output name, whether it ran on the loop."""

    def __init__(self) -> None:
        self.on_loop: dict[str, bool] = {}

    def service(self, settings: Settings) -> Service:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        store = LocalFileStore(settings.data_dir / "files")

        def runner(execute: Executor, on_finish: FinishHook) -> JobRunner:
            def noted(spec: JobSpec, should_stop: CancelCheck, progress: ProgressReport) -> Any:
                self.on_loop[spec.params["name"]] = _on_event_loop()
                return execute(spec, should_stop, progress)

            return LocalJobRunner(
                settings.data_dir / "jobs.sqlite3", noted, workers=2, on_finish=on_finish
            )

        return Service(settings, store, runner)


def _noise_png(side: int) -> bytes:
    """A PNG that does not compress: its size grows with its area."""
    pixels = random.Random(side).randbytes(side * side * 3)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), pixels).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture()
def big_png(mirror: Path) -> Iterator[str]:
    path = mirror / MIRROR_HOST / "noise.png"
    path.write_bytes(_noise_png(160))
    assert path.stat().st_size > QUICK_JOB_BYTES
    yield "noise.png"
    path.unlink()


def _pages(url: str) -> list[tuple[float, float]]:
    with pikepdf.open(io.BytesIO(httpx.get(url).content)) as pdf:
        return [(float(page.mediabox[2]), float(page.mediabox[3])) for page in pdf.pages]


def test_small_local_jobs_run_on_the_loop_and_the_rest_in_workers(
    mirror: Path, tmp_path: Path, big_png: str
) -> None:
    where = WhereJobsRun()
    settings = Settings(data_dir=tmp_path, url_map=mirror)
    with ThreadServer(settings, where.service) as server:
        convert = f"{server.url}/pdf/convert/from/image"
        small = httpx.get(convert, params={"url": mirror_url("red.png"), "name": "small.pdf"})
        large = httpx.get(convert, params={"url": mirror_url(big_png), "name": "large.pdf"})
        merged = httpx.post(
            f"{server.url}/pdf/merge",
            json={"url": f"{mirror_url('two.pdf')},{mirror_url('three.pdf')}", "name": "m.pdf"},
        )
        queued = httpx.get(
            convert, params={"url": mirror_url("red.png"), "name": "queued.pdf", "async": "true"}
        ).json()
        finished = poll_job(server.url, queued["jobId"])
        queued_large = httpx.get(
            convert, params={"url": mirror_url(big_png), "name": "queued-large.pdf", "async": "1"}
        ).json()
        assert poll_job(server.url, queued_large["jobId"])["status"] == "success"
        assert where.on_loop == {
            "small.pdf": True,
            "large.pdf": False,
            "m.pdf": True,
            "queued.pdf": True,  # before its answer went out
            "queued-large.pdf": False,
        }
        # At 96 dpi: red.png is 40 × 30 px, noise.png 160 × 160 px; then two.pdf + three.pdf.
        assert _pages(small.json()["url"]) == [(30.0, 22.5)]
        assert _pages(large.json()["url"]) == [(120.0, 120.0)]
        assert _pages(merged.json()["url"]) == [(200.0, 100.0)] * 2 + [(300.0, 150.0)] * 3
        assert finished["status"] == "success" and _pages(finished["url"]) == [(30.0, 22.5)]


def test_small_jobs_wait_in_workers_while_every_slot_is_busy(
    mirror: Path, tmp_path: Path, big_png: str
) -> None:
    gate = InputGate(at_input=1)

    def service(settings: Settings) -> Service:
        settings.data_dir.mkdir(parents=True, exist_ok=True)

        def runner(execute: Executor, on_finish: FinishHook) -> JobRunner:
            return LocalJobRunner(
                settings.data_dir / "jobs.sqlite3",
                gate.wrap(execute),
                workers=1,
                on_finish=on_finish,
            )

        return Service(settings, LocalFileStore(settings.data_dir / "files"), runner)

    try:
        with ThreadServer(Settings(data_dir=tmp_path, url_map=mirror), service) as server:
            convert = f"{server.url}/pdf/convert/from/image"
            # Too large to be quick, so a worker holds it: the only worker slot is taken.
            two_inputs = f"{mirror_url(big_png)},{mirror_url('red.png')}"
            held = httpx.get(convert, params={"url": two_inputs, "async": "true"}).json()
            gate.wait_reached()
            with ThreadPoolExecutor(1) as pool:
                small = pool.submit(
                    httpx.get, convert, params={"url": mirror_url("red.png")}, timeout=60
                )
                queued = httpx.get(
                    convert, params={"url": mirror_url("red.png"), "async": "true"}
                ).json()
                # Neither small job holds the loop while it waits for the slot.
                assert httpx.get(f"{server.url}/health", timeout=10).status_code == 200
                check = httpx.get(f"{server.url}/job/check", params={"jobid": queued["jobId"]})
                assert check.json()["status"] == "working"
                gate.release()
                answer = small.result(timeout=60).json()
            assert answer["error"] is False and _pages(answer["url"]) == [(30.0, 22.5)]
            assert poll_job(server.url, held["jobId"])["pageCount"] == 2
            assert poll_job(server.url, queued["jobId"])["pageCount"] == 1
    finally:
        gate.release()


def test_sources_off_this_machine_are_never_looked_at_on_the_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A remote source (here refused offline) is checked in a worker thread: its name
    could need a DNS lookup, which would stall every other request meanwhile."""
    checked_on: list[bool] = []
    settings = Settings(data_dir=tmp_path)
    service = Service.local(settings)
    check: Callable[[str], int | None] = service.sources.check

    def noted(url: str) -> int | None:
        checked_on.append(_on_event_loop())
        return check(url)

    monkeypatch.setattr(service.sources, "check", noted)
    with ThreadServer(settings, lambda _: service) as server:
        answer = httpx.get(
            f"{server.url}/pdf/convert/from/image",
            params={"url": "https://remote.example.test/a.png"},
        )
    assert answer.status_code == 403 and checked_on == [False]
