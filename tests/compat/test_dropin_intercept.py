"""Routing: calls aimed at PDF.co reach the local server unchanged; nothing else is touched."""

from __future__ import annotations

import asyncio
import http.server
import threading
from collections.abc import Iterator
from typing import ClassVar

import httpx
import pytest
import requests
from requests.adapters import HTTPAdapter

from pdfbinder.compat.testing import mock_pdfco
from pdfbinder.compat.testing.testserver import PdfbinderServer

RAW_QUERY = "async=True&name=.%5Cresult.pdf&url=http://h.example/a.pdf,http://h.example/b.pdf"


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        self.send_response(200)
        self.send_header("Content-Length", "5")
        self.end_headers()
        self.wfile.write(b"other")

    def log_message(self, *args: object) -> None:
        """Keep test output quiet."""


@pytest.fixture
def other_server() -> Iterator[str]:
    """A plain HTTP server on another loopback port: a host the mock must leave alone."""
    _Recorder.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_requests_call_arrives_with_path_and_query_untouched(pdfco_mock: PdfbinderServer) -> None:
    response = requests.get(f"https://api.pdf.co/v1/job/check?jobid=nope&{RAW_QUERY}")

    assert response.status_code == 200 and response.json()["status"] == "unknown"
    assert response.url.startswith("https://api.pdf.co/v1/job/check?")
    (seen,) = pdfco_mock.requests
    assert (seen.method, seen.path) == ("GET", "/v1/job/check")
    assert seen.query == f"jobid=nope&{RAW_QUERY}"
    assert seen.headers["host"] == "api.pdf.co"


def test_secrets_are_redacted_in_the_record(pdfco_mock: PdfbinderServer) -> None:
    url = "https://api.pdf.co/v1/job/check?jobid=x&x-api-key=k1"
    requests.get(url, headers={"x-api-key": "k2"})

    (seen,) = pdfco_mock.requests
    assert seen.headers["x-api-key"] == "<redacted>" and seen.params["x-api-key"] == "<redacted>"
    assert seen.query == "jobid=x&x-api-key=<redacted>" and seen.params["jobid"] == "x"


def test_presigned_upload_round_trip_on_cloud_urls(pdfco_mock: PdfbinderServer) -> None:
    """The client sees https://api.pdf.co URLs, and following them is intercepted too."""
    with requests.Session() as session:
        answer = session.get(
            "https://api.pdf.co/v1/file/upload/get-presigned-url?name=a.bin&contenttype=x"
        ).json()
        assert answer["presignedUrl"].startswith("https://api.pdf.co/")
        assert answer["url"].startswith("https://api.pdf.co/files/")
        assert session.put(answer["presignedUrl"], data=b"\x00payload\xff").status_code == 200
    assert requests.get(answer["url"]).content == b"\x00payload\xff"
    assert [r.method for r in pdfco_mock.requests] == ["GET", "PUT", "GET"]


def test_httpx_sync_and_async_are_routed(pdfco_mock: PdfbinderServer) -> None:
    answer = httpx.get("https://api.pdf.co/v1/file/upload/get-presigned-url?name=s.bin").json()
    httpx.put(answer["presignedUrl"], content=b"sync bytes")

    async def fetch() -> bytes:
        async with httpx.AsyncClient() as client:
            response = await client.get(answer["url"])
            assert str(response.url) == answer["url"]
            return response.content

    assert asyncio.run(fetch()) == b"sync bytes"
    assert [r.headers["user-agent"].split("/")[0] for r in pdfco_mock.requests] == [
        "python-httpx"
    ] * 3


def test_other_hosts_pass_through(pdfco_mock: PdfbinderServer, other_server: str) -> None:
    assert requests.get(f"{other_server}/plain?a=1").text == "other"
    assert httpx.get(f"{other_server}/via-httpx").text == "other"

    assert _Recorder.seen == ["/plain?a=1", "/via-httpx"]
    assert pdfco_mock.requests == []


@pytest.mark.pdfco_mock("https://localhost", "http://pdfco.internal:8080")
def test_extra_base_urls_from_the_marker(pdfco_mock: PdfbinderServer) -> None:
    for base in ("https://localhost", "http://pdfco.internal:8080"):
        assert requests.get(f"{base}/job/check?jobid=x").json()["status"] == "unknown"
    # Same host, other port: not an intercepted origin.
    with pytest.raises(requests.ConnectionError):
        requests.get("http://pdfco.internal:9/job/check", timeout=5)
    assert [r.headers["host"] for r in pdfco_mock.requests] == [
        "localhost",
        "pdfco.internal:8080",
    ]


def test_patches_are_undone_when_the_mock_ends() -> None:
    originals = (
        HTTPAdapter.send,
        httpx.HTTPTransport.handle_request,
        httpx.AsyncHTTPTransport.handle_async_request,
    )
    with mock_pdfco() as server:
        assert HTTPAdapter.send is not originals[0]
        assert requests.get("https://api.pdf.co/job/check?jobid=x").status_code == 200
        assert len(server.requests) == 1
    assert (
        HTTPAdapter.send,
        httpx.HTTPTransport.handle_request,
        httpx.AsyncHTTPTransport.handle_async_request,
    ) == originals


def test_nested_mock_wins_and_outer_one_resumes(pdfco_mock: PdfbinderServer) -> None:
    with mock_pdfco() as inner:
        requests.get("https://api.pdf.co/job/check?jobid=inner")
    requests.get("https://api.pdf.co/job/check?jobid=outer")

    assert [r.params["jobid"] for r in inner.requests] == ["inner"]
    assert [r.params["jobid"] for r in pdfco_mock.requests] == ["outer"]


def test_decorator_on_async_function() -> None:
    @mock_pdfco()
    async def client_code() -> int:
        async with httpx.AsyncClient() as client:
            response = await client.post("https://api.pdf.co/v1/job/check", json={"jobId": "x"})
            return response.status_code

    assert asyncio.run(client_code()) == 200
    assert HTTPAdapter.send.__module__ == "requests.adapters"
