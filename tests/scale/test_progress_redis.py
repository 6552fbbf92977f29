"""Live progress through the Redis job records: the worker side writes, any replica reads.

The API side and the worker side are the same :class:`CeleryJobRunner` code a
``pdfbinder worker`` runs (its task calls ``run_delivered``); here the test
calls ``run_delivered`` itself, so the real executor can be held between two
inputs by a gate the test opens. Records and the broker are a real redis-server.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from pdfbinder.compat.files.local import LocalFileStore
from pdfbinder.compat.jobs.base import Executor, FinishHook, JobRunner
from pdfbinder.compat.jobs.celery import CeleryJobRunner, make_celery
from pdfbinder.compat.jobs.progress import JobProgress, ProgressPublisher
from pdfbinder.compat.jobs.redis_store import RedisJobRecords
from pdfbinder.compat.service import Service
from pdfbinder.compat.settings import Settings
from tests.support.compat import MIRROR_HOST, ThreadServer, make_jpeg, make_png, mirror_url
from tests.support.held_jobs import InputGate
from tests.support.scale import RedisServer


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


def _wait_for(check: Any, timeout: float = 30.0) -> Any:
    """Ask ``check`` until it answers something true (the job itself is held meanwhile)."""
    deadline = time.monotonic() + timeout
    while not (answer := check()):
        assert time.monotonic() < deadline, "condition not met"
        time.sleep(0.02)
    return answer


def test_progress_of_a_held_job_reaches_job_check_through_redis(
    redis_url: str, tmp_path: Path
) -> None:
    mirror = tmp_path / "mirror"
    (mirror / MIRROR_HOST).mkdir(parents=True)
    files = {"a.png": make_png(30, 20), "b.jpg": make_jpeg(20, 30), "c.png": make_png(10, 10)}
    for name, data in files.items():
        (mirror / MIRROR_HOST / name).write_bytes(data)
    gate = InputGate(at_input=2)
    runners: list[CeleryJobRunner] = []

    def build(settings: Settings) -> Service:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        client = redis.Redis.from_url(redis_url, decode_responses=True)

        def runner(execute: Executor, on_finish: FinishHook) -> JobRunner:
            built = CeleryJobRunner(
                make_celery(redis_url, visibility_timeout=30),
                RedisJobRecords(client, retention_seconds=600),
                gate.wrap(execute),
                on_finish,
                visibility_timeout=30,
            )
            runners.append(built)
            return built

        return Service(settings, LocalFileStore(settings.data_dir / "files"), runner)

    settings = Settings(data_dir=tmp_path / "data", url_map=mirror)
    with ThreadServer(settings, build) as server:
        urls = ",".join(mirror_url(name) for name in files)
        job_id = httpx.post(
            f"{server.url}/pdf/convert/from/image", json={"url": urls, "async": True}
        ).json()["jobId"]
        worker = threading.Thread(target=runners[0].run_delivered, args=(job_id, None))
        worker.start()
        try:
            gate.wait_reached()

            def held_check() -> dict[str, Any] | None:
                body: dict[str, Any] = httpx.get(
                    f"{server.url}/job/check", params={"jobid": job_id}
                ).json()
                return body if body.get("progress") == 66 else None

            check = _wait_for(held_check)
            assert check["status"] == "working"
            assert check["currentInput"] == {"index": 2, "name": "c.png"}
            stored = redis.Redis.from_url(redis_url).hget(f"pdfbinder:job:{job_id}", "progress")
            assert stored is not None and b'"percent": 66' in stored
        finally:
            gate.release()
            worker.join(60)
        done = httpx.get(f"{server.url}/job/check", params={"jobid": job_id}).json()
        assert done["status"] == "success" and done["progress"] == 100
        assert [item["sha256"] for item in done["provenance"]["inputs"]] == [
            hashlib.sha256(data).hexdigest() for data in files.values()
        ]
        # The finished record keeps no progress of its own; a late write cannot add one.
        records = runners[0].records
        assert not redis.Redis.from_url(redis_url).hexists(f"pdfbinder:job:{job_id}", "progress")
        assert records.set_progress(job_id, JobProgress(50, 1, "b.jpg")) is False


def test_publisher_writes_a_few_times_a_second_and_always_the_latest() -> None:
    written: list[tuple[str, JobProgress]] = []
    arrived = threading.Event()

    def write(job_id: str, progress: JobProgress) -> None:
        written.append((job_id, progress))
        if progress == JobProgress(99, 49, "x.png"):  # the very last report
            arrived.set()

    publisher = ProgressPublisher(write, interval=0.25)
    report = publisher.reporter("job")
    began = time.monotonic()
    for percent in range(100):
        for position in range(50):  # 5,000 reports, as from a 5,000-input job
            report(JobProgress(percent, position, "x.png"))
    reporting = time.monotonic() - began
    assert arrived.wait(10), "the latest report was never written"
    publisher.close()
    assert written[-1] == ("job", JobProgress(99, 49, "x.png"))
    # One write, then at most one per interval while reports keep coming, then the last.
    assert len(written) <= 2 + reporting / 0.25, (len(written), reporting)
