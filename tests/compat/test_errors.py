"""Refusals in the protocol's error shape, HTTP status equal to the body's ``status``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from pdfbinder.compat.settings import Settings
from tests.support.compat import (
    ThreadServer,
    assert_error,
    make_png,
    mirror_url,
    poll_job,
)
from tests.support.origin import GatedOrigin


def test_missing_url_is_400(server: ThreadServer) -> None:
    body = assert_error(httpx.get(f"{server.url}/pdf/merge?name=x.pdf"), 400)
    assert "url" in body["message"]
    assert_error(httpx.post(f"{server.url}/pdf/convert/from/image", json={"url": " , "}), 400)


def test_corrupt_input_is_442_naming_it(server: ThreadServer) -> None:
    urls = f"{mirror_url('two.pdf')},{mirror_url('broken.pdf')}"
    body = assert_error(httpx.get(f"{server.url}/pdf/merge", params={"url": urls}), 442)
    assert "input 2 (broken.pdf)" in body["message"]


def test_image_route_refuses_a_pdf_with_442(server: ThreadServer) -> None:
    body = assert_error(
        httpx.get(f"{server.url}/pdf/convert/from/image", params={"url": mirror_url("two.pdf")}),
        442,
    )
    assert "two.pdf" in body["message"]


def test_encrypted_pdf_without_or_with_wrong_password_is_441(server: ThreadServer) -> None:
    url = f"{server.url}/pdf/merge"
    body = assert_error(httpx.get(url, params={"url": mirror_url("locked.pdf")}), 441)
    assert "locked.pdf" in body["message"]
    body = assert_error(
        httpx.get(url, params={"url": mirror_url("locked.pdf"), "password": "nope"}), 441
    )
    assert "locked.pdf" in body["message"]


def test_failed_async_job_reports_failed_with_message(server: ThreadServer) -> None:
    start = httpx.post(
        f"{server.url}/pdf/merge", json={"url": [mirror_url("broken.pdf")], "async": True}
    ).json()
    final = poll_job(server.url, start["jobId"])
    assert final["status"] == "failed" and final["error"] is True and final["errorCode"] == 442
    assert "broken.pdf" in final["message"] and final["jobId"] == start["jobId"]
    assert_error(httpx.get(start["url"]), 404)


def test_unknown_job(server: ThreadServer) -> None:
    for query in ("jobid=nope&force=true", "jobid=nope"):
        response = httpx.get(f"{server.url}/job/check?{query}")
        assert response.status_code == 200
        assert response.json()["status"] == "unknown" and response.json()["jobId"] == "nope"
    assert_error(httpx.get(f"{server.url}/job/check"), 400)


def test_unknown_job_vendor_mode_answers_working_unless_forced(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, unknown_job_status="working")
    with ThreadServer(settings) as live:
        assert httpx.get(f"{live.url}/job/check?jobid=x").json()["status"] == "working"
        assert httpx.get(f"{live.url}/job/check?jobid=x&force=True").json()["status"] == "unknown"


def test_name_never_escapes_the_data_dir(server: ThreadServer) -> None:
    for name in ("../../x", "..\\..\\x", "/etc/x", "..", "a b&c?d,e#f.pdf"):
        body = httpx.get(
            f"{server.url}/pdf/merge", params={"url": mirror_url("two.pdf"), "name": name}
        ).json()
        assert body["status"] == 200, body
        for bad in ("/", "\\", "&", "?", ",", "#", " "):
            assert bad not in body["name"], body["name"]
        assert not body["name"].startswith(".")
        assert httpx.get(body["url"]).status_code == 200
    # Exactly where each hostile name would have landed had it reached the file system.
    data_dir = server.settings.data_dir
    escapes = [data_dir.parent / "x", data_dir.parent.parent / "x", Path("/etc/x"), Path("x")]
    assert [path for path in escapes if path.exists()] == []


def test_unknown_route_and_wrong_method(server: ThreadServer) -> None:
    assert "/pdf/nothing" in assert_error(httpx.get(f"{server.url}/pdf/nothing"), 404)["message"]
    assert_error(httpx.delete(f"{server.url}/pdf/merge"), 405)
    assert_error(httpx.get(f"{server.url}/file/upload"), 405)


def test_bad_boolean_and_bad_profiles(server: ThreadServer) -> None:
    url = mirror_url("two.pdf")
    assert_error(httpx.get(f"{server.url}/pdf/merge", params={"url": url, "async": "maybe"}), 400)
    body = assert_error(
        httpx.get(f"{server.url}/pdf/merge", params={"url": url, "profiles": "{{not: an object"}),
        444,
    )
    assert "profiles" in body["message"]
    assert_error(
        httpx.post(
            f"{server.url}/pdf/merge",
            content=b"{broken json",
            headers={"content-type": "application/json"},
        ),
        400,
    )


def test_remote_urls_refused_offline_with_403(server: ThreadServer) -> None:
    body = assert_error(
        httpx.get(
            f"{server.url}/pdf/merge", params={"url": "https://not-mapped.example.test/a.pdf"}
        ),
        403,
    )
    assert "--allow-remote" in body["message"]
    assert_error(httpx.get(f"{server.url}/pdf/merge", params={"url": "ftp://x/a.pdf"}), 400)


def test_our_expired_or_unknown_file_url_is_404(server: ThreadServer) -> None:
    missing = f"{server.url}/files/{'A' * 32}/gone.pdf"
    assert_error(httpx.get(f"{server.url}/pdf/merge", params={"url": missing}), 404)
    assert_error(httpx.get(f"{server.url}/pdf/merge", params={"url": "filetoken://nope"}), 404)


def _gated_settings(data_dir: Path, **options: Any) -> Settings:
    """A server that fetches its sources from a test's :class:`GatedOrigin` on loopback."""
    return Settings(data_dir=data_dir, allow_remote=True, allow_hosts=["127.0.0.1"], **options)


