"""``pdfbinder serve --processes 2``: one server on two processes sharing a data dir.

Real server processes on loopback; which child answered a connection is read
from ``/proc`` (tests/support/server_processes.py), so each test knows it spans
both. Jobs are held by a gated origin where a test needs one in flight.
"""

from __future__ import annotations

import io
import json
import os
import signal
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pikepdf
import pytest

from pdfbinder.compat.jobs.local import INTERRUPTED_MESSAGE
from tests.support.compat import (
    START_TIMEOUT,
    ServeProcess,
    make_jpeg,
    pdf_pages,
)
from tests.support.origin import GatedOrigin
from tests.support.server_processes import (
    KeptConnection,
    connections_on_every_process,
    get_on_new_connection,
    poll_on_new_connections,
    server_children,
    wait_until_every_process_serves,
)

HELD = ("--allow-remote", "--allow-host", "127.0.0.1")
"""Flags letting jobs fetch from the test's gated origin on loopback."""


def _start(data_dir: Path, *args: str) -> ServeProcess:
    """``serve --processes 2 ...``, returned once both children serve."""
    server = ServeProcess(data_dir, "--processes", "2", *args).start()
    try:
        wait_until_every_process_serves(server.port, server.pid, 2, START_TIMEOUT)
    except BaseException:
        server.stop()
        raise
    return server


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    server = _start(tmp_path_factory.mktemp("two") / "data")
    try:
        yield server
    finally:
        server.stop()


def _upload(connection: KeptConnection, name: str, data: bytes) -> str:
    """A presigned upload on ``connection``: the stored file's URL."""
    presigned = connection.get_json("/file/upload/get-presigned-url", name=name)
    status, body = connection.request("PUT", presigned["presignedUrl"], data)
    assert status == 200, body
    url: str = presigned["url"]
    return url


def _only_image(pdf: bytes) -> bytes:
    """The raw (still JPEG-coded) bytes of the one image of a one-page PDF."""
    with pikepdf.open(io.BytesIO(pdf)) as document:
        (image,) = document.pages[0].get_images().values()
        return bytes(image.read_raw_bytes())


def test_jobs_spread_over_both_processes_are_checkable_on_new_connections(
    two: ServeProcess,
) -> None:
    connections = connections_on_every_process(two.port, two.pid, processes=2)
    connections += [KeptConnection(two.port, two.pid) for _ in range(6)]
    assert len({connection.pid for connection in connections}) == 2
    jobs: dict[str, tuple[bytes, int, int]] = {}

    def submit(number: int, connection: KeptConnection) -> None:
        """Two jobs on one connection, as one client would (its own thread)."""
        try:
            for repeat in range(2):
                width, height = 40 + number, 30 + repeat
                picture = make_jpeg(width, height, (number * 20 % 256, repeat, 90))
                source = _upload(connection, f"p{number}-{repeat}.jpg", picture)
                answer = connection.get_json(
                    "/pdf/convert/from/image",
                    url=source,
                    name=f"r{number}-{repeat}.pdf",
                    **{"async": "true"},
                )
                jobs[answer["jobId"]] = (picture, width, height)
        finally:
            connection.close()

    clients = [threading.Thread(target=submit, args=pair) for pair in enumerate(connections)]
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    assert len(jobs) == 2 * len(connections)
    for job_id, (picture, width, height) in jobs.items():
        done = poll_on_new_connections(two.port, job_id, timeout=120)
        assert done["status"] == "success", done
        status, result = get_on_new_connection(two.port, urlsplit(done["url"]).path)
        assert status == 200
        # 96 dpi: a pixel is 0.75 pt; the JPEG goes in byte for byte.
        assert pdf_pages(result) == [(width * 0.75, height * 0.75)]
        assert _only_image(result) == picture


