"""Scale-out throughput: the same batch of small async jobs with 1 and then 2 Celery workers.

A real deployment on loopback — redis-server, moto's S3 server, one
``pdfbinder serve --broker ... --store s3://...`` replica and ``pdfbinder
worker`` processes (concurrency 1 each). N one-image conversions (N = 500 in
full mode, 20 in smoke mode) of a PNG uploaded once to the S3 store are
submitted with ``async=true`` and polled to ``success``; reported: jobs per
second with 1 and 2 workers and the speed-up. The machine has 2 cores, and
the replica, Redis and the S3 server share them with the workers, so perfect
scaling (2.0×) is not reachable here.
"""

from __future__ import annotations

import io
import os
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pikepdf
import pytest
from bench_support import FULL, REPO
from pytest_benchmark.fixture import BenchmarkFixture

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / name) for name in ("compat", "scale")]

from compat_helpers import ServeProcess, make_png  # noqa: E402
from scale_helpers import BUCKET, S3_ENV, MotoS3Server, RedisServer, WorkerProcess  # noqa: E402

JOBS = 500 if FULL else 20
CLIENTS = 8
POLL_SECONDS = 0.02
RESULTS: dict[int, float] = {}


@dataclass
class Deployment:
    root: Path
    flags: list[str]
    api: ServeProcess
    image_url: str
    workers: list[WorkerProcess] = field(default_factory=list)

    def scale_to(self, count: int) -> None:
        while len(self.workers) < count:
            worker = WorkerProcess(self.root / f"worker{len(self.workers)}", *self.flags,
                                   env=S3_ENV)
            self.workers.append(worker)
            worker.start()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    root = tmp_path_factory.mktemp("bench-scale")
    redis_server, s3 = RedisServer(root), MotoS3Server(root)
    started: list[RedisServer | MotoS3Server | ServeProcess] = []
    running: Deployment | None = None
    try:
        for part in (redis_server, s3):
            part.start()
            started.append(part)
        flags = ["--broker", redis_server.url, "--store", f"s3://{BUCKET}/bench",
                 "--s3-endpoint", s3.url]
        limits = {"PDFBINDER_MAX_JOBS_PER_KEY": "100000", "PDFBINDER_MAX_QUEUED_JOBS": "100000"}
        api = ServeProcess(root / "api", *flags, env={**S3_ENV, **limits})
        api.start()
        started.append(api)
        upload = httpx.post(f"{api.url}/file/upload",
                            files={"file": ("dot.png", make_png(64, 48, (10, 200, 90)))}).json()
        running = Deployment(root, flags, api, upload["url"])
        yield running
    finally:
        for worker in running.workers if running else []:
            worker.stop()
        for part in reversed(started):
            part.stop()


def _submit(client: httpx.Client, url: str) -> str:
    body = client.get("/pdf/convert/from/image", params={"url": url, "async": "true"}).json()
    assert body["error"] is False, body
    return str(body["jobId"])


def _wait(client: httpx.Client, job_id: str) -> str:
    while True:
        body = client.get("/job/check", params={"jobid": job_id}).json()
        if body["status"] == "success":
            return str(body["url"])
        assert body["status"] == "working", body
        time.sleep(POLL_SECONDS)


def _run_batch(deployment: Deployment, jobs: int = JOBS) -> tuple[float, list[str]]:
    """Submit ``jobs`` jobs, then poll all to success; (wall seconds, result URLs)."""
    with httpx.Client(base_url=deployment.api.url, timeout=60,
                      limits=httpx.Limits(max_connections=CLIENTS)) as client, \
            ThreadPoolExecutor(CLIENTS) as pool:
        began = time.perf_counter()
        job_ids = list(pool.map(lambda _: _submit(client, deployment.image_url), range(jobs)))
        urls = list(pool.map(lambda job_id: _wait(client, job_id), job_ids))
        return time.perf_counter() - began, urls


@pytest.mark.parametrize("workers", [1, 2])
def test_scale_out_throughput(benchmark: BenchmarkFixture, deployment: Deployment,
                              workers: int) -> None:
    benchmark.group = "scale-out"
    deployment.scale_to(workers)
    _run_batch(deployment, CLIENTS)  # warm up: connections, imports, moto's first requests
    elapsed, urls = benchmark.pedantic(lambda: _run_batch(deployment), rounds=1, iterations=1)
    assert len(set(urls)) == JOBS
    for url in (urls[0], urls[-1]):  # results are real one-page PDFs of the uploaded image
        with pikepdf.open(io.BytesIO(httpx.get(url).content)) as pdf:
            (image,) = pdf.pages[0].get_images().values()
            pixels = pikepdf.PdfImage(image).as_pil_image()
            assert pixels.size == (64, 48) and pixels.getpixel((3, 3)) == (10, 200, 90)
    RESULTS[workers] = JOBS / elapsed
    _publish()


def _publish() -> None:
    """Print the table and write it to .benchmarks/scale.md (full mode, once both ran)."""
    if not FULL or set(RESULTS) != {1, 2}:
        return
    speedup = RESULTS[2] / RESULTS[1]
    text = (
        f"## scale-out ({JOBS} one-image async jobs, source and results on S3 (moto), "
        f"Redis broker, 1 API replica, {CLIENTS} clients, {os.cpu_count()} CPUs shared by all)"
        "\n\n| workers (concurrency 1 each) | jobs/s | vs 1 worker |\n|---|---|---|\n"
        f"| 1 | {RESULTS[1]:.1f} | 1.0× |\n| 2 | {RESULTS[2]:.1f} | {speedup:.2f}× |\n"
    )
    folder = REPO / ".benchmarks"
    folder.mkdir(exist_ok=True)
    (folder / "scale.md").write_text(text, encoding="utf-8")
    sys.stdout.write("\n" + text + "\n")
