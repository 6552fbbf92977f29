"""The server as clients feel it, beside the engine alone, with wrk as the client.

One real ``pdfbinder serve`` converts the same one-image job over and over: a
64×48 PNG served from an offline URL mirror (no fetch cost), 2 job workers per
process. It runs as one process per CPU (``--processes``, what this machine
should run in production) with the data directory on disk and on tmpfs
(``/dev/shm``, where file writes cost nothing), and as one process on tmpfs for
comparison. The client is wrk (C, epoll, keep-alive), so what is measured is the
server: wrk's own CPU time is measured too and printed per job, and so is the
server's (every process of it).

* sync jobs at 8 keep-alive connections, in jobs/s, beside the engine alone
  converting the same bytes in one thread of this process (``images_to_pdf``
  into memory), the two taking turns (``ROUNDS``) in the same run;
* a lone sync job (one connection, one request at a time): its median latency
  beside the engine's median time for the same job and the median latency of a
  lone ``/health`` request (the HTTP stack alone), measured in the same run;
* async jobs end to end: each of 8 connections submits a job, polls
  ``/job/check`` until ``success`` and downloads the result, then starts the
  next, in jobs/s;
* the floor under all of them: the same server's ``/health`` at 8 connections
  (routing, middlewares and HTTP, no job), in requests/s;
* the floor under the job rows: the same job done by a bare ASGI callable under the
  same uvicorn, one process per CPU (``floor_app.py``: no framework, no job records,
  no store layout), sync at 8 connections and alone, beside the engine.

Smoke mode runs each for a second and checks the answers and a result's
pixels; full mode (``PDFBINDER_BENCH=full``) runs longer, asserts the
targets (the throughput ones for a process per CPU, the setup they are for) and
writes ``.benchmarks/server.md``.
"""

from __future__ import annotations

import io
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pikepdf
import pytest
from PIL import Image

from pdfbinder.compat.clock import utcnow
from pdfbinder.compat.files.base import new_file_id
from pdfbinder.compat.files.local import LocalFileStore
from pdfbinder.compat.jobs.base import JobSpec
from pdfbinder.compat.jobs.local import LocalJobRunner
from pdfbinder.engine import images_to_pdf
from tests.support.bench import FULL, REPO
from tests.support.compat import LoggedProcess, ServeProcess, free_port

SECONDS = 10 if FULL else 1
ROUNDS = 5 if FULL else 1
"""Slices of the sync rows: the engine alone and the server take turns, SECONDS each in all,
so a slow or fast spell of this shared machine falls on both sides of the ratio."""
HOST = "bench.example.test"
COLOR = (10, 80, 160)
JOB = f"/pdf/convert/from/image?name=one.pdf&url=https://{HOST}/one.png"
_RESULTS: dict[str, str] = {}

# wrk prints nothing machine-readable by default; this reports what the tests need.
_REPORT = """
done = function(summary, latency, requests)
  local jobs = 0
  for _, thread in ipairs(threads or {}) do jobs = jobs + (thread:get("jobs") or 0) end
  io.write(string.format(
    '{"requests": %d, "seconds": %f, "bad": %d, "p50_ms": %f, "p99_ms": %f, "jobs": %d}\\n',
    summary.requests, summary.duration / 1e6,
    summary.errors.status + summary.errors.connect + summary.errors.read
      + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, jobs))
end
"""
_SYNC = _REPORT


def _async_end_to_end(job: str) -> str:
    """A wrk script for async jobs at ``job`` (a path with a query string).

    One connection per wrk thread, so each thread's Lua state follows one job at a time:
    submit, poll until success, download, count, submit the next.
    """
    script = """
threads = {}
setup = function(thread) table.insert(threads, thread) end
init = function(args) jobs = 0; step = "submit" end
request = function()
  if step == "submit" then return wrk.format("GET", "JOB_PATH&async=true")
  elseif step == "check" then return wrk.format("GET", "/job/check?jobid=" .. job)
  else return wrk.format("GET", download) end
end
response = function(status, headers, body)
  if status ~= 200 then error("HTTP " .. status .. ": " .. body) end
  if step == "submit" then
    job = body:match('"jobId":"([^"]+)"')
    download = body:match('"url":"https?://[^/]+(/[^"]+)"')
    step = "check"
  elseif step == "check" then
    if body:find('"status":"success"', 1, true) then step = "download" end
  else
    jobs = jobs + 1
    step = "submit"
  end
end
"""
    return script.replace("JOB_PATH", job) + _REPORT


