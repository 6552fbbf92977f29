"""Chaos: SIGKILL the server at random moments of a run of async jobs, restart, lose nothing.

Several cycles on one data directory: start ``pdfbinder serve``, let a client
thread upload files (presigned PUTs) and submit async jobs (image
conversions, PDF merges, mixed merges) as fast as it can, and SIGKILL the
server after a seeded-random delay — mid-upload, mid-job, mid-write. After a
final restart, every promise the server made is checked:

- every job it accepted (answered with a ``jobId``) has succeeded, and its
  result downloads as a valid PDF with the right page count, or is reported
  ``failed`` as interrupted by the crash; none is still ``working``;
- every upload it acknowledged downloads byte-identical; an upload the kill
  cut short is absent (404), never a partial file;
- every file in the store is whole (an upload we sent, or a valid PDF), and
  no interrupted write is left behind.

Recorded in ``.benchmarks/chaos.json``: jobs accepted, completed,
failed-by-crash and data lost (which must be 0). ``PDFBINDER_CHAOS_CYCLES``
(default 4) and ``PDFBINDER_CHAOS_SEED`` (default 6) vary the run.
"""

from __future__ import annotations

import os
import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from pdfbinder.compat.files.local import LocalFileStore
from pdfbinder.compat.jobs.local import INTERRUPTED_MESSAGE
from tests.support.compat import ServeProcess, make_jpeg, make_noise_bmp, make_pdf, make_png
from tests.support.stress import page_count, save_result

CYCLES = int(os.environ.get("PDFBINDER_CHAOS_CYCLES", "4"))
SEED = int(os.environ.get("PDFBINDER_CHAOS_SEED", "6"))


@dataclass
class Ledger:
    """What the server promised: uploads (by file id) and jobs (by id, with page counts)."""

    sent: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    """Every presigned upload attempted, acknowledged or not: file id → (URL path, bytes)."""
    acknowledged: set[str] = field(default_factory=set)
    jobs: dict[str, int] = field(default_factory=dict)
    """Accepted jobs: job id → expected page count."""
    outputs: dict[str, int] = field(default_factory=dict)
    """Result file id → expected page count."""
    client_errors: list[str] = field(default_factory=list)


def _file_id(url: str) -> str:
    return urlsplit(url).path.split("/")[-2]


def _presigned_upload(
    http: httpx.Client, base: str, name: str, payload: bytes, ledger: Ledger
) -> str:
    presign = http.get(f"{base}/file/upload/get-presigned-url", params={"name": name}).json()
    ledger.sent[_file_id(presign["url"])] = (urlsplit(presign["url"]).path, payload)
    stored = http.put(presign["presignedUrl"], content=payload)
    if stored.status_code != 200:
        ledger.client_errors.append(f"presigned PUT: {stored.status_code} {stored.text[:200]}")
    ledger.acknowledged.add(_file_id(presign["url"]))
    url: str = presign["url"]
    return url


def _client(base: str, rng: random.Random, ledger: Ledger, stop: threading.Event) -> None:
    """Upload inputs, then submit jobs until the server dies (or ``stop``)."""
    try:
        with httpx.Client(timeout=30) as http:
            noise = _presigned_upload(http, base, "noise.bmp", make_noise_bmp(700, 700), ledger)
            png = _presigned_upload(http, base, "a.png", make_png(64, 48), ledger)
            pdf = _presigned_upload(http, base, "three.pdf", make_pdf(3), ledger)
            kinds = [
                ("convert/from/image", f"{noise},{png}", 2),
                ("merge", f"{pdf},{pdf}", 6),
                ("merge2", f"{png},{pdf},{noise}", 5),
            ]
            while not stop.is_set():
                route, urls, pages = rng.choice(kinds)
                response = http.post(f"{base}/pdf/{route}", json={"url": urls, "async": True})
                if response.status_code == 429:  # shed on purpose: not accepted, try later
                    time.sleep(0.05)
                    continue
                if response.status_code != 200:
                    ledger.client_errors.append(
                        f"{route}: {response.status_code} {response.text[:200]}"
                    )
                    continue
                body = response.json()
                ledger.jobs[body["jobId"]] = pages
                ledger.outputs[_file_id(body["url"])] = pages
                if rng.random() < 0.3:
                    payload = make_jpeg(16 + rng.randrange(64), 16, (rng.randrange(256), 0, 0))
                    _presigned_upload(http, base, "extra.jpg", payload, ledger)
    except httpx.TransportError:
        return  # the server was killed under us: whatever was unanswered was not promised