@pytest.mark.parametrize("action", ["cancel", "continue"])
def test_sync_past_the_time_limit_is_445(tmp_path: Path, action: str) -> None:
    settings = _gated_settings(tmp_path, sync_timeout=0.3, sync_timeout_action=action)
    with GatedOrigin({"held.png": make_png()}) as origin, ThreadServer(settings) as live:
        urls = ",".join([origin.url_of("held.png")] * 2)
        response = httpx.get(f"{live.url}/pdf/convert/from/image", params={"url": urls}, timeout=60)
        body = assert_error(response, 445)
        assert "async" in body["message"]
        origin.release()
        final = poll_job(live.url, body["jobId"], timeout=60)
        if action == "cancel":
            assert final["status"] == "aborted" and final["error"] is True
        else:
            assert final["status"] == "success" and final["pageCount"] == 2
        assert httpx.get(f"{live.url}/job/check?jobid={body['jobId']}").json() == final


def test_async_result_url_is_404_until_the_job_succeeds(tmp_path: Path) -> None:
    with (
        GatedOrigin({"held.png": make_png()}) as origin,
        ThreadServer(_gated_settings(tmp_path)) as live,
    ):
        start = httpx.get(
            f"{live.url}/pdf/convert/from/image",
            params={"url": ",".join([origin.url_of("held.png")] * 2), "async": "true"},
        ).json()
        origin.wait_for_requests(1)
        early = httpx.get(start["url"])
        still = httpx.get(f"{live.url}/job/check?jobid={start['jobId']}").json()["status"]
        assert still == "working", "the job finished too fast to observe its pending URL"
        assert_error(early, 404)
        origin.release()
        final = poll_job(live.url, start["jobId"], timeout=60)
        assert final["status"] == "success" and final["pageCount"] == 2
        assert httpx.get(start["url"]).content.startswith(b"%PDF-")
