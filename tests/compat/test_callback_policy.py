"""Callbacks go only where the address policy allows, checked when they are sent.

A callback URL is accepted when the job is submitted, but delivered when it
ends; a name checked then could answer differently by delivery (DNS
rebinding). These tests give a made-up name its DNS answers (the one stand-in
for the outside world here) and watch a real receiver on loopback: the
delivery must resolve the name again, refuse a forbidden answer, and connect
to the checked address with the name in the Host header. All traffic stays
on 127.0.0.1.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from pdfbinder.compat.settings import Settings
from tests.support.compat import ThreadServer, make_pdf, poll_job

NAME = "hooks.rebind.example"
"""A name no resolver knows; the test decides what it answers."""


class Receiver:
    """A loopback HTTP server recording each POST's Host header and JSON body."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, Any]]] = []
        posts = self.posts

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                posts.append((self.headers["Host"], body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.http.server_address[1]
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def name_answers_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """``NAME`` resolves to 127.0.0.1; every other name resolves as usual."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        return real("127.0.0.1" if host == NAME else host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def _merge_with_callback(server: ThreadServer, callback: str) -> dict[str, Any]:
    uploaded = httpx.post(
        f"{server.url}/file/upload", files={"file": ("one.pdf", make_pdf(1), "application/pdf")}
    ).json()
    job = httpx.post(
        f"{server.url}/pdf/merge",
        json={"url": uploaded["url"], "async": True, "callback": callback},
    ).json()
    assert job["error"] is False, job
    return poll_job(server.url, job["jobId"])


def _wait_for(condition: Any, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.05)


@pytest.mark.usefixtures("name_answers_loopback")
def test_a_name_that_now_answers_a_forbidden_address_gets_nothing(
    tmp_path: Path, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    """Accepted at submit (no DNS then), refused at delivery: loopback is not allowed here."""
    caplog.set_level(logging.WARNING, logger="pdfbinder.callbacks")
    with ThreadServer(Settings(data_dir=tmp_path, allow_remote=True, workers=1)) as server:
        final = _merge_with_callback(server, f"http://{NAME}:{receiver.port}/hook")
        assert final["status"] == "success"
        _wait_for(lambda: "refused by policy" in caplog.text)
    assert receiver.posts == []
    assert f"{NAME} resolves to" in caplog.text


@pytest.mark.usefixtures("name_answers_loopback")
def test_an_allowed_answer_is_used_as_checked_with_the_name_as_host(
    tmp_path: Path, receiver: Receiver
) -> None:
    settings = Settings(data_dir=tmp_path, allow_remote=True, allow_hosts=["127.0.0.1"], workers=1)
    with ThreadServer(settings) as server:
        final = _merge_with_callback(server, f"http://{NAME}:{receiver.port}/hook")
        _wait_for(lambda: bool(receiver.posts))
    assert receiver.posts == [(f"{NAME}:{receiver.port}", final)]