def test_a_presigned_url_from_one_process_is_accepted_by_the_other(two: ServeProcess) -> None:
    connections = connections_on_every_process(two.port, two.pid, processes=2)
    try:
        signer = connections[0]
        putter = next(c for c in connections if c.pid != signer.pid)
        picture = make_jpeg(64, 48, (10, 200, 10))
        presigned = signer.get_json("/file/upload/get-presigned-url", name="other.jpg")
        status, body = putter.request("PUT", presigned["presignedUrl"], picture)
        assert status == 200, body
        for connection in (signer, putter):  # the stored file is there for both
            status, content = connection.request("GET", presigned["url"])
            assert status == 200 and content == picture
            made = connection.get_json("/pdf/convert/from/image", url=presigned["url"])
            status, pdf = connection.request("GET", made["url"])
            assert status == 200 and _only_image(pdf) == picture
        # Once only, whichever process is asked.
        status, body = signer.request("PUT", presigned["presignedUrl"], picture)
        assert status == 403, body
    finally:
        for connection in connections:
            connection.close()
    assert len(list((two.data_dir).glob("presign.key*"))) == 1  # one key, no temp left


def test_sigkill_of_one_process_fails_only_its_job(tmp_path: Path) -> None:
    picture = make_jpeg(48, 32)
    server = _start(tmp_path / "data", *HELD)
    try:
        with GatedOrigin({"held.jpg": picture}) as origin:
            first, second = connections_on_every_process(server.port, server.pid, 2)
            doomed = first.get_json(
                "/pdf/convert/from/image", url=origin.url_of("held.jpg"), **{"async": "true"}
            )
            spared = second.get_json(
                "/pdf/convert/from/image", url=origin.url_of("held.jpg"), **{"async": "true"}
            )
            origin.wait_for_requests(2)  # each child is running its job, held at its fetch
            os.kill(first.pid, signal.SIGKILL)
            first.close()
            # Whichever process answers knows at once that the job's process is gone.
            failed = poll_on_new_connections(server.port, doomed["jobId"])
            assert failed["status"] == "failed" and failed["message"] == INTERRUPTED_MESSAGE
            assert failed["errorCode"] == 500
            assert second.get_json("/job/check", jobid=spared["jobId"])["status"] == "working"
            origin.release()
            done = poll_on_new_connections(server.port, spared["jobId"])
            assert done["status"] == "success", done
            status, result = get_on_new_connection(server.port, urlsplit(done["url"]).path)
            assert status == 200 and _only_image(result) == picture
            second.close()
        status, missing = get_on_new_connection(server.port, urlsplit(doomed["url"]).path)
        assert status == 404 and json.loads(missing)["status"] == 404
        # uvicorn's supervisor replaces the dead child; the server answers meanwhile.
        children = wait_until_every_process_serves(server.port, server.pid, 2, START_TIMEOUT)
        assert first.pid not in children and second.pid in children
        replacement = connections_on_every_process(server.port, server.pid, processes=2)
        for connection in replacement:
            assert connection.get_json("/job/check", jobid=spared["jobId"])["status"] == "success"
            connection.close()
        # Only live processes' leases are left (the dead one's was cleaned up).
        leases = {path.stem for path in (server.data_dir / "processes").glob("*.lock")}
        assert len(leases) == 2
    finally:
        server.stop()


def test_finished_jobs_stay_checkable_after_a_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    pictures: dict[str, bytes] = {}
    server = _start(data_dir)
    try:
        connections = connections_on_every_process(server.port, server.pid, processes=2)
        for number, connection in enumerate(connections):
            picture = make_jpeg(20 + number, 20, (number * 7 % 256, 0, 0))
            source = _upload(connection, "a.jpg", picture)
            answer = connection.get_json("/pdf/convert/from/image", url=source, **{"async": "true"})
            pictures[answer["jobId"]] = picture
            connection.close()
        for job_id in pictures:
            assert poll_on_new_connections(server.port, job_id, 120)["status"] == "success"
    finally:
        server.stop()
    # A clean stop: every process gave its lease back.
    assert list((data_dir / "processes").iterdir()) == []
    with ServeProcess(data_dir, "--processes", "2") as restarted:
        for job_id, picture in pictures.items():
            done = httpx.get(f"{restarted.url}/job/check", params={"jobid": job_id}).json()
            assert done["status"] == "success", done
            path = urlsplit(done["url"]).path
            assert _only_image(httpx.get(restarted.url + path).content) == picture


