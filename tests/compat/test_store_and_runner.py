"""The embedded back ends on their own: LocalFileStore and LocalJobRunner (real disk, SQLite)."""

from __future__ import annotations

import contextlib
import errno
import io
import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pdfbinder.compat.clock import utcnow
from pdfbinder.compat.errors import ApiError
from pdfbinder.compat.executor import JobExecutor
from pdfbinder.compat.files import local as local_store
from pdfbinder.compat.files.base import FULL_SCAN_EVERY, FileExists, FileTooLarge, new_file_id
from pdfbinder.compat.files.local import LocalFileStore
from pdfbinder.compat.jobs.base import CancelCheck, JobCancelled, JobSpec, JobState
from pdfbinder.compat.jobs.local import (
    INTERRUPTED_MESSAGE,
    LEASES,
    PURGE,
    WORKING_RUNNERS,
    LocalJobRunner,
)
from pdfbinder.compat.jobs.progress import ProgressReport, ignore_progress
from pdfbinder.compat.leases import ProcessLease, lease_alive
from pdfbinder.compat.sources import Sources
from pdfbinder.engine.office.pool import OfficePool
from tests.support.compat import make_pdf, pdf_pages

LATER = utcnow() + timedelta(hours=1)


def test_put_open_delete_roundtrip(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    file_id = new_file_id()
    info = store.put(
        io.BytesIO(b"hello" * 1000),
        file_id=file_id,
        name="h_1.txt",
        expires_at=LATER,
        owner="k1",
        original_name="h 1.txt",
    )
    assert (info.name, info.size, info.owner, info.expires_at) == ("h_1.txt", 5000, "k1", LATER)
    assert store.info(file_id) == info and info.shown_name == "h 1.txt"
    opened = store.open(file_id)
    assert opened is not None
    with opened[1] as stream:
        assert stream.read() == b"hello" * 1000
    assert store.delete(file_id) and store.info(file_id) is None and not store.delete(file_id)


def test_failed_write_leaves_nothing_and_ids_are_written_once(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    file_id = new_file_id()
    with pytest.raises(RuntimeError), store.writer(file_id, name="x", expires_at=LATER) as sink:
        sink.write(b"partial")
        raise RuntimeError("engine failed half-way")
    assert store.info(file_id) is None and not (tmp_path / file_id).exists()
    assert list((tmp_path / ".tmp").iterdir()) == []
    with (
        pytest.raises(FileTooLarge),
        store.writer(file_id, name="x", expires_at=LATER, max_bytes=4) as sink,
    ):
        sink.write(b"12345")
    assert store.info(file_id) is None
    store.put(io.BytesIO(b"one"), file_id=file_id, name="x", expires_at=LATER)
    with pytest.raises(FileExists):
        store.put(io.BytesIO(b"two"), file_id=file_id, name="x", expires_at=LATER)
    opened = store.open(file_id)
    assert opened is not None and opened[1].read() == b"one"
    opened[1].close()


def test_a_file_system_without_hard_links_stores_files_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FAT and some network shares refuse ``link``: the id is claimed by an exclusive
    create and the whole file renamed over the claim, written once all the same."""

    def no_links(source: str, target: str, **how: Any) -> None:
        raise OSError(errno.EPERM, "Operation not permitted", target)

    monkeypatch.setattr(os, "link", no_links)
    store = LocalFileStore(tmp_path)
    file_id = new_file_id()
    store.put(io.BytesIO(b"%PDF-one"), file_id=file_id, name="x.pdf", expires_at=LATER)
    with pytest.raises(FileExists):
        store.put(io.BytesIO(b"%PDF-two"), file_id=file_id, name="x.pdf", expires_at=LATER)
    for reader in (store, LocalFileStore(tmp_path)):
        opened = reader.open(file_id)
        assert opened is not None
        with opened[1] as stream:
            assert stream.read() == b"%PDF-one"
    assert list((tmp_path / ".tmp").iterdir()) == []


def test_expiry_and_sweep(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    old, fresh = new_file_id(), new_file_id()
    store.put(io.BytesIO(b"o"), file_id=old, name="o", expires_at=utcnow() - timedelta(seconds=1))
    store.put(io.BytesIO(b"f"), file_id=fresh, name="f", expires_at=LATER)
    assert store.info(old) is None and store.open(old) is None and store.info(fresh) is not None
    assert store.sweep() == 1
    assert not (tmp_path / old).exists() and (tmp_path / fresh).exists()


def test_the_sweep_reads_only_the_files_whose_expiry_time_has_come(tmp_path: Path) -> None:
    """A committed file's modification time is its expiry. A sweep looking at every file
    opens one only once that time has passed; deleting still takes the file's own
    metadata. The sweeps in between visit the files their process committed, when due."""
    store = LocalFileStore(tmp_path)
    writer = LocalFileStore(tmp_path / "elsewhere")
    touched, hidden, fresh = new_file_id(), new_file_id(), new_file_id()
    for file_id in (touched, fresh):
        store.put(io.BytesIO(b"%PDF"), file_id=file_id, name="r.pdf", expires_at=LATER)
    assert os.stat(tmp_path / fresh).st_mtime == math.ceil(LATER.timestamp())
    # Metadata saying "expired" behind a time still ahead: the sweep does not look yet.
    gone = utcnow() - timedelta(minutes=1)
    writer.put(io.BytesIO(b"%PDF"), file_id=hidden, name="h.pdf", expires_at=gone)
    os.link(tmp_path / "elsewhere" / hidden, tmp_path / hidden)
    os.utime(tmp_path / hidden, (LATER.timestamp(), LATER.timestamp()))
    # A time put back (copied, touched): looked at, and kept, its metadata being unexpired.
    os.utime(tmp_path / touched, (0, 0))
    assert store.sweep() == 0
    assert all((tmp_path / file_id).exists() for file_id in (touched, hidden, fresh))
    # The next sweeps visit the files this store committed, once due.
    assert store.sweep(now=LATER - timedelta(seconds=1)) == 0
    assert store.sweep(now=LATER + timedelta(seconds=1)) == 2
    assert not (tmp_path / touched).exists() and not (tmp_path / fresh).exists()
    assert (tmp_path / hidden).exists()
    # Another process's file is found by a sweep that looks at every file.
    assert LocalFileStore(tmp_path).sweep(now=LATER + timedelta(seconds=1)) == 1
    assert sorted(path.name for path in tmp_path.iterdir()) == [".tmp", "elsewhere"]


def test_every_so_often_a_sweep_looks_at_every_file(tmp_path: Path) -> None:
    """At the first sweep, and every ``FULL_SCAN_EVERY`` after it, a process sweeps every
    stored file, finding those of processes that are gone; in between, only its own."""
    store = LocalFileStore(tmp_path)
    ours, theirs = new_file_id(), new_file_id()
    gone = utcnow() - timedelta(seconds=1)
    store.put(io.BytesIO(b"%PDF"), file_id=ours, name="o.pdf", expires_at=LATER)
    LocalFileStore(tmp_path).put(io.BytesIO(b"%PDF"), file_id=theirs, name="t.pdf", expires_at=gone)
    assert store.sweep(now=utcnow()) == 1  # the first: every file
    LocalFileStore(tmp_path).put(io.BytesIO(b"%PDF"), file_id=theirs, name="t.pdf", expires_at=gone)
    for _ in range(FULL_SCAN_EVERY - 1):
        assert store.sweep() == 0
    assert (tmp_path / theirs).exists()
    assert store.sweep() == 1
    assert not (tmp_path / theirs).exists() and (tmp_path / ours).exists()


def test_ids_cannot_address_paths(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path / "files")
    (tmp_path / "secret").mkdir()
    for bad in ("../secret", "..", "a/b", "short"):
        assert store.info(bad) is None and store.open(bad) is None and not store.delete(bad)
    assert (tmp_path / "secret").is_dir()


def _execute(
    spec: JobSpec, should_stop: CancelCheck, progress: ProgressReport = ignore_progress
) -> dict[str, Any]:
    """A real executor for the runner tests: its behaviour is chosen by the spec."""
    if spec.kind == "fail":
        raise ApiError(442, "input 1 (x.pdf): damaged")
    if spec.kind == "wait":
        gate: threading.Event = GATES[spec.params["gate"]]
        while not gate.wait(0.01):
            if should_stop():
                raise JobCancelled
    if spec.kind == "crash":
        raise ValueError("boom")
    return {"pageCount": len(spec.urls)}


GATES: dict[str, threading.Event] = {}


def test_runner_states_persist_across_instances(tmp_path: Path) -> None:
    database = tmp_path / "jobs.sqlite3"
    finished: list[str] = []
    runner = LocalJobRunner(
        database, _execute, workers=2, on_finish=lambda record, spec: finished.append(record.job_id)
    )
    runner.submit(JobSpec("ok", ["a", "b"], {"password": "p", "callback": "http://x"}), "j-ok")
    runner.submit(JobSpec("fail", ["a"]), "j-fail")
    runner.submit(JobSpec("crash", ["a"]), "j-crash")
    ok = runner.wait("j-ok", 10)
    assert ok is not None and ok.state is JobState.SUCCESS and ok.result == {"pageCount": 2}
    assert ok.spec.params == {}  # secrets are not kept after the job
    failed = runner.wait("j-fail", 10)
    assert failed is not None and failed.state is JobState.FAILED
    assert (failed.error_code, failed.message) == (442, "input 1 (x.pdf): damaged")
    crashed = runner.wait("j-crash", 10)
    assert crashed is not None and crashed.error_code == 500 and "boom" in str(crashed.message)
    runner.close()
    assert sorted(finished) == ["j-crash", "j-fail", "j-ok"]
    again = LocalJobRunner(database, _execute, workers=1)
    assert again.status("j-ok") == ok and again.status("nope") is None
    assert again.purge(utcnow() + timedelta(seconds=1)) == 3 and again.status("j-ok") is None
    again.close()


def test_jobs_run_in_the_calling_thread_are_recorded_only_when_async(tmp_path: Path) -> None:
    database = tmp_path / "jobs.sqlite3"
    runner = LocalJobRunner(database, _execute, workers=1)
    spec = JobSpec("ok", ["a", "b"], {"password": "p"})
    polled = runner.run_now(spec, "j-async", asynchronous=True)
    answered = runner.run_now(spec, "j-sync")
    assert polled is not None and polled.state is JobState.SUCCESS
    assert answered is not None and answered.result == {"pageCount": 2}
    # Only the async one is remembered: nobody but its caller ever had the sync one's id.
    assert runner.recent("j-async") == polled and runner.recent("j-sync") is None
    runner.close()
    again = LocalJobRunner(database, _execute, workers=1)
    # The async one answers /job/check from any process and after a restart; the sync
    # one was answered already, and its id was never handed out.
    assert again.status("j-async") == polled and again.status("j-sync") is None
    again.close()


def test_a_runner_opens_a_new_database_while_another_process_writes_its_schema(
    tmp_path: Path,
) -> None:
    """Two server processes starting on a new data directory: one is in the schema's
    write transaction while the other switches the database to WAL, which SQLite refuses
    at once rather than waiting. The second runner waits for the lock instead of failing
    its process's start-up."""
    database = tmp_path / "jobs.sqlite3"
    other = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    opened: list[LocalJobRunner] = []
    failed: list[BaseException] = []

    def open_runner() -> None:
        try:
            opened.append(LocalJobRunner(database, _execute, workers=1))
        except BaseException as error:
            failed.append(error)

    opening = threading.Thread(target=open_runner)
    opening.start()
    opening.join(timeout=0.5)
    assert not failed, failed  # still waiting for the lock, not refused
    other.execute("COMMIT")
    other.close()
    opening.join(timeout=60)
    assert not failed and len(opened) == 1
    assert opened[0].run_now(JobSpec("ok", ["a"]), "j-after") is not None
    opened[0].close()


def _older_database(database: Path) -> sqlite3.Connection:
    """A job database as versions before the ``runner`` column and the indexes made it."""
    old = sqlite3.connect(database)
    old.execute(
        "CREATE TABLE jobs (job_id TEXT PRIMARY KEY, spec TEXT NOT NULL, state TEXT NOT "
        "NULL, created_at TEXT NOT NULL, started_at TEXT, finished_at TEXT, result TEXT, "
        "error_code INTEGER, message TEXT)"
    )
    old.commit()
    return old


def test_the_sweeps_questions_are_answered_from_indexes(tmp_path: Path) -> None:
    """Which processes have jobs working, and which ended jobs are past their retention:
    asked every minute in every process, over a day of records, so neither may read the
    whole table. A database made before the indexes gets them when a runner opens it."""
    database = tmp_path / "jobs.sqlite3"
    _older_database(database).close()
    LocalJobRunner(database, _execute, workers=1).close()
    with contextlib.closing(sqlite3.connect(database)) as opened:
        for query, args, index in [
            (WORKING_RUNNERS, (), "jobs_working"),
            (PURGE, (utcnow().isoformat(),), "jobs_ended"),
        ]:
            (plan,) = [row[-1] for row in opened.execute(f"EXPLAIN QUERY PLAN {query}", args)]
            assert plan.endswith(f"USING INDEX {index}") or f"USING INDEX {index} (" in plan


def test_cancel_and_crash_recovery(tmp_path: Path) -> None:
    database = tmp_path / "jobs.sqlite3"
    GATES["g1"], GATES["g2"] = threading.Event(), threading.Event()
    lease = ProcessLease(tmp_path / LEASES)
    runner = LocalJobRunner(database, _execute, workers=1, lease=lease)
    runner.submit(JobSpec("wait", [], {"gate": "g1"}), "running")
    runner.submit(JobSpec("wait", [], {"gate": "g2", "httppassword": "pw"}), "queued")
    assert runner.cancel("running")
    record = runner.wait("running", 10)
    assert record is not None and record.state is JobState.ABORTED
    # A second runner on the same database stands in for another process: while the
    # first one's lease is held its jobs are its own...
    sibling = LocalJobRunner(database, _execute, workers=1)
    queued = sibling.status("queued")
    assert queued is not None and queued.state is JobState.WORKING
    assert sibling.recover() == 0
    # ...and once it is not (its process ended: the kernel drops the lock), "queued" is
    # recorded as working, exactly what a SIGKILL leaves behind.
    lease.release()
    queued = sibling.status("queued")
    assert queued is not None and queued.state is JobState.FAILED
    assert queued.message == INTERRUPTED_MESSAGE and "httppassword" not in queued.spec.params
    GATES["g2"].set()
    sibling.close()
    runner.close()
    assert not runner.cancel("running")


def test_runners_sharing_a_database_recover_only_what_a_dead_process_left(
    tmp_path: Path,
) -> None:
    """A job of a process that was SIGKILLed fails as interrupted at the next start-up,
    while a live sibling's job, in the same database, runs on to success."""
    database = tmp_path / "jobs.sqlite3"
    GATES["live"] = threading.Event()
    live = LocalJobRunner(database, _execute, workers=1)
    live.submit(JobSpec("wait", [], {"gate": "live"}), "live-job")
    dead = subprocess.run(
        [sys.executable, "-c", _DOOMED_RUNNER, str(database)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert dead.returncode == -signal.SIGKILL, dead.stderr
    late = LocalJobRunner(database, _execute, workers=1)  # a process started afterwards
    doomed = late.status("doomed-job")
    assert doomed is not None and doomed.state is JobState.FAILED
    assert doomed.message == INTERRUPTED_MESSAGE
    running = late.status("live-job")
    assert running is not None and running.state is JobState.WORKING
    assert "httppassword" not in doomed.spec.params
    # The dead process's lease file is gone; the two live ones are held.
    leases = sorted(path.stem for path in (tmp_path / LEASES).glob("*.lock"))
    assert len(leases) == 2 and all(lease_alive(tmp_path / LEASES, token) for token in leases)
    GATES["live"].set()
    finished = live.wait("live-job", 30)
    assert finished is not None and finished.state is JobState.SUCCESS
    late.close()
    live.close()
    assert list((tmp_path / LEASES).iterdir()) == []


_DOOMED_RUNNER = """
import os, signal, sys, threading
from pathlib import Path
from pdfbinder.compat.jobs.base import JobSpec
from pdfbinder.compat.jobs.local import LocalJobRunner

def hold(spec, should_stop, progress):
    threading.Event().wait()

runner = LocalJobRunner(Path(sys.argv[1]), hold, workers=1)
runner.submit(JobSpec("convert", ["a"], {"httppassword": "pw"}), "doomed-job")
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_an_unnamed_write_is_unseen_until_committed_and_leaves_nothing_when_killed(
    tmp_path: Path,
) -> None:
    """Where the file system takes unnamed files (Linux's O_TMPFILE), a write in flight
    has no name at all, and a writer killed mid-write leaves nothing to clean up."""
    if not hasattr(os, "O_TMPFILE"):
        pytest.skip("unnamed files are Linux's")
    root, leases = tmp_path / "files", tmp_path / LEASES
    root.mkdir()
    assert local_store.takes_unnamed_files(str(root))
    assert list(root.iterdir()) == []  # the probe's name is gone
    store = LocalFileStore(root)
    _kill_a_writer(root, leases, "unnamed")
    file_id = new_file_id()
    with store.writer(file_id, name="a.txt", expires_at=LATER) as sink:
        sink.write(b"in flight")
        assert sorted(entry.name for entry in root.iterdir()) == [".tmp"]
        assert list((root / ".tmp").iterdir()) == []
    assert sorted(entry.name for entry in root.iterdir()) == [".tmp", file_id]
    opened = store.open(file_id)
    assert opened is not None
    with opened[1] as stream:
        assert stream.read() == b"in flight"
    with pytest.raises(FileExists), store.writer(file_id, name="b.txt", expires_at=LATER) as sink:
        sink.write(b"second")
    assert list((root / ".tmp").iterdir()) == []


def test_a_shared_store_removes_only_what_a_dead_writer_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where writes go through named temp files (no O_TMPFILE), each process removes only
    those of writers that are gone."""
    monkeypatch.setattr(local_store, "_UNNAMED", 0)
    root, leases = tmp_path / "files", tmp_path / LEASES
    _kill_a_writer(root, leases, "named")
    (root / ".tmp" / "put-from-an-older-version").mkdir()
    lease = ProcessLease(leases)
    live = LocalFileStore(root, lease=lease)
    file_id = new_file_id()
    with live.writer(file_id, name="a.txt", expires_at=LATER) as sink:
        sink.write(b"in flight")
        (writing,) = (root / ".tmp").glob(f"{lease.token}.*")
        assert len(list((root / ".tmp").iterdir())) == 3  # the dead one's, ours, the old one
        # Another process of the server starts meanwhile (and later sweeps).
        sibling = LocalFileStore(root, lease=ProcessLease(leases))
        sibling.remove_interrupted_writes()
        assert list((root / ".tmp").iterdir()) == [writing]
        sibling.sweep()
        assert list((root / ".tmp").iterdir()) == [writing]
    opened = sibling.open(file_id)
    assert opened is not None
    with opened[1] as stream:
        assert stream.read() == b"in flight"
    # Deleted by one process: the other, which wrote it, no longer reports it either.
    assert sibling.delete(file_id) and live.info(file_id) is None and live.open(file_id) is None


def _kill_a_writer(root: Path, leases: Path, temp_files: str) -> None:
    """A process of the store at ``root`` killed in the middle of a write."""
    dead = subprocess.run(
        [sys.executable, "-c", _DOOMED_WRITER, str(root), str(leases), temp_files],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert dead.returncode == -signal.SIGKILL, dead.stderr


_DOOMED_WRITER = """
import os, signal, sys
from datetime import datetime, timezone
from pathlib import Path
from pdfbinder.compat.files import local
from pdfbinder.compat.files.local import LocalFileStore
from pdfbinder.compat.leases import ProcessLease

if sys.argv[3] == "named":
    local._UNNAMED = 0
store = LocalFileStore(Path(sys.argv[1]), lease=ProcessLease(Path(sys.argv[2])))
with store.writer("d" * 22, name="a.txt", expires_at=datetime.now(timezone.utc)) as sink:
    sink.write(b"cut short")
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_database_of_an_older_version_gets_the_runner_column(tmp_path: Path) -> None:
    """Rows written before jobs carried their process's token: ``working`` ones were left by
    a server that is gone (it was the only one), so they fail as interrupted."""
    database = tmp_path / "jobs.sqlite3"
    with contextlib.closing(_older_database(database)) as old:
        old.execute(
            "INSERT INTO jobs (job_id, spec, state, created_at) VALUES (?, ?, ?, ?)",
            ("old", '{"kind": "convert", "urls": [], "params": {}}', "working", LATER.isoformat()),
        )
        old.commit()
    runner = LocalJobRunner(database, _execute, workers=1)
    record = runner.status("old")
    assert record is not None and record.state is JobState.FAILED
    assert record.message == INTERRUPTED_MESSAGE
    runner.submit(JobSpec("ok", ["a"]), "new")
    done = runner.wait("new", 10)
    assert done is not None and done.state is JobState.SUCCESS
    runner.close()


def test_a_rerun_of_a_job_whose_result_is_already_committed_succeeds(tmp_path: Path) -> None:
    """A worker killed after committing the result but before recording it: the re-run stands.

    The second run finds the job's output id taken by the first run's whole
    file; it reports success with the page count instead of failing the job,
    and the committed result is left as it was.
    """
    store = LocalFileStore(tmp_path)
    source_id = new_file_id()
    store.put(io.BytesIO(make_pdf(3)), file_id=source_id, name="three.pdf", expires_at=LATER)
    executor = JobExecutor(
        store,
        Sources(store, url_map=None, allow_remote=False, max_bytes=10**8, timeout=5),
        max_pixels=None,
        max_pages=100,
        max_job_bytes=10**8,
        office=OfficePool(processes=1),  # never started: the job has no Office document
    )
    spec = JobSpec(
        "merge",
        [f"filetoken://{source_id}"],
        {"name": "out.pdf", "expiration": 60, "output_id": new_file_id()},
    )
    first = executor(spec, lambda: False)
    opened = store.open(spec.params["output_id"])
    assert opened is not None
    with opened[1] as stream:
        committed = stream.read()
    second = executor(spec, lambda: False)
    assert first["pageCount"] == second["pageCount"] == 3
    opened = store.open(spec.params["output_id"])
    assert opened is not None
    with opened[1] as stream:
        assert stream.read() == committed
    assert pdf_pages(committed) == [(200, 100)] * 3


def test_a_result_cut_short_on_disk_reads_as_absent(tmp_path: Path) -> None:
    """What a power cut can leave of a result written without waiting for the disk."""
    store = LocalFileStore(tmp_path)
    file_id = new_file_id()
    with store.writer(file_id, name="r.pdf", expires_at=LATER, durable=False) as sink:
        sink.write(b"%PDF-1.7 whole document")
    opened = store.open(file_id)
    assert opened is not None
    with opened[1] as stream:
        assert stream.read() == b"%PDF-1.7 whole document"
    for kept in (8, 0):  # part of it, or nothing at all
        with (tmp_path / file_id).open("r+b") as stored:
            stored.truncate(kept)
        assert store.open(file_id) is None and store.info(file_id) is None
        assert LocalFileStore(tmp_path).open(file_id) is None  # after a restart too


def test_a_stored_document_reads_without_its_metadata(tmp_path: Path) -> None:
    """A stored file holds its metadata behind the document: readers see the document
    alone, whatever they do with the stream."""
    store = LocalFileStore(tmp_path)
    file_id, document = new_file_id(), bytes(range(256)) * 700  # more than one buffer
    store.put(io.BytesIO(document), file_id=file_id, name="d.pdf", expires_at=LATER)
    for reader in (store, LocalFileStore(tmp_path)):  # remembered, and read from disk
        opened = reader.open(file_id)
        assert opened is not None
        info, stream = opened
        with stream:
            assert info.size == len(document) and stream.read() == document
            assert stream.read() == b"" and stream.seek(0, io.SEEK_END) == len(document)
            stream.seek(-10, io.SEEK_END)
            assert stream.read(100) == document[-10:]
            stream.seek(1000)
            assert stream.read(5) == document[1000:1005] and stream.tell() == 1005
            assert stream.seek(3, io.SEEK_CUR) == 1008
            with pytest.raises(ValueError):
                stream.seek(-1)
    assert (tmp_path / file_id).stat().st_size > len(document)


def test_files_stored_by_version_0_1_are_read_swept_and_deleted(tmp_path: Path) -> None:
    """0.1 stored a directory per id: ``content`` and ``meta.json``."""

    def old_file(file_id: str, content: bytes, expires_at: datetime) -> None:
        (tmp_path / file_id).mkdir()
        (tmp_path / file_id / "content").write_bytes(content)
        meta = {"name": "o.pdf", "size": len(content), "expires_at": expires_at.isoformat()}
        meta |= {"owner": "k1", "original_name": "o 1.pdf"}
        (tmp_path / file_id / "meta.json").write_text(json.dumps(meta), encoding="utf-8")

    kept, expired, deleted = new_file_id(), new_file_id(), new_file_id()
    old_file(kept, b"%PDF-kept", LATER)
    old_file(expired, b"%PDF-expired", utcnow() - timedelta(seconds=1))
    old_file(deleted, b"%PDF-deleted", LATER)
    store = LocalFileStore(tmp_path)
    info = store.info(kept)
    assert info is not None and (info.name, info.size, info.owner) == ("o.pdf", 9, "k1")
    assert info.shown_name == "o 1.pdf"
    opened = store.open(kept)
    assert opened is not None
    with opened[1] as stream:
        assert stream.read() == b"%PDF-kept"
    assert store.info(expired) is None and store.open(expired) is None
    assert store.delete(deleted) and not (tmp_path / deleted).exists()
    assert store.sweep() == 1
    assert not (tmp_path / expired).exists() and (tmp_path / kept).is_dir()
    (tmp_path / kept / "content").write_bytes(b"%PDF")  # cut short
    assert store.open(kept) is None


def test_a_stored_file_with_damaged_metadata_reads_as_absent(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    footer = local_store._FOOTER
    meta = {"name": "d.pdf", "size": 4, "expires_at": LATER.isoformat()}

    def stored(document: bytes, text: bytes, length: int | None = None) -> bytes:
        return document + text + footer.pack(len(text) if length is None else length, b"pdfbmeta")

    whole = stored(b"%PDF", json.dumps(meta).encode())
    damaged = [
        b"%PDF-1.7 and no metadata at all",
        whole[:-1] + b"X",  # not our footer
        stored(b"%PDF", json.dumps(meta).encode(), length=2**40),  # longer than the file
        stored(b"%PDF", b"{not json"),
        stored(b"%PDF", b"[1, 2]"),
        stored(b"%PDF", json.dumps(meta | {"size": "4"}).encode()),
        stored(b"%PDF", json.dumps(meta | {"expires_at": 5}).encode()),
        stored(b"%PDF!", json.dumps(meta).encode()),  # one byte more than it says
    ]
    file_id = new_file_id()
    (tmp_path / file_id).write_bytes(whole)
    opened = store.open(file_id)
    assert opened is not None
    with opened[1] as stream:
        assert stream.read() == b"%PDF"
    for content in damaged:
        (tmp_path / file_id).write_bytes(content)
        assert store.info(file_id) is None and store.open(file_id) is None, content


def test_the_sweep_removes_damaged_files_once_they_are_old(tmp_path: Path) -> None:
    """A file a power cut left short, or any entry without readable metadata, is removed
    once it is as old as a stale temp file, and not before."""
    store = LocalFileStore(tmp_path)
    damaged, young, whole = new_file_id(), new_file_id(), new_file_id()
    for file_id in (damaged, young, whole):
        store.put(io.BytesIO(b"%PDF-1.7 whole"), file_id=file_id, name="r.pdf", expires_at=LATER)
    for file_id in (damaged, young):
        with (tmp_path / file_id).open("r+b") as stored:
            stored.truncate(5)
    long_ago = time.time() - 7 * 3600
    os.utime(tmp_path / damaged, (long_ago, long_ago))
    os.utime(tmp_path / whole, (long_ago, long_ago))
    assert store.sweep() == 1
    assert not (tmp_path / damaged).exists()
    assert (tmp_path / young).exists() and store.info(whole) is not None


@pytest.mark.parametrize("syncfs", [True, False], ids=["syncfs", "fsync-per-file"])
def test_results_committed_meanwhile_are_flushed_in_one_round(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, syncfs: bool
) -> None:
    """The flusher makes a round's results durable with one syncfs per file system
    (Linux), or fsyncs each file and directory where there is none."""
    # Other tests' stores share the process (and its flusher): count only calls on ours.
    calls: list[str] = []
    fsyncs: list[str] = []

    def ours(descriptor: int) -> str | None:
        path = os.readlink(f"/proc/self/fd/{descriptor}")
        return path if path.startswith(str(tmp_path)) else None

    real_syncfs: Callable[[int], int] | None = local_store._SYNCFS
    real_fsync = os.fsync
    if syncfs and real_syncfs is None:
        pytest.skip("this libc has no syncfs")

    def counted_syncfs(descriptor: int) -> int:
        if path := ours(descriptor):
            calls.append(path)
        assert real_syncfs is not None
        return real_syncfs(descriptor)

    def counted_fsync(descriptor: int) -> None:
        if path := ours(descriptor):
            fsyncs.append(path)
        real_fsync(descriptor)

    monkeypatch.setattr(local_store, "_SYNCFS", counted_syncfs if syncfs else None)
    monkeypatch.setattr(os, "fsync", counted_fsync)
    flusher = local_store._Flusher()
    flusher._thread = threading.Thread(target=print)  # never started: the test flushes
    monkeypatch.setattr(local_store, "_FLUSHER", flusher)
    monkeypatch.setattr(local_store, "in_memory", lambda directory: False)  # tmp on tmpfs
    stores = [LocalFileStore(tmp_path / "a"), LocalFileStore(tmp_path / "b")]
    written = []
    for number in range(6):
        file_id = new_file_id()
        with stores[number % 2].writer(
            file_id, name="r.pdf", expires_at=LATER, durable=False
        ) as sink:
            sink.write(b"%PDF-1.7 result")
        written.append((stores[number % 2], file_id))
    flusher.flush()
    assert not flusher._pending
    if syncfs:
        assert (sorted(calls), fsyncs) == ([str(tmp_path / "a"), str(tmp_path / "b")], [])
    else:
        assert (calls, len(fsyncs)) == ([], 6 + 2)  # each file, then the 2 folders
    for store, file_id in written:
        opened = store.open(file_id)
        assert opened is not None
        with opened[1] as stream:
            assert stream.read() == b"%PDF-1.7 result"


def test_a_store_in_memory_gives_the_flusher_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flusher = local_store._Flusher()
    flusher._thread = threading.Thread(target=print)  # never started
    monkeypatch.setattr(local_store, "_FLUSHER", flusher)
    monkeypatch.setattr(local_store, "in_memory", lambda directory: True)
    store = LocalFileStore(tmp_path / "shm")
    file_id = new_file_id()
    with store.writer(file_id, name="r.pdf", expires_at=LATER, durable=False) as sink:
        sink.write(b"%PDF-1.7 result")
    assert not flusher._pending
    opened = store.open(file_id)
    assert opened is not None
    with opened[1] as stream:
        assert stream.read() == b"%PDF-1.7 result"


def test_the_file_system_of_a_path_comes_from_the_mount_table() -> None:
    mounts = (
        "/dev/sda1 / ext4 rw 0 0\n"
        "tmpfs /dev/shm tmpfs rw 0 0\n"
        "/dev/sdb1 /srv/my\\040data xfs rw 0 0\n"
        "tmpfs /srv/my\\040data/cache tmpfs rw 0 0\n"
        "overlay /dev/shm overlay rw 0 0\n"
    )
    assert local_store.mount_type("/var/lib/pdfbinder", mounts) == "ext4"
    assert local_store.mount_type("/srv/my data/files", mounts) == "xfs"
    assert local_store.mount_type("/srv/my data/cache/files", mounts) == "tmpfs"
    assert local_store.mount_type("/srv/my data/cachet", mounts) == "xfs"
    assert local_store.mount_type("/dev/shm/files", mounts) == "overlay"  # mounted over
    assert local_store.mount_type("/dev/shmem", mounts) == "ext4"


def test_sync_jobs_are_recorded_only_once_their_client_stops_waiting(tmp_path: Path) -> None:
    database = tmp_path / "jobs.sqlite3"
    runner = LocalJobRunner(database, _execute, workers=1)
    done = runner.run_sync(JobSpec("ok", ["a", "b"], {"password": "p"}), "quick", 10)
    assert done is not None and done.state is JobState.SUCCESS and done.result == {"pageCount": 2}
    assert runner.status("quick") == done  # from memory
    assert _recorded_states(database) == {}
    GATES["held"] = threading.Event()
    answered: list[Any] = []
    waiting = threading.Thread(
        target=lambda: answered.append(
            runner.run_sync(JobSpec("wait", [], {"gate": "held"}), "slow", 0.1)
        )
    )
    waiting.start()
    while runner.recent("slow") is None:
        threading.Event().wait(0.01)
    runner.keep("slow", cancel=False)  # what a 445 does: the job goes on, now on record
    assert _recorded_states(database) == {"slow": "working"}
    GATES["held"].set()
    waiting.join(10)
    assert answered[0].state is JobState.SUCCESS
    again = LocalJobRunner(database, _execute, workers=1)
    final = again.status("slow")
    assert (
        final is not None and final.state is JobState.SUCCESS and final.result == {"pageCount": 0}
    )
    runner.close()
    again.close()


def _recorded_states(database: Path) -> dict[str, str]:
    """What the job database holds, read beside the runner (not as a restart would)."""
    with contextlib.closing(sqlite3.connect(database)) as db:
        return dict(db.execute("SELECT job_id, state FROM jobs").fetchall())