_ASYNC_END_TO_END = _async_end_to_end(JOB)


CPUS = os.cpu_count() or 1
# Disk last, its data removed when it ends (see ``server``), so that no run measures disk
# writes within minutes of the tens of thousands of files an earlier run left being deleted.
_SETUPS = {  # name → (tmpfs, processes)
    f"tmpfs, {CPUS} processes": (True, CPUS),
    "tmpfs, 1 process": (True, 1),
    f"disk, {CPUS} processes": (False, CPUS),
}


@dataclass(frozen=True)
class Server:
    url: str
    pid: int
    image: bytes
    setup: str
    results: Path | None = None
    """Where it keeps its results, when a test looks at them there."""


@contextmanager
def _serving(root: Path, tmpfs: bool, processes: int, *flags: str) -> Iterator[Server]:
    """``pdfbinder serve`` of the one-image job under ``root``, its data on tmpfs or disk."""
    scratch = root
    if tmpfs:
        if not Path("/dev/shm").is_dir():
            pytest.skip("no tmpfs at /dev/shm")
        # The server's log goes beside its data, so both go with this folder.
        scratch = Path(tempfile.mkdtemp(prefix="pdfbinder-bench-", dir="/dev/shm"))
    data = scratch / "data"
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), COLOR).save(buffer, "PNG")
    (root / "mirror" / HOST).mkdir(parents=True)
    (root / "mirror" / HOST / "one.png").write_bytes(buffer.getvalue())
    assert shutil.which("wrk"), "wrk is not installed (.ci/run installs it)"
    serve = ServeProcess(
        data,
        "--url-map",
        str(root / "mirror"),
        "--workers",
        "2",
        "--processes",
        str(processes),
        *flags,
    )
    try:
        with serve:
            serve.wait_for_processes(processes)
            yield Server(serve.url, serve.pid, buffer.getvalue(), "")
    finally:
        # Removed here, not left for pytest to remove at the start of a later session: on an
        # ext4 without a journal (this VM's), each file created within a minute or so of
        # tens of thousands being deleted costs several times the CPU (the kernel steps
        # over every recently freed inode), and the next run's disk row measured that.
        shutil.rmtree(data, ignore_errors=True)
        if scratch != root:
            shutil.rmtree(scratch, ignore_errors=True)


@pytest.fixture(scope="module", params=list(_SETUPS))
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    tmpfs, processes = _SETUPS[request.param]
    with _serving(tmp_path_factory.mktemp("bench-server"), tmpfs, processes) as serving:
        yield replace(serving, setup=request.param)


@pytest.fixture(scope="module", autouse=True)
def _publish() -> Iterator[None]:
    yield
    if FULL and _RESULTS:
        folder = REPO / ".benchmarks"
        folder.mkdir(exist_ok=True)
        lines = "\n".join(f"| {name} | {value} |" for name, value in _RESULTS.items())
        text = f"## server ({os.cpu_count()} CPUs, loopback, wrk)\n\n| row | figure |\n|---|---|\n"
        (folder / "server.md").write_text(text + lines + "\n", encoding="utf-8")


