"""Tenancy with API keys, user-given names, and durability of accepted uploads."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx

from pdfbinder.compat.settings import Settings
from tests.support.compat import ServeProcess, ThreadServer, assert_error, make_pdf, poll_job

ALICE, BOB = {"x-api-key": "alice-key"}, {"x-api-key": "bob-key"}


def test_one_key_cannot_see_or_delete_another_keys_work(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, workers=1, api_keys=["alice-key", "bob-key"])
    with ThreadServer(settings) as live:
        stored = httpx.post(
            f"{live.url}/file/upload", headers=ALICE, files={"file": ("a.pdf", make_pdf(2))}
        ).json()
        job = httpx.get(
            f"{live.url}/pdf/merge", headers=ALICE, params={"url": stored["url"], "async": "true"}
        ).json()
        as_bob = httpx.get(
            f"{live.url}/job/check", headers=BOB, params={"jobid": job["jobId"]}
        ).json()
        never_made = httpx.get(
            f"{live.url}/job/check", headers=BOB, params={"jobid": "no-such-job"}
        ).json()
        assert as_bob["status"] == "unknown" and "url" not in as_bob
        assert {k: v for k, v in as_bob.items() if k != "jobId"} == {
            k: v for k, v in never_made.items() if k != "jobId"
        }
        deadline_body = httpx.get(
            f"{live.url}/job/check", headers=ALICE, params={"jobid": job["jobId"]}
        ).json()
        while deadline_body["status"] == "working":
            deadline_body = httpx.get(
                f"{live.url}/job/check", headers=ALICE, params={"jobid": job["jobId"]}
            ).json()
        assert deadline_body["status"] == "success" and deadline_body["pageCount"] == 2
        refused = assert_error(
            httpx.post(f"{live.url}/file/delete", headers=BOB, data={"url": stored["url"]}), 404
        )
        assert "not found" in refused["message"]
        assert httpx.get(stored["url"]).status_code == 200  # keyless download: the URL is the key
        assert (
            httpx.post(
                f"{live.url}/file/delete", headers=ALICE, data={"url": stored["url"]}
            ).json()["status"]
            == 200
        )
        assert_error(httpx.get(stored["url"]), 404)
        assert_error(
            httpx.get(
                f"{live.url}/job/check",
                headers={"x-api-key": "mallory"},
                params={"jobid": job["jobId"]},
            ),
            401,
        )


def test_hostile_names_stay_in_the_data_dir(server: ThreadServer) -> None:
    hostile = [
        "../../etc/passwd",
        "..\\..\\windows\\system32\\x.dll",
        "/etc/shadow",
        "a/../../b.pdf",
        "....//....//c.pdf",
        "%2e%2e%2fd.pdf",
        "e\x00.pdf",
        ".hidden",
        "..",
        "ünï cødé?.pdf",
        "x" * 500 + ".pdf",
    ]
    for name in hostile:
        uploaded = httpx.post(
            f"{server.url}/file/upload", data={"name": name}, files={"file": ("f.pdf", make_pdf(1))}
        ).json()
        presigned = httpx.get(
            f"{server.url}/file/upload/get-presigned-url", params={"name": name}
        ).json()
        for answer in (uploaded, presigned):
            assert answer["status"] == 200, answer
            assert "/" not in answer["name"] and "\\" not in answer["name"]
            assert not answer["name"].startswith(".") and len(answer["name"]) <= 120
        assert httpx.put(presigned["presignedUrl"], content=b"data").status_code == 200
        assert httpx.get(presigned["url"]).content == b"data"
    assert uploaded_name("../../etc/passwd", server) == "passwd"
    files = server.settings.data_dir / "files"
    for path in files.rglob("*"):
        assert path.resolve().is_relative_to(files.resolve())


def uploaded_name(name: str, server: ThreadServer) -> str:
    body = httpx.post(
        f"{server.url}/file/upload", data={"name": name}, files={"file": ("f.pdf", b"%PDF")}
    ).json()
    return str(body["name"])


def test_accepted_upload_and_job_survive_sigkill(tmp_path: Path) -> None:
    data_dir, document = tmp_path / "data", make_pdf(3)
    with ServeProcess(data_dir, "--workers", "1") as first:
        stored = httpx.post(
            f"{first.url}/file/upload", files={"file": ("keep.pdf", document)}
        ).json()
        job = httpx.get(
            f"{first.url}/pdf/merge", params={"url": stored["url"], "async": "true"}
        ).json()
        poll_job(first.url, job["jobId"])
        first.kill()
    journal = sqlite3.connect(data_dir / "jobs.sqlite3").execute("PRAGMA journal_mode")
    assert journal.fetchone()[0] == "wal"
    with ServeProcess(data_dir) as second:
        path = stored["url"].split("/files/", 1)[1]
        assert httpx.get(f"{second.url}/files/{path}").content == document
        done = httpx.get(f"{second.url}/job/check", params={"jobid": job["jobId"]}).json()
        assert done["status"] == "success" and done["pageCount"] == 3
