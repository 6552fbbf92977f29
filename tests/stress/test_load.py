"""Load: 50 concurrent clients for 60 s against a real ``pdfbinder serve``, loopback only.

Each client loops over the things PDF.co clients do, chosen by a seeded RNG:
presigned upload (presign, PUT, download and compare), multipart upload, a
sync image conversion, a sync mixed merge (merge2), and an async merge polled
on ``/job/check`` until it succeeds — every result is downloaded and its page
count checked. The only answers allowed besides 2xx are 429s (the server
shedding load on purpose; the client backs off and moves on). Anything else —
another status, a wrong result, a transport error — is counted as an error,
and the test requires zero.

"Flat" at the end means: after the run and a short settle, the server's
resident memory grew by at most :data:`RSS_GROWTH_LIMIT` since the 10 s mark
(the first 10 s warm caches, thread pools and allocator arenas up), and its
open file descriptors are back within :data:`FD_SLACK` of the baseline taken
before the load. ``PDFBINDER_LOAD_SECONDS`` sets the duration (default 60).
Counts are printed and written to ``.benchmarks/load.json``.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support.compat import ServeProcess, make_jpeg, make_pdf, make_png
from tests.support.stress import ProcessProbe, page_count, save_result

CLIENTS = 50
SECONDS = float(os.environ.get("PDFBINDER_LOAD_SECONDS", "60"))
WARM_SECONDS = 10.0
SETTLE_SECONDS = 3.0
RSS_GROWTH_LIMIT = 64 * 1024**2
FD_SLACK = 4
SEED = 6


@dataclass
class Tally:
    """What the clients saw: requests by status, finished scenarios, errors (with samples)."""

    statuses: Counter[int] = field(default_factory=Counter)
    scenarios: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    def error(self, message: str) -> None:
        self.errors.append(message[:300])


class Shed(Exception):
    """The server answered 429: an intended refusal, the scenario stops there."""


class Client:
    """One simulated PDF.co client on its own connection pool."""

    def __init__(self, base: str, assets: dict[str, str], tally: Tally, seed: int) -> None:
        self.base = base
        self.assets = assets
        self.tally = tally
        self.rng = random.Random(seed)
        self.http = httpx.AsyncClient(timeout=120)

    async def call(self, method: str, url: str, **options: Any) -> httpx.Response:
        """One request; 429 raises :class:`Shed`, any other non-2xx is an error."""
        response = await self.http.request(method, url, **options)
        self.tally.statuses[response.status_code] += 1
        if response.status_code == 429:
            raise Shed
        if not 200 <= response.status_code < 300:
            raise AssertionError(
                f"{method} {url.split('?')[0]} -> {response.status_code}: {response.text[:200]}"
            )
        return response

    async def result_pages(self, url: str) -> int:
        return page_count((await self.call("GET", url)).content)

    async def presigned_upload(self) -> None:
        payload = make_png(20 + self.rng.randrange(40), 20, (self.rng.randrange(256), 9, 9))
        presign = (
            await self.call(
                "GET", f"{self.base}/file/upload/get-presigned-url", params={"name": "load.png"}
            )
        ).json()
        await self.call("PUT", presign["presignedUrl"], content=payload)
        stored = (await self.call("GET", presign["url"])).content
        assert stored == payload, "presigned upload came back different"

    async def multipart_upload(self) -> None:
        payload = make_pdf(1 + self.rng.randrange(3))
        body = (
            await self.call(
                "POST", f"{self.base}/file/upload", files={"file": ("load.pdf", payload)}
            )
        ).json()
        assert (await self.call("GET", body["url"])).content == payload

    async def sync_convert(self) -> None:
        urls = f"{self.assets['png']},{self.assets['jpeg']}"
        body = (
            await self.call("GET", f"{self.base}/pdf/convert/from/image", params={"url": urls})
        ).json()
        assert body["pageCount"] == 2 and await self.result_pages(body["url"]) == 2, body

    async def sync_merge2(self) -> None:
        urls = f"{self.assets['jpeg']},{self.assets['pdf2']}"
        body = (
            await self.call(
                "POST", f"{self.base}/pdf/merge2", json={"url": urls, "name": "mixed.pdf"}
            )
        ).json()
        assert body["pageCount"] == 3 and await self.result_pages(body["url"]) == 3, body

    async def async_merge(self) -> None:
        urls = f"{self.assets['pdf2']},{self.assets['pdf3']}"
        job = (
            await self.call("POST", f"{self.base}/pdf/merge", json={"url": urls, "async": True})
        ).json()
        while True:  # poll /job/check first: the result URL is 404 until the job is done
            await asyncio.sleep(0.1)
            state = (
                await self.call("GET", f"{self.base}/job/check", params={"jobid": job["jobId"]})
            ).json()
            if state["status"] != "working":
                break
        assert state["status"] == "success", state
        assert await self.result_pages(state["url"]) == 5, state

    async def run(self, deadline: float) -> None:
        scenarios: list[Callable[[], Awaitable[None]]] = [
            self.presigned_upload,
            self.multipart_upload,
            self.sync_convert,
            self.sync_merge2,
            self.async_merge,
        ]
        async with self.http:
            while time.monotonic() < deadline:
                scenario = self.rng.choice(scenarios)
                try:
                    await scenario()
                    self.tally.scenarios[scenario.__name__] += 1
                except Shed:
                    self.tally.scenarios["shed (429)"] += 1
                    await asyncio.sleep(0.2 + self.rng.random() * 0.3)
                except Exception as error:  # counted and reported; the test demands none
                    self.tally.error(f"{scenario.__name__}: {type(error).__name__}: {error}")


async def _sample(
    probe: ProcessProbe, samples: list[tuple[float, int, int]], began: float, stop: asyncio.Event
) -> None:
    while not stop.is_set():
        samples.append((time.monotonic() - began, probe.rss_bytes(), probe.open_fds()))
        await asyncio.sleep(0.5)


async def _load(
    base: str,
    assets: dict[str, str],
    probe: ProcessProbe,
) -> tuple[Tally, list[tuple[float, int, int]]]:
    tally, stop = Tally(), asyncio.Event()
    samples: list[tuple[float, int, int]] = []
    # Built before the clock starts: each client loads the CA bundle, which takes a
    # while on a loaded machine and would leave the warm-up window without samples.
    clients = [Client(base, assets, tally, SEED * 1000 + n) for n in range(CLIENTS)]
    began = time.monotonic()
    sampler = asyncio.create_task(_sample(probe, samples, began, stop))
    await asyncio.gather(*(client.run(began + SECONDS) for client in clients))
    stop.set()
    await sampler
    return tally, samples


def _upload(base: str, name: str, payload: bytes) -> str:
    response = httpx.post(f"{base}/file/upload", files={"file": (name, payload)}, timeout=30)
    assert response.status_code == 200, response.text
    url: str = response.json()["url"]
    return url


def test_fifty_clients_for_a_minute(tmp_path: Path) -> None:
    with ServeProcess(tmp_path / "data", "--workers", "2") as server:
        assert server.process is not None
        probe = ProcessProbe(server.process.pid)
        assets = {
            "png": _upload(server.url, "a.png", make_png(60, 40)),
            "jpeg": _upload(server.url, "b.jpg", make_jpeg(50, 70)),
            "pdf2": _upload(server.url, "two.pdf", make_pdf(2)),
            "pdf3": _upload(server.url, "three.pdf", make_pdf(3, width=300)),
        }
        fd_baseline = probe.open_fds()
        tally, samples = asyncio.run(_load(server.url, assets, probe))
        time.sleep(SETTLE_SECONDS)
        rss_end, fd_end = probe.rss_bytes(), probe.open_fds()
        alive = server.process.poll() is None

    rss_warm = max(rss for at, rss, _ in samples if at <= WARM_SECONDS)
    summary = {
        "clients": CLIENTS,
        "seconds": SECONDS,
        "requests": sum(tally.statuses.values()),
        "statuses": {str(code): count for code, count in sorted(tally.statuses.items())},
        "scenarios": dict(tally.scenarios),
        "errors": len(tally.errors),
        "error_samples": tally.errors[:5],
        "rss_mb": {
            "warm_10s": round(rss_warm / 1024**2, 1),
            "peak": round(max(rss for _, rss, _ in samples) / 1024**2, 1),
            "end": round(rss_end / 1024**2, 1),
        },
        "fds": {"baseline": fd_baseline, "peak": max(fds for *_, fds in samples), "end": fd_end},
    }
    save_result("load", summary)
    assert alive, "the server died under load"
    assert not tally.errors, tally.errors[:10]
    assert set(tally.statuses) <= {200, 429}, tally.statuses
    # Every kind of work was actually done, many times over.
    done = [
        tally.scenarios[name]
        for name in (
            "presigned_upload",
            "multipart_upload",
            "sync_convert",
            "sync_merge2",
            "async_merge",
        )
    ]
    assert min(done) >= 10, tally.scenarios
    assert rss_end - rss_warm <= RSS_GROWTH_LIMIT, summary["rss_mb"]
    assert fd_end <= fd_baseline + FD_SLACK, summary["fds"]
