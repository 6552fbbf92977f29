"""Every request shape real PDF.co clients send reaches the same logic, over real HTTP."""

from __future__ import annotations

import http.client
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import requests

from tests.support.compat import ThreadServer, mirror_url, pdf_pages, poll_job

PNG_PAGE = (30.0, 22.5)  # 40 x 30 px at the default 96 dpi
JPEG_PAGE = (48.0, 36.0)  # 64 x 48 px
TWO = [(200.0, 100.0)] * 2
THREE = [(300.0, 150.0)] * 3


def raw_get(
    server: ThreadServer,
    target: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    """GET exactly ``target`` on the wire — no client re-encodes the query string."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request("GET", target, body=body, headers=headers or {})
    response = connection.getresponse()
    payload = json.loads(response.read())
    connection.close()
    return response.status, payload


def assert_sync_success(body: dict[str, Any], name: str, pages: int) -> None:
    assert body["error"] is False and body["status"] == 200
    assert body["name"] == name and body["url"].endswith(f"/{name}")
    assert body["pageCount"] == pages and body["credits"] == pages
    assert body["remainingCredits"] == 1_000_000
    assert isinstance(body["duration"], int) and body["outputLinkValidTill"].endswith("+00:00")


def test_raw_get_with_unencoded_urls_and_backslash_name(server: ThreadServer) -> None:
    urls = f"{mirror_url('red.png')},{mirror_url('blue.jpg')}"
    status, body = raw_get(
        server,
        f"/pdf/convert/from/image?name=.\\result.pdf&url={urls}",
        headers={"content-type": "application/octet-stream"},
    )
    assert status == 200
    assert_sync_success(body, "result.pdf", 2)
    assert pdf_pages(requests.get(body["url"]).content) == [PNG_PAGE, JPEG_PAGE]


def test_form_post_async_true_then_poll(server: ThreadServer) -> None:
    data = {
        "url": f"{mirror_url('two.pdf')}, {mirror_url('three.pdf')}",
        "async": "True",
        "name": "merged.pdf",
    }
    response = requests.post(f"{server.url}/pdf/merge", data=data)
    body = response.json()
    assert response.status_code == 200 and body["error"] is False and body["status"] == 200
    assert body["jobId"] and body["url"].endswith("/merged.pdf") and body["name"] == "merged.pdf"
    final = poll_job(server.url, body["jobId"])
    assert final["status"] == "success" and final["message"] == "Success"
    assert final["url"] == body["url"] and final["pageCount"] == 5 and final["credits"] == 5
    assert final["jobId"] == body["jobId"] and final["jobDuration"] <= final["duration"] + 1
    assert pdf_pages(requests.get(final["url"]).content) == TWO + THREE


def test_json_post_with_array_of_urls(server: ThreadServer) -> None:
    payload = {
        "url": [mirror_url("three.pdf"), mirror_url("two.pdf")],
        "name": "j.pdf",
        "async": False,
        "expiration": 5,
    }
    body = httpx.post(f"{server.url}/pdf/merge", json=payload).json()
    assert_sync_success(body, "j.pdf", 5)
    valid_for = datetime.fromisoformat(body["outputLinkValidTill"]) - datetime.now(timezone.utc)
    assert timedelta(minutes=4) < valid_for <= timedelta(minutes=5)
    assert pdf_pages(httpx.get(body["url"]).content) == THREE + TWO


def test_json_body_without_content_type(server: ThreadServer) -> None:
    payload = json.dumps({"url": mirror_url("red.png"), "name": "nct.pdf"})
    response = requests.post(f"{server.url}/pdf/convert/from/image", data=payload)
    assert "content-type" not in response.request.headers
    assert_sync_success(response.json(), "nct.pdf", 1)


def test_multipart_text_fields(server: ThreadServer) -> None:
    fields = {
        "url": (None, f"cache:{mirror_url('two.pdf')},{mirror_url('red.png')}"),
        "name": (None, "mp.pdf"),
    }
    response = requests.post(f"{server.url}/pdf/merge2", files=fields)
    content_type = response.request.headers["content-type"]
    assert isinstance(content_type, str), content_type  # requests keeps the str it made
    assert content_type.startswith("multipart/form-data")
    assert_sync_success(response.json(), "mp.pdf", 3)
    assert pdf_pages(requests.get(response.json()["url"]).content) == [*TWO, PNG_PAGE]


def test_query_plus_body_body_wins(server: ThreadServer) -> None:
    response = httpx.post(
        f"{server.url}/pdf/merge?name=query.pdf&url={mirror_url('two.pdf')}",
        data={"NAME": "body.pdf"},
    )
    assert_sync_success(response.json(), "body.pdf", 2)


def test_get_with_empty_json_body_and_json_type_without_body(server: ThreadServer) -> None:
    target = f"/v1/pdf/merge?url={mirror_url('two.pdf')}&name=e.pdf"
    status, body = raw_get(server, target, body=b"{}", headers={"content-type": "application/json"})
    assert status == 200
    assert_sync_success(body, "e.pdf", 2)
    status, body = raw_get(server, target, headers={"content-type": "application/json"})
    assert status == 200
    assert_sync_success(body, "e.pdf", 2)


def test_job_check_parameter_in_any_case_and_shape(server: ThreadServer) -> None:
    start = httpx.get(
        f"{server.url}/pdf/merge", params={"url": mirror_url("two.pdf"), "ASYNC": "1"}
    ).json()
    job_id = start["jobId"]
    final = poll_job(server.url, job_id)
    for query in (f"jobid={job_id}", f"jobId={job_id}", f"JOBID={job_id}"):
        assert httpx.get(f"{server.url}/job/check?{query}").json() == final
    assert httpx.post(f"{server.url}/v1/job/check", json={"jobId": job_id}).json() == final
    assert httpx.post(f"{server.url}/job/check", data={"jobid": job_id}).json() == final
    assert set(final) == {
        "status",
        "message",
        "jobId",
        "url",
        "name",
        "pageCount",
        "credits",
        "remainingCredits",
        "duration",
        "jobDuration",
        "outputLinkValidTill",
        "error",
        # pdfbinder's extensions, next to the vendor's fields.
        "progress",
        "provenance",
    }


def test_booleans_are_lenient(server: ThreadServer) -> None:
    for value in ("true", "True", "1", True):
        body = httpx.post(
            f"{server.url}/pdf/merge", json={"url": mirror_url("two.pdf"), "async": value}
        ).json()
        assert "jobId" in body, value
    for value in ("false", "False", "0", False):
        body = httpx.post(
            f"{server.url}/pdf/merge", json={"url": mirror_url("two.pdf"), "async": value}
        ).json()
        assert "jobId" not in body and body["pageCount"] == 2, value


def test_unknown_parameters_are_ignored_and_profiles_parse_leniently(server: ThreadServer) -> None:
    params = {"url": mirror_url("two.pdf"), "inline": "true", "profiles": "{'a': true, }"}
    body = httpx.get(f"{server.url}/pdf/merge", params=params).json()
    assert_sync_success(body, "result.pdf", 2)
    assert body["message"] == "Ignored profiles keys: 'a' (unknown key)."


def test_password_opens_encrypted_input(server: ThreadServer) -> None:
    body = httpx.post(
        f"{server.url}/pdf/merge",
        data={"url": f"{mirror_url('locked.pdf')},{mirror_url('two.pdf')}", "password": "s3cret"},
    ).json()
    assert_sync_success(body, "result.pdf", 3)
    assert pdf_pages(httpx.get(body["url"]).content)[1:] == TWO