def test_each_process_admits_its_share_of_the_per_key_limit(tmp_path: Path) -> None:
    """--max-jobs-per-key 3 on two processes: each admits ceil(3 / 2) = 2 of a key's jobs."""
    server = _start(tmp_path / "data", *HELD, "--max-jobs-per-key", "3", "--workers", "1")
    try:
        with GatedOrigin({"held.jpg": make_jpeg()}) as origin:
            held = origin.url_of("held.jpg")
            first, second = connections_on_every_process(server.port, server.pid, 2)
            for connection in (first, second):
                for _ in range(2):
                    connection.get_json("/pdf/convert/from/image", url=held, **{"async": "true"})
                status, body = connection.request(
                    "GET", f"/pdf/convert/from/image?url={held}&async=true"
                )
                assert status == 429, body
                assert b"2 are queued or running, the limit" in body
            origin.release()
            first.close()
            second.close()
    finally:
        server.stop()


def test_https_and_the_servers_own_http_handling_in_every_process(tmp_path: Path) -> None:
    """--https with --processes 2: both children serve TLS with the certificate made once
    before they started, and both answer an over-long request line with the API's 414."""
    server = ServeProcess(tmp_path / "data", "--processes", "2", "--https")
    server.launch()
    try:
        ca = server.data_dir / "tls" / "ca.pem"
        deadline = time.monotonic() + START_TIMEOUT
        while not ca.exists():  # written by the parent before any child starts
            assert server.alive() and time.monotonic() < deadline, server.log()
            time.sleep(0.1)
        tls = ssl.create_default_context(cafile=str(ca))
        wait_until_every_process_serves(server.port, server.pid, 2, START_TIMEOUT, tls)
        connections = connections_on_every_process(server.port, server.pid, 2, tls=tls)
        for connection in connections:
            assert connection.get_json("/health") == {"status": "ok"}
            connection.http.request("GET", "/pdf/merge?url=" + "a" * 100_000)
            response = connection.http.getresponse()
            assert response.status == 414
            body = json.loads(response.read())
            assert body["error"] is True and body["status"] == 414
            connection.close()
    finally:
        server.stop()
    assert len(list((server.data_dir / "tls").glob("*.pem"))) == 4  # one CA, one leaf


def test_the_children_stop_when_the_supervisor_is_killed(tmp_path: Path) -> None:
    """SIGKILL of the parent: its children stop too (none left serving unsupervised on the
    port), their jobs end on record, and a new server on the data dir answers for them."""
    data_dir = tmp_path / "data"
    picture = make_jpeg(30, 20)
    server = _start(data_dir, *HELD)
    try:
        with GatedOrigin({"held.jpg": picture}) as origin:
            children = server_children(server.pid)
            connections = connections_on_every_process(server.port, server.pid, 2)
            held = [
                connection.get_json(
                    "/pdf/convert/from/image", url=origin.url_of("held.jpg"), **{"async": "true"}
                )
                for connection in connections
            ]
            origin.wait_for_requests(2)
            server.kill()
            # Each child stops as a clean stop would: its running job is asked to stop,
            # which it does once its fetch returns.
            origin.release()
            deadline = time.monotonic() + START_TIMEOUT
            while any(Path(f"/proc/{pid}").exists() for pid in children):
                assert time.monotonic() < deadline, f"children {children} outlived their parent"
                time.sleep(0.1)
            for connection in connections:
                connection.close()
    finally:
        server.stop()
    with ServeProcess(data_dir, "--processes", "2") as restarted:
        for job in held:
            body = httpx.get(f"{restarted.url}/job/check", params={"jobid": job["jobId"]}).json()
            # Never left working: stopped (aborted), finished first, or recorded as
            # interrupted.
            assert body["status"] in ("aborted", "success", "failed"), body
            assert body["status"] != "failed" or body["message"] == INTERRUPTED_MESSAGE, body
