"""Remote sources and callbacks, against real HTTP servers on loopback."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from pdfbinder.compat.settings import Settings
from tests.support.compat import ThreadServer, assert_error, make_pdf, pdf_pages, poll_job

USER, PASSWORD = "alice", "pa:ss word"
PDF = make_pdf(2, width=111, height=222)


@dataclass
class Loopback:
    """A tiny HTTP server: serves PDF at /doc.pdf behind basic auth, records POSTs."""

    url: str
    posts: list[tuple[str | None, dict[str, Any]]] = field(default_factory=list)
    failures_left: int = 0


@pytest.fixture
def loopback() -> Iterator[Loopback]:
    state = Loopback(url="")
    expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, body: bytes = b"") -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path == "/open.pdf":
                self._send(200, PDF)
            elif self.path == "/doc.pdf":
                authorized = self.headers.get("Authorization") == expected
                self._send(200, PDF) if authorized else self._send(401)
            else:
                self._send(404)

        def do_POST(self) -> None:
            payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.posts.append((self.headers.get("Authorization"), payload))
            if state.failures_left > 0:
                state.failures_left -= 1
                self._send(503)
            else:
                self._send(200)

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{http.server_address[1]}"
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield state
    http.shutdown()
    http.server_close()


@pytest.fixture
def online(tmp_path: Path) -> Iterator[ThreadServer]:
    with ThreadServer(
        Settings(data_dir=tmp_path, allow_remote=True, allow_hosts=["127.0.0.1"], workers=2)
    ) as live:
        yield live


def test_remote_fetch_with_basic_auth(online: ThreadServer, loopback: Loopback) -> None:
    url = f"{loopback.url}/doc.pdf"
    body = httpx.post(
        f"{online.url}/pdf/merge",
        data={
            "url": f"{url},{loopback.url}/open.pdf",
            "httpusername": USER,
            "httppassword": PASSWORD,
        },
    ).json()
    assert body["status"] == 200 and body["pageCount"] == 4
    assert pdf_pages(httpx.get(body["url"]).content) == [(111.0, 222.0)] * 4
    refused = assert_error(httpx.get(f"{online.url}/pdf/merge", params={"url": url}), 403)
    assert "HTTP 401" in refused["message"] and url in refused["message"]
    missing = assert_error(
        httpx.get(f"{online.url}/pdf/merge", params={"url": f"{loopback.url}/none.pdf"}), 400
    )
    assert "HTTP 404" in missing["message"]


def test_unreachable_source_is_400(online: ThreadServer) -> None:
    with ThreadServer(Settings(data_dir=online.settings.data_dir / "x")) as gone:
        dead = f"{gone.url}/nothing-listens-here.pdf"
    body = assert_error(httpx.get(f"{online.url}/pdf/merge", params={"url": dead}), 400)
    assert dead in body["message"]


def test_url_map_json_file(tmp_path: Path) -> None:
    (tmp_path / "local.pdf").write_bytes(make_pdf(3))
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"https://cdn.example.test/a?b=1": "local.pdf"}))
    with ThreadServer(Settings(data_dir=tmp_path / "data", url_map=mapping)) as live:
        body = httpx.get(
            f"{live.url}/pdf/merge", params={"url": "https://cdn.example.test/a?b=1"}
        ).json()
        assert body["pageCount"] == 3
        assert_error(
            httpx.get(f"{live.url}/pdf/merge", params={"url": "https://cdn.example.test/other"}),
            403,
        )


def test_callback_posts_final_json_with_retries_and_basic_auth(
    online: ThreadServer, loopback: Loopback
) -> None:
    loopback.failures_left = 2
    callback = loopback.url.replace("://", f"://{USER}:{PASSWORD.replace(' ', '%20')}@")
    start = httpx.post(
        f"{online.url}/pdf/merge",
        json={"url": f"{loopback.url}/open.pdf", "async": True, "callback": f"{callback}/hook"},
    ).json()
    final = poll_job(online.url, start["jobId"])
    deadline = time.monotonic() + 15
    while len(loopback.posts) < 3:
        assert time.monotonic() < deadline, loopback.posts
        time.sleep(0.05)
    expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert [auth for auth, _ in loopback.posts] == [expected] * 3
    assert all(payload == final for _, payload in loopback.posts)
    assert final["status"] == "success" and final["pageCount"] == 2
    stored = httpx.get(f"{online.url}/job/check", params={"jobid": start["jobId"]}).json()
    assert stored == final


def test_callback_of_a_failed_job(online: ThreadServer, loopback: Loopback) -> None:
    start = httpx.post(
        f"{online.url}/pdf/merge",
        json={"url": f"{loopback.url}/doc.pdf", "async": True, "callback": f"{loopback.url}/hook"},
    ).json()
    final = poll_job(online.url, start["jobId"])
    deadline = time.monotonic() + 10
    while not loopback.posts:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert loopback.posts == [(None, final)]
    assert final["status"] == "failed" and final["errorCode"] == 403