def _verify(base: str, data_dir: Path, ledger: Ledger) -> dict[str, int]:
    """Check every promise against the restarted server; the counts for the record."""
    counts = {
        "jobs_accepted": len(ledger.jobs),
        "completed": 0,
        "failed_by_crash": 0,
        "uploads_acknowledged": len(ledger.acknowledged),
        "data_lost": 0,
    }
    problems: list[str] = []
    with httpx.Client(timeout=30) as http:
        for job_id, pages in ledger.jobs.items():
            body = http.get(f"{base}/job/check", params={"jobid": job_id}).json()
            if body["status"] == "success":
                result = http.get(body["url"])
                if result.status_code != 200 or page_count(result.content) != pages:
                    problems.append(f"job {job_id}: result {result.status_code}")
                counts["completed"] += 1
            elif body["status"] == "failed" and body["message"] == INTERRUPTED_MESSAGE:
                counts["failed_by_crash"] += 1
            else:
                problems.append(f"job {job_id}: {body}")
        for file_id, (path, payload) in ledger.sent.items():
            stored = http.get(base + path)
            whole = stored.status_code == 200 and stored.content == payload
            cut_short = stored.status_code == 404 and file_id not in ledger.acknowledged
            if not (whole or cut_short):
                problems.append(
                    f"upload {file_id}: {stored.status_code}, "
                    f"{len(stored.content)} of {len(payload)} bytes"
                )
    store = LocalFileStore(data_dir / "files")
    for entry in (data_dir / "files").iterdir():
        if entry.name == ".tmp":
            assert not any(entry.iterdir()), "interrupted writes were left behind"
            continue
        if entry.name in ledger.sent:
            continue  # compared byte for byte above
        opened = store.open(entry.name)
        assert opened is not None, f"stored file {entry.name} is not whole"
        with opened[1] as stream:
            content = stream.read()
        # A result: of an accepted job (known page count), or of one whose answer the kill
        # swallowed (it must still be a whole PDF: page_count raises otherwise).
        pages = page_count(content)
        if pages != ledger.outputs.get(entry.name, pages):
            problems.append(f"stored result {entry.name} has {pages} pages")
    counts["data_lost"] = len(problems)
    assert not problems, problems[:10]
    assert not ledger.client_errors, ledger.client_errors[:10]
    return counts


def test_sigkill_at_random_points_loses_nothing(tmp_path: Path) -> None:
    kill_rng = random.Random(SEED)
    data_dir = tmp_path / "data"
    ledger = Ledger()
    kills = []
    for cycle in range(CYCLES):
        server = ServeProcess(data_dir, "--workers", "2").start()
        stop = threading.Event()
        client = threading.Thread(
            target=_client, args=(server.url, random.Random(SEED * 100 + cycle), ledger, stop)
        )
        try:
            client.start()
            delay = kill_rng.uniform(0.3, 2.5)
            time.sleep(delay)
            server.kill()
            kills.append(round(delay, 2))
        finally:
            stop.set()
            client.join(60)
            server.stop()
    with ServeProcess(data_dir) as restarted:
        counts = _verify(restarted.url, data_dir, ledger)
    summary = {"cycles": CYCLES, "seed": SEED, "kill_after_seconds": kills, **counts}
    save_result("chaos", summary)
    assert counts["completed"] > 0 and counts["failed_by_crash"] > 0, summary
    assert counts["completed"] + counts["failed_by_crash"] == counts["jobs_accepted"]
    assert counts["data_lost"] == 0