def _server_cpu(pid: int) -> float:
    """CPU seconds the server has used so far (user + system), every process of it."""
    children: dict[int, list[int]] = {}
    used: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        used[int(entry.name)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        total += used.get(current, 0.0)
        pending += children.get(current, [])
    return total


def _wrk(
    server: Server,
    script: str,
    path: str,
    connections: int,
    tmp_path: Path,
    seconds: int = SECONDS,
) -> dict[str, Any]:
    """Run wrk for ``seconds``; its report plus its own and the server's CPU seconds."""
    (tmp_path / "report.lua").write_text(script)
    server_before = _server_cpu(server.pid)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [
            "wrk",
            f"-t{connections}",  # one connection per wrk thread
            f"-c{connections}",
            f"-d{seconds}s",
            # A slow answer on a loaded machine is slow, not an error (wrk's default is 2 s).
            "--timeout",
            "30s",
            "-s",
            str(tmp_path / "report.lua"),
            server.url + path,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    report["client_cpu"] = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    report["server_cpu"] = _server_cpu(server.pid) - server_before
    assert report["bad"] == 0, done.stdout
    return report


def _engine_times(image: bytes, seconds: float = SECONDS) -> list[float]:
    """Seconds per job for the engine alone, one thread, for about ``seconds``."""
    for _ in range(20):
        images_to_pdf([image], io.BytesIO())
    times: list[float] = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        began = time.perf_counter()
        images_to_pdf([image], io.BytesIO())
        times.append(time.perf_counter() - began)
    return times


@dataclass(frozen=True)
class SyncRun:
    """Sync jobs at 8 connections beside the engine alone, measured in turns."""

    engine_rate: float  # jobs/s, one thread
    rate: float  # jobs/s through the server
    server_ms: float  # server CPU per job
    client_ms: float  # wrk's CPU per job

    @property
    def ratio(self) -> float:
        return self.rate / self.engine_rate


def _sync_beside_engine(server: Server, path: str, tmp_path: Path) -> SyncRun:
    """The engine alone and the server at 8 connections, in ROUNDS turns of each."""
    return _sync_rungs({"": (server, path)}, tmp_path)[""]


def _sync_rungs(rungs: dict[str, tuple[Server, str]], tmp_path: Path) -> dict[str, SyncRun]:
    """Each rung (a server and its job's path) at 8 connections, and the engine alone, in
    ROUNDS rounds of turns: the engine, a rung, the engine, the next rung … (the rungs in
    reverse order every other round), so a slow or fast spell falls on every side."""
    engine: list[float] = []
    reports: dict[str, list[dict[str, Any]]] = {name: [] for name in rungs}
    for round_number in range(ROUNDS):
        names = list(rungs) if round_number % 2 == 0 else list(rungs)[::-1]
        for name in names:
            server, path = rungs[name]
            engine += _engine_times(server.image, SECONDS / ROUNDS)
            reports[name].append(_wrk(server, _SYNC, path, 8, tmp_path, SECONDS // ROUNDS))
    engine_rate = len(engine) / sum(engine)

    def total(name: str, key: str) -> float:
        return float(sum(report[key] for report in reports[name]))

    return {
        name: SyncRun(
            engine_rate=engine_rate,
            rate=total(name, "requests") / total(name, "seconds"),
            server_ms=total(name, "server_cpu") / total(name, "requests") * 1000,
            client_ms=total(name, "client_cpu") / total(name, "requests") * 1000,
        )
        for name in rungs
    }


def _production(server: Server) -> bool:
    """Whether ``server`` runs as this machine should in production (a process per CPU):
    the setup the throughput targets are for. One process is there to compare with."""
    return _SETUPS[server.setup][1] == CPUS


def _check_result(server: Server) -> None:
    answer = httpx.get(server.url + JOB, timeout=60).json()
    with pikepdf.open(io.BytesIO(httpx.get(answer["url"]).content)) as pdf:
        (image,) = pdf.pages[0].get_images().values()
        pixels = pikepdf.PdfImage(image).as_pil_image()
        assert pixels.size == (64, 48) and pixels.getpixel((5, 5)) == COLOR


def test_sync_jobs_beside_the_engine(server: Server, tmp_path: Path) -> None:
    _check_result(server)
    sync = _sync_beside_engine(server, JOB, tmp_path)
    _RESULTS[f"sync jobs, 8 keep-alive connections ({server.setup})"] = (
        f"{sync.rate:.0f} jobs/s = {sync.ratio:.2f}× the engine alone in one thread "
        f"({sync.engine_rate:.0f}/s, in {ROUNDS} turns with the server); server CPU "
        f"{sync.server_ms:.2f} ms/job, wrk {sync.client_ms:.3f} ms/job (target ≥ 0.5×)"
    )
    print("\n", _RESULTS)
    if FULL and _production(server):
        assert sync.ratio >= 0.5


def test_lone_sync_job_latency(server: Server, tmp_path: Path) -> None:
    engine_ms = statistics.median(_engine_times(server.image)) * 1000
    health = _wrk(server, _SYNC, "/health", 1, tmp_path)
    lone = _wrk(server, _SYNC, JOB, 1, tmp_path)
    overhead = lone["p50_ms"] - engine_ms
    _RESULTS[f"lone sync job, p50 ({server.setup})"] = (
        f"{lone['p50_ms']:.2f} ms (p99 {lone['p99_ms']:.2f} ms) = engine {engine_ms:.2f} ms "
        f"+ {overhead:.2f} ms, of which a lone /health takes {health['p50_ms']:.2f} ms "
        "(target ≤ + 1.5 ms)"
    )
    print("\n", _RESULTS)
    if FULL:
        assert overhead <= 1.5


def test_async_jobs_end_to_end(server: Server, tmp_path: Path) -> None:
    # A job takes three requests or more: smoke mode still gives each connection time for one.
    run = _wrk(server, _ASYNC_END_TO_END, "/", 8, tmp_path, max(SECONDS, 5))
    jobs = run["jobs"]
    assert jobs > 0
    rate = jobs / run["seconds"]
    _RESULTS[f"async end to end (submit, poll, download), 8 connections ({server.setup})"] = (
        f"{rate:.0f} jobs/s, {run['requests'] / jobs:.1f} requests/job; server CPU "
        f"{run['server_cpu'] / jobs * 1000:.2f} ms/job, wrk {run['client_cpu'] / jobs * 1000:.3f}"
        " ms/job (target ≥ 300 jobs/s)"
    )
    print("\n", _RESULTS)
    if FULL and _production(server):
        assert rate >= 300


def test_http_floor(server: Server, tmp_path: Path) -> None:
    """What the HTTP stack alone costs here: no job can be answered faster than this."""
    health = _wrk(server, _SYNC, "/health", 8, tmp_path)
    rate = health["requests"] / health["seconds"]
    assert health["requests"] > 0
    _RESULTS[f"/health, 8 keep-alive connections ({server.setup})"] = (
        f"{rate:.0f} requests/s; server CPU {health['server_cpu'] / health['requests'] * 1000:.2f}"
        f" ms/request, wrk {health['client_cpu'] / health['requests'] * 1000:.3f} ms/request"
    )
    print("\n", _RESULTS)


@pytest.fixture(scope="module")
def floor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``floor_app.py`` under uvicorn, one process per CPU, writing results to tmpfs."""
    if not Path("/dev/shm").is_dir():
        pytest.skip("no tmpfs at /dev/shm")
    root = tmp_path_factory.mktemp("bench-floor")
    results = Path(tempfile.mkdtemp(prefix="pdfbinder-floor-", dir="/dev/shm"))
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), COLOR).save(buffer, "PNG")
    (root / "one.png").write_bytes(buffer.getvalue())
    (root / "ready").mkdir()
    port = free_port()
    env = {
        "FLOOR_SOURCE": str(root / "one.png"),
        "FLOOR_RESULTS": str(results),
        "FLOOR_READY": str(root / "ready"),
        "PYTHONPATH": str(REPO),
    }
    command = [sys.executable, "-m", "uvicorn", "tests.benchmarks.floor_app:app"]
    command += ["--port", str(port), "--workers", str(CPUS), "--log-level", "warning"]
    process = LoggedProcess(command, root / "floor.log", env)
    process.launch()
    try:
        process.wait_for_files(root / "ready", "*", CPUS)
        yield Server(f"http://127.0.0.1:{port}", process.pid, buffer.getvalue(), "floor", results)
    finally:
        process.stop()
        shutil.rmtree(results, ignore_errors=True)


def test_the_floor_beside_the_engine(floor: Server, tmp_path: Path) -> None:
    """No target: what this machine allows for the job rows, measured in the same run."""
    assert httpx.get(floor.url + "/job", timeout=60).json()["pageCount"] == 1
    sync = _sync_beside_engine(floor, "/job", tmp_path)
    engine = _engine_times(floor.image)
    health = _wrk(floor, _SYNC, "/health", 1, tmp_path)
    lone = _wrk(floor, _SYNC, "/job", 1, tmp_path)
    script = _async_end_to_end("/job?name=one.pdf")
    end_to_end = _wrk(floor, script, "/", 8, tmp_path, max(SECONDS, 5))
    jobs = end_to_end["jobs"]
    assert jobs > 0
    engine_ms = statistics.median(engine) * 1000
    _RESULTS[f"floor: the job in a bare ASGI app, same uvicorn, {CPUS} processes, tmpfs"] = (
        f"{sync.rate:.0f} jobs/s at 8 connections = {sync.ratio:.2f}× the engine alone "
        f"({sync.engine_rate:.0f}/s, in turns); server CPU {sync.server_ms:.2f} ms/job. "
        f"Alone: p50 {lone['p50_ms']:.2f} ms = engine {engine_ms:.2f} ms + "
        f"{lone['p50_ms'] - engine_ms:.2f} ms; a lone /health {health['p50_ms']:.2f} ms. "
        f"Async end to end: {jobs / end_to_end['seconds']:.0f} jobs/s, server CPU "
        f"{end_to_end['server_cpu'] / jobs * 1000:.2f} ms/job, wrk "
        f"{end_to_end['client_cpu'] / jobs * 1000:.3f} ms/job"
    )
    print("\n", _RESULTS)


def _stored_by_the_floor(floor: Server, file_id: str) -> bytes:
    """The document of a ``/stored-job`` answer, read back through the file store."""
    assert floor.results is not None
    for folder in floor.results.glob("store-*"):
        opened = LocalFileStore(folder).open(file_id)
        if opened is not None:
            with opened[1] as document:
                return document.read()
    raise AssertionError(f"{file_id} is in no store under {floor.results}")


def test_the_ladder_from_the_floor_to_the_server(
    floor: Server, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    """No target: the sync job at 8 connections, one layer added at each rung, every rung
    and the engine alone taking turns in the same run, a process per CPU on tmpfs: the
    bare app (the floor), the bare app committing its result through the server's file
    store, the server without its access log, the server."""
    stored = httpx.get(floor.url + "/stored-job", timeout=60).json()
    file_id = stored["url"].split("/")[-2]
    with pikepdf.open(io.BytesIO(_stored_by_the_floor(floor, file_id))) as pdf:
        assert len(pdf.pages) == stored["pageCount"] == 1
    root = tmp_path_factory.mktemp("bench-ladder")
    with (
        _serving(root / "quiet", True, CPUS, "--no-access-log") as quiet,
        _serving(root / "logged", True, CPUS) as logged,
    ):
        _check_result(quiet)
        rungs = {
            "the bare app (the floor)": (floor, "/job"),
            "+ the server's file store": (floor, "/stored-job"),
            "`pdfbinder serve --no-access-log`": (quiet, JOB),
            "`pdfbinder serve`": (logged, JOB),
        }
        runs = _sync_rungs(rungs, tmp_path)
    engine_rate = runs["`pdfbinder serve`"].engine_rate
    rows = [
        f"{name}: {run.rate:.0f} jobs/s = {run.ratio:.2f}×, server CPU {run.server_ms:.3f} ms/job"
        for name, run in runs.items()
    ]
    engine = f" (the engine alone {engine_rate:.0f}/s, in turns with each)"
    _RESULTS[f"ladder, sync jobs at 8 connections, {CPUS} processes, tmpfs"] = (
        "; ".join(rows) + engine
    )
    print("\n", _RESULTS)


def _stat_every_entry(folder: Path) -> int:
    """The floor of any sweep that looks at each stored file: list the folder, stat each."""
    count = 0
    for entry in os.scandir(folder):
        entry.stat(follow_symlinks=False)
        count += 1
    return count


def test_the_sweep_beside_a_bare_listing() -> None:
    """Every process sweeps its data directory each ``--sweep-interval`` (60 s) while a
    result is kept (an hour, by default). Most sweeps visit only the results their process
    committed that are due; the first, and one an hour, look at every stored file, measured
    per file on tmpfs beside the bare listing of the same folder (the floor of any sweep
    that looks at each file)."""
    count = 20_000 if FULL else 2_000
    root = Path(tempfile.mkdtemp(prefix="pdfbinder-bench-sweep-", dir="/dev/shm"))
    try:
        store = LocalFileStore(root)
        assert store.sweep() == 0  # the first sweep, on an empty folder
        later = utcnow() + timedelta(hours=1)
        began = time.process_time()
        for _ in range(count):
            with store.writer(
                new_file_id(), name="one.pdf", expires_at=later, durable=False
            ) as sink:
                sink.stream.write(b"%PDF-1.7 one small result")
        commit = (time.process_time() - began) / count
        fulls: list[float] = []
        listings: list[float] = []
        betweens: list[float] = []
        for _ in range(ROUNDS):
            sibling = LocalFileStore(root)  # another process, at its first sweep
            began = time.process_time()
            assert sibling.sweep() == 0
            fulls.append((time.process_time() - began) / count)
            began = time.process_time()
            assert _stat_every_entry(root) == count + 1  # and the temp folder
            listings.append((time.process_time() - began) / count)
            began = time.process_time()
            assert store.sweep() == 0
            betweens.append(time.process_time() - began)
        assert store.sweep(now=later + timedelta(seconds=1)) == count
    finally:
        shutil.rmtree(root, ignore_errors=True)
    full, listing = statistics.median(fulls), statistics.median(listings)
    between = statistics.median(betweens)
    _RESULTS[f"the sweep, {count:,} results kept, none due (tmpfs)"] = (
        f"looking at every file: {full * 1e6:.1f} µs per result = {full / listing:.2f}× a bare "
        f"listing and stat ({listing * 1e6:.1f} µs); a sweep in between: {between * 1e3:.2f} ms "
        f"in all. Committing a result costs {commit * 1e6:.1f} µs"
    )
    print("\n", _RESULTS)
    if FULL:
        assert full <= 2 * listing


def test_the_job_records_sweep() -> None:
    """Each minute every process asks the job records which processes have jobs working
    and forgets the ended jobs past their retention (a day, by default): an async job
    leaves a record, and a day of them is kept. Measured beside what the runner spends on
    a job that does nothing (run, then recorded as it ended)."""
    count = 200_000 if FULL else 20_000
    root = Path(tempfile.mkdtemp(prefix="pdfbinder-bench-records-", dir="/dev/shm"))
    spec = JobSpec("convert", [f"https://{HOST}/one.png"], {"name": "one.pdf", "expiration": 60})
    try:
        runner = LocalJobRunner(root / "jobs.sqlite3", lambda *_: {}, workers=1)
        began = time.process_time()
        for number in range(count):
            assert runner.run_now(spec, f"job-{number}", asynchronous=True) is not None
        job = (time.process_time() - began) / count
        sweeps: list[float] = []
        for _ in range(ROUNDS):
            began = time.process_time()
            assert runner.recover() == 0
            assert runner.purge(utcnow() - timedelta(days=1)) == 0
            sweeps.append(time.process_time() - began)
        assert runner.purge(utcnow() + timedelta(seconds=1)) == count
        runner.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    sweep = statistics.median(sweeps)
    _RESULTS[f"the job records' sweep, {count:,} ended jobs kept (tmpfs)"] = (
        f"{sweep * 1e3:.2f} ms = the runner's cost for {sweep / job:.1f} jobs that do "
        f"nothing ({job * 1e6:.1f} µs each)"
    )
    print("\n", _RESULTS)
    if FULL:
        assert sweep <= 10 * job
