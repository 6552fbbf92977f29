"""The remote-source address policy: the pure decision, then the real server.

The policy tests call the decision function directly — no traffic at all. The
server tests only ever address 127.0.0.1 and ::1: forbidden targets are refused
before any connection, and the allowed ones are loopback servers of this test.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import httpx
import pytest

from pdfbinder.compat.netpolicy import NetPolicy, PolicyRefusal, check_address
from pdfbinder.compat.settings import Settings
from tests.support.compat import ThreadServer, assert_error, make_pdf, pdf_pages

FORBIDDEN = {
    "169.254.169.254": "cloud metadata",
    "fd00:ec2::254": "cloud metadata",
    "100.100.100.200": "cloud metadata",
    "168.63.129.16": "cloud metadata",
    "::ffff:169.254.169.254": "cloud metadata",
    "64:ff9b::a9fe:a9fe": "cloud metadata",
    "2002:a9fe:a9fe::1": "cloud metadata",
    "10.0.0.1": "private",
    "192.168.1.1": "private",
    "172.16.0.1": "private",
    "fd00::1": "private",
    "100.64.0.1": "shared (CGNAT)",
    "127.0.0.1": "loopback",
    "127.255.0.9": "loopback",
    "::1": "loopback",
    "::ffff:127.0.0.1": "loopback",
    "::127.0.0.1": "loopback",
    "169.254.1.1": "link-local",
    "fe80::1": "link-local",
    "0.0.0.0": "unspecified",
    "::": "unspecified",
    "224.0.0.1": "multicast",
    "ff02::1": "multicast",
    "240.0.0.1": "reserved",
    "255.255.255.255": "reserved",
}
PUBLIC = ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("address", sorted(FORBIDDEN))
def test_forbidden_addresses(address: str) -> None:
    verdict = check_address(address)
    assert not verdict.allowed
    assert FORBIDDEN[address] in verdict.reason


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_allowed(address: str) -> None:
    assert check_address(address).allowed


def test_relaxations() -> None:
    relaxed = NetPolicy(allow_private_networks=True)
    assert relaxed.check_address("10.0.0.1").allowed
    assert relaxed.check_address("::ffff:127.0.0.1").allowed
    assert not relaxed.check_address("169.254.169.254").allowed  # metadata needs --allow-host
    assert not relaxed.check_address("224.0.0.1").allowed
    listed = NetPolicy(allow_hosts=("127.0.0.1", "10.1.0.0/16"))
    assert listed.check_address("127.0.0.1").allowed
    assert listed.check_address("10.1.2.3").allowed
    assert not listed.check_address("10.2.0.1").allowed
    assert not listed.check_address("::1").allowed


@pytest.mark.parametrize(
    "host",
    [
        "169.254.169.254",
        "[::1]",
        "metadata.google.internal",
        "localhost",
        "api.localhost",
        "0.0.0.0",
        "[fd00:ec2::254]",
    ],
)
def test_precheck_refuses_without_dns(host: str) -> None:
    with pytest.raises(PolicyRefusal):
        NetPolicy().precheck(host)


def test_resolve_refuses_a_name_with_any_forbidden_answer() -> None:
    # "localhost" resolves (from /etc/hosts) to loopback only: refused although a name.
    with pytest.raises(PolicyRefusal):
        NetPolicy().resolve("localhost", 80)
    allowed = NetPolicy(allow_hosts=("127.0.0.1",)).resolve("127.0.0.1", 80)
    assert [str(address) for address in allowed] == ["127.0.0.1"]


class _Recorder(BaseHTTPRequestHandler):
    """Serves a PDF at /doc.pdf, redirects from /to?<url>, records Host headers."""

    hosts: ClassVar[list[str]] = []
    pdf = make_pdf(2, width=123, height=45)

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        type(self).hosts.append(self.headers.get("Host", ""))
        if self.path == "/doc.pdf":
            self.send_response(200)
            self.send_header("Content-Length", str(len(self.pdf)))
            self.end_headers()
            self.wfile.write(self.pdf)
        elif self.path.startswith("/to?"):
            self.send_response(302)
            self.send_header("Location", self.path[len("/to?") :])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/loop":
            self.send_response(307)
            self.send_header("Location", "/loop")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    http = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_address[1]}"
    http.shutdown()
    http.server_close()


def test_loopback_sources_refused_before_connecting(tmp_path: Path) -> None:
    with ThreadServer(Settings(data_dir=tmp_path, allow_remote=True, workers=1)) as live:
        for url in ("http://127.0.0.1:22/", "http://[::1]:9/", "http://localhost:22/x.pdf"):
            for route in ("/pdf/merge", "/file/upload/url"):
                body = assert_error(httpx.get(f"{live.url}{route}", params={"url": url}), 403)
                assert "forbidden by policy" in body["message"] and url in body["message"]
        assert httpx.get(f"{live.url}/health").json() == {"status": "ok"}


def test_allowed_host_is_fetched_pinned_with_its_host_header(tmp_path: Path, origin: str) -> None:
    port = origin.rsplit(":", 1)[1]
    settings = Settings(
        data_dir=tmp_path,
        allow_remote=True,
        workers=1,
        allow_hosts=["127.0.0.1", "::1", "localhost"],
    )
    _Recorder.hosts.clear()
    with ThreadServer(settings) as live:
        body = httpx.get(
            f"{live.url}/pdf/merge", params={"url": f"http://localhost:{port}/doc.pdf"}
        ).json()
        assert body["status"] == 200, body
        assert pdf_pages(httpx.get(body["url"]).content) == [(123.0, 45.0)] * 2
    # The connection went to the checked address; the server still saw the name asked for.
    assert _Recorder.hosts == [f"localhost:{port}"]


def test_every_redirect_hop_is_checked(tmp_path: Path, origin: str) -> None:
    settings = Settings(data_dir=tmp_path, allow_remote=True, workers=1, allow_hosts=["127.0.0.1"])
    with ThreadServer(settings) as live:
        for target in (
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]:9/",
            "http://10.0.0.1/",
            "http://[::ffff:127.0.0.2]:9/",
        ):
            body = assert_error(
                httpx.get(f"{live.url}/pdf/merge", params={"url": f"{origin}/to?{target}"}), 403
            )
            assert "forbidden by policy" in body["message"]
        allowed = httpx.get(
            f"{live.url}/pdf/merge", params={"url": f"{origin}/to?{origin}/doc.pdf"}
        ).json()
        assert allowed["status"] == 200 and allowed["pageCount"] == 2
        looping = assert_error(
            httpx.get(f"{live.url}/pdf/merge", params={"url": f"{origin}/loop"}), 400
        )
        assert "Too many redirects" in looping["message"]
        assert httpx.get(f"{live.url}/health").status_code == 200


def test_callback_to_metadata_refused(tmp_path: Path) -> None:
    with ThreadServer(Settings(data_dir=tmp_path, allow_remote=True, workers=1)) as live:
        stored = httpx.post(f"{live.url}/file/upload", files={"file": ("a.pdf", make_pdf(1))})
        for hook in (
            "http://169.254.169.254/hook",
            "http://[fd00:ec2::254]/hook",
            "http://metadata.google.internal/hook",
        ):
            body = assert_error(
                httpx.post(
                    f"{live.url}/pdf/merge",
                    json={"url": stored.json()["url"], "async": True, "callback": hook},
                ),
                403,
            )
            assert "callback" in body["message"] and "forbidden by policy" in body["message"]
