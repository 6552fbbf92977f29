"""The HTTP server's overhead: async jobs over loopback vs calling the engine directly.

The same work both ways — N one-image conversions (N = 200 in full mode, 10 in
smoke mode) — once through a real ``pdfbinder serve`` process (submit with
``async=true``, poll ``/job/check`` until ``success``, as PDF.co clients do)
and once as N direct ``images_to_pdf`` calls. Reported: jobs per second for
both, their ratio, and the server's p50/p99 submit-to-success latency.
"""

from __future__ import annotations

import io
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pikepdf
import pytest
from PIL import Image
from pytest_benchmark.fixture import BenchmarkFixture

from pdfbinder.engine import images_to_pdf
from tests.support.bench import FULL, REPO
from tests.support.cli import pdfbinder_script

JOBS = 200 if FULL else 10
ROUNDS = 3 if FULL else 1
HOST = "bench.example.test"
CLIENTS = 8
POLL_SECONDS = 0.005
RESULTS: dict[str, float] = {}


def _png(index: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (index % 256, 80, 160)).save(buffer, "PNG")
    return buffer.getvalue()


@dataclass
class Server:
    url: str
    images: list[bytes]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``pdfbinder serve`` with the images in an offline URL mirror (no fetch cost)."""
    root = tmp_path_factory.mktemp("bench-server")
    images = [_png(index) for index in range(JOBS)]
    (root / "mirror" / HOST).mkdir(parents=True)
    for index, data in enumerate(images):
        (root / "mirror" / HOST / f"{index}.png").write_bytes(data)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    executable = pdfbinder_script()
    log = open(root / "serve.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [
            executable,
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(root / "data"),
            "--url-map",
            str(root / "mirror"),
            "--workers",
            "2",
        ],
        stdout=log,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        assert process.poll() is None, (root / "serve.log").read_text()
        try:
            if httpx.get(f"{url}/health").status_code == 200:
                break
        except httpx.TransportError:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)
    yield Server(url, images)
    process.terminate()
    process.wait(timeout=20)
    log.close()


def _one_job(client: httpx.Client, index: int) -> tuple[float, str]:
    """Submit job ``index`` and poll it to success, as a PDF.co client does; (latency, url)."""
    sent = time.perf_counter()
    body = client.get(
        "/pdf/convert/from/image",
        params={"url": f"https://{HOST}/{index}.png", "async": "true", "name": f"{index}.pdf"},
    ).json()
    while True:
        status = client.get("/job/check", params={"jobid": body["jobId"]}).json()["status"]
        if status == "success":
            return time.perf_counter() - sent, body["url"]
        assert status == "working", status
        time.sleep(POLL_SECONDS)


def _run_jobs(server: Server) -> tuple[float, list[float], list[str]]:
    """All jobs from CLIENTS concurrent clients; (wall seconds, latencies, result URLs)."""
    with (
        httpx.Client(
            base_url=server.url, timeout=30, limits=httpx.Limits(max_connections=CLIENTS)
        ) as client,
        ThreadPoolExecutor(CLIENTS) as pool,
    ):
        began = time.perf_counter()
        outcomes = list(pool.map(lambda index: _one_job(client, index), range(JOBS)))
        elapsed = time.perf_counter() - began
    return elapsed, [latency for latency, _ in outcomes], [url for _, url in outcomes]


def test_server_async_jobs(benchmark: BenchmarkFixture, server: Server) -> None:
    benchmark.group = "server"
    elapsed, latencies, urls = benchmark.pedantic(
        lambda: _run_jobs(server), rounds=ROUNDS, iterations=1
    )
    assert len(latencies) == JOBS
    for index, url in enumerate(urls):  # each job's PDF holds its own image, pixel-exact
        with pikepdf.open(io.BytesIO(httpx.get(url).content)) as pdf:
            assert len(pdf.pages) == 1
            (image,) = pdf.pages[0].get_images().values()
            pixels = pikepdf.PdfImage(image).as_pil_image()
            assert pixels.size == (64, 48) and pixels.getpixel((5, 5)) == (index % 256, 80, 160)
    ordered = sorted(latencies)
    RESULTS.update(
        server_jobs_per_s=JOBS / _median_seconds(benchmark, elapsed),
        p50_ms=statistics.median(ordered) * 1000,
        p99_ms=ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))] * 1000,
    )


def test_engine_only(benchmark: BenchmarkFixture, server: Server) -> None:
    benchmark.group = "server"

    def convert_all() -> tuple[float, list[int]]:
        began = time.perf_counter()
        pages = [images_to_pdf([data], io.BytesIO()).page_count for data in server.images]
        return time.perf_counter() - began, pages

    elapsed, pages = benchmark.pedantic(convert_all, rounds=ROUNDS, iterations=1)
    assert pages == [1] * JOBS
    RESULTS["engine_jobs_per_s"] = JOBS / _median_seconds(benchmark, elapsed)
    _publish()


def _median_seconds(benchmark: BenchmarkFixture, last_round: float) -> float:
    """The median over the benchmark's rounds (only the last round's time when disabled)."""
    stats = getattr(benchmark, "stats", None)
    inner = getattr(stats, "stats", None) if stats is not None else None
    return float(inner.median) if inner is not None else last_round


def _publish() -> None:
    """Print the table and write it to .benchmarks/server.md (full mode)."""
    if not FULL or "server_jobs_per_s" not in RESULTS:
        return
    ratio = RESULTS["engine_jobs_per_s"] / RESULTS["server_jobs_per_s"]
    text = (
        f"## server ({JOBS} one-image jobs, {CLIENTS} concurrent clients polling every "
        f"{POLL_SECONDS * 1000:.0f} ms, 2 job workers, loopback, {os.cpu_count()} CPUs)\n\n"
        "| path | jobs/s | p50 latency | p99 latency |\n|---|---|---|---|\n"
        f"| engine only (images_to_pdf) | {RESULTS['engine_jobs_per_s']:.0f} | – | – |\n"
        f"| server, async + polling | {RESULTS['server_jobs_per_s']:.0f} ({ratio:.1f}× slower) "
        f"| {RESULTS['p50_ms']:.0f} ms | {RESULTS['p99_ms']:.0f} ms |\n"
    )
    folder = REPO / ".benchmarks"
    folder.mkdir(exist_ok=True)
    (folder / "server.md").write_text(text, encoding="utf-8")
    sys.stdout.write("\n" + text + "\n")
