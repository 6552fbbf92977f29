"""Every request-size and job limit, one focused test each, on a real server on loopback."""

from __future__ import annotations

import base64
import socket
import struct
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pdfbinder.compat.settings import Settings
from tests.support.compat import (
    ThreadServer,
    assert_error,
    make_pdf,
    make_png,
    mirror_url,
    poll_job,
)
from tests.support.origin import GatedOrigin

FILE_LIMIT = 256 * 1024
BODY_LIMIT = 64 * 1024


def png_header(width: int, height: int) -> bytes:
    """A PNG signature, IHDR (valid CRC) and an empty IDAT: a few bytes claiming a huge image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def limited(mirror: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServer]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("limited"),
        url_map=mirror,
        workers=2,
        max_file_bytes=FILE_LIMIT,
        max_body_bytes=BODY_LIMIT,
        max_inputs_per_job=3,
        max_pages_per_job=4,
        max_job_bytes=FILE_LIMIT,
    )
    with ThreadServer(settings) as running:
        yield running


def _healthy_and_clean(server: ThreadServer) -> None:
    assert httpx.get(f"{server.url}/health").json() == {"status": "ok"}
    assert list((server.settings.data_dir / "files" / ".tmp").iterdir()) == []


def test_in_memory_bodies_over_the_limit_are_413(limited: ThreadServer) -> None:
    padding = "x" * (BODY_LIMIT + 1)
    answers = [
        httpx.post(f"{limited.url}/pdf/merge", json={"url": mirror_url("two.pdf"), "pad": padding}),
        httpx.post(f"{limited.url}/pdf/merge", data={"url": mirror_url("two.pdf"), "pad": padding}),
        httpx.post(
            f"{limited.url}/file/upload/base64",
            data={"file": base64.b64encode(b"%PDF" + bytes(BODY_LIMIT)).decode()},
        ),
        # No Content-Length (chunked): counted as it streams.
        httpx.post(
            f"{limited.url}/v1/pdf/merge",
            content=iter([b"url=a&pad="] + [b"y" * 8192] * 9),
            headers={"content-type": "application/x-www-form-urlencoded"},
        ),
    ]
    for answer in answers:
        assert "larger than the limit" in assert_error(answer, 413)["message"]
    small = httpx.post(
        f"{limited.url}/file/upload/base64",
        data={"file": base64.b64encode(b"%PDF-1.4 small").decode()},
    )
    assert small.json()["status"] == 200
    _healthy_and_clean(limited)


def test_streamed_uploads_over_the_file_limit_are_413(limited: ThreadServer) -> None:
    too_big = b"%PDF" + bytes(FILE_LIMIT)
    multipart = httpx.post(f"{limited.url}/file/upload", files={"file": ("big.pdf", too_big)})
    assert "larger than" in assert_error(multipart, 413)["message"]
    for body in (too_big, iter([too_big[:100_000], too_big[100_000:]])):
        presigned = httpx.get(
            f"{limited.url}/file/upload/get-presigned-url", params={"name": "big.pdf"}
        ).json()["presignedUrl"]
        assert_error(httpx.put(presigned, content=body), 413)
    # Far past the limit: refused from the declared length, before the body is read.
    presigned = httpx.get(
        f"{limited.url}/file/upload/get-presigned-url", params={"name": "huge.pdf"}
    ).json()["presignedUrl"]
    began = time.monotonic()
    path = presigned.split(str(limited.port), 1)[1]
    with socket.create_connection(("127.0.0.1", limited.port), timeout=5) as raw:
        raw.sendall(
            f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Length: {10 * 1024**3}\r\n\r\n%PDF".encode()
        )
        received = b""
        while b'"status":413' not in received and (piece := raw.recv(65536)):
            received += piece
    answer = received.decode()
    assert answer.startswith("HTTP/1.1 413 ") and '"status":413' in answer
    assert time.monotonic() - began < 5
    fits = httpx.post(f"{limited.url}/file/upload", files={"file": ("ok.pdf", make_pdf(1))})
    assert fits.json()["status"] == 200
    _healthy_and_clean(limited)


def test_pixel_bomb_header_refused_at_once(limited: ThreadServer) -> None:
    bomb = png_header(100_000, 100_000)
    assert len(bomb) < 100
    url = httpx.post(f"{limited.url}/file/upload", files={"file": ("bomb.png", bomb)}).json()["url"]
    for route in ("/pdf/convert/from/image", "/pdf/merge2"):
        began = time.monotonic()
        body = assert_error(httpx.get(f"{limited.url}{route}", params={"url": url}), 442)
        assert time.monotonic() - began < 2
        assert "bomb.png" in body["message"] and "100000x100000" in body["message"]
        assert "pixels" in body["message"]
    _healthy_and_clean(limited)


def test_server_pixel_setting_reaches_the_engine(tmp_path: Path, mirror: Path) -> None:
    with ThreadServer(Settings(data_dir=tmp_path, url_map=mirror, max_pixels=1000)) as live:
        for route in ("/pdf/convert/from/image", "/pdf/merge2"):
            body = assert_error(
                httpx.get(f"{live.url}{route}", params={"url": mirror_url("red.png")}), 442
            )
            assert "40x30 = 1,200 pixels" in body["message"] and "1,000" in body["message"]


def test_too_many_inputs_is_413(limited: ThreadServer) -> None:
    urls = ",".join([mirror_url("two.pdf")] * 4)
    body = assert_error(httpx.get(f"{limited.url}/pdf/merge", params={"url": urls}), 413)
    assert "4 source URLs" in body["message"] and "3" in body["message"]


def test_too_many_pages_fails_without_a_result(limited: ThreadServer) -> None:
    urls = f"{mirror_url('two.pdf')},{mirror_url('three.pdf')}"
    body = assert_error(httpx.get(f"{limited.url}/pdf/merge", params={"url": urls}), 413)
    assert "5 pages" in body["message"] and "4 pages" in body["message"]
    start = httpx.get(f"{limited.url}/pdf/merge", params={"url": urls, "async": "true"}).json()
    final = poll_job(limited.url, start["jobId"])
    assert final["status"] == "failed" and final["errorCode"] == 413
    assert httpx.get(start["url"]).status_code == 404  # nothing was committed
    fits = httpx.get(
        f"{limited.url}/pdf/merge",
        params={"url": f"{mirror_url('two.pdf')},{mirror_url('two.pdf')}"},
    )
    assert fits.json()["pageCount"] == 4


def test_total_input_bytes_per_job_is_413(limited: ThreadServer) -> None:
    part = make_pdf(1) + b"%" + bytes(FILE_LIMIT // 2)
    url = httpx.post(f"{limited.url}/file/upload", files={"file": ("half.pdf", part)}).json()["url"]
    assert httpx.get(f"{limited.url}/pdf/merge", params={"url": url}).json()["pageCount"] == 1
    body = assert_error(httpx.get(f"{limited.url}/pdf/merge", params={"url": f"{url},{url}"}), 413)
    assert "add up to more than" in body["message"]


def _async_convert(base: str, url: str, key: str) -> httpx.Response:
    return httpx.get(
        f"{base}/pdf/convert/from/image",
        params={"url": url, "async": "true"},
        headers={"x-api-key": key},
    )


def test_jobs_per_key_and_queue_length_are_429(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        workers=1,
        api_keys=["alice", "bob"],
        max_jobs_per_key=2,
        max_queued_jobs=2,
        allow_remote=True,
        allow_hosts=["127.0.0.1"],
    )
    with GatedOrigin({"held.png": make_png()}) as origin, ThreadServer(settings) as live:
        # Every job fetches from the gated origin, so none can end and free its slot
        # before the gate opens.
        held = origin.url_of("held.png")
        accepted = [_async_convert(live.url, held, "alice") for _ in range(2)]
        assert [answer.json()["status"] for answer in accepted] == [200, 200]
        origin.wait_for_requests(1)  # the one worker is running the first job
        per_key = assert_error(_async_convert(live.url, held, "alice"), 429)
        assert "this API key" in per_key["message"]
        assert _async_convert(live.url, held, "bob").json()["status"] == 200
        # One worker + a queue of two = three jobs in the server: the fourth is refused.
        busy = assert_error(_async_convert(live.url, held, "bob"), 429)
        assert "busy" in busy["message"]
        origin.release()
        for answer in [*accepted]:
            job_id = answer.json()["jobId"]
            deadline = time.monotonic() + 60
            while (
                httpx.get(
                    f"{live.url}/job/check",
                    params={"jobid": job_id},
                    headers={"x-api-key": "alice"},
                ).json()["status"]
                == "working"
            ):
                assert time.monotonic() < deadline
                time.sleep(0.05)
        # Finished jobs gave their slots back.
        assert _async_convert(live.url, held, "alice").json()["status"] == 200
