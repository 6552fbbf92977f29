"""Fault and timing injection, seen on the wire exactly as PDF.co presents it.

Every test drives a real async merge against the session's pdfbinder server through the
``pdfco_mock`` fixture (``https://api.pdf.co`` routed to loopback), with plain ``requests``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pikepdf
import pytest
import requests

from pdfbinder.compat.testing.testserver import PdfbinderServer

API = "https://api.pdf.co/v1"


def make_pdf(path: Path, pages: int) -> Path:
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=(300, 400))
    pdf.save(path)
    return path


@pytest.fixture
def uploaded(pdfco_mock: PdfbinderServer, tmp_path: Path) -> list[str]:
    """Two uploaded PDFs (2 + 1 pages) as the server's file URLs."""
    return [
        pdfco_mock.upload(make_pdf(tmp_path / "a.pdf", 2)),
        pdfco_mock.upload(make_pdf(tmp_path / "b.pdf", 1)),
    ]


def start_job(urls: list[str]) -> dict[str, Any]:
    response = requests.get(f"{API}/pdf/merge?async=True&name=out.pdf&url={','.join(urls)}")
    assert response.status_code == 200, response.text
    job: dict[str, Any] = response.json()
    return job


def poll(job_id: str, limit: int = 500) -> list[dict[str, Any]]:
    """Every /job/check answer up to and including the first that is not ``working``."""
    answers: list[dict[str, Any]] = []
    for _ in range(limit):
        response = requests.get(f"{API}/job/check?jobid={job_id}")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        answers.append(response.json())
        if answers[-1]["status"] != "working":
            return answers
        time.sleep(0.01)
    raise AssertionError(f"job {job_id} still working after {limit} polls")


def test_route_fails_next_n_calls_with_the_error_shape(
    pdfco_mock: PdfbinderServer, uploaded: list[str]
) -> None:
    pdfco_mock.fail_next("/pdf/merge", status=442, message="Input 2 is damaged.", times=2)

    url = f"{API}/pdf/merge?name=out.pdf&url={','.join(uploaded)}"
    first, second = requests.get(url), requests.post("https://api.pdf.co/pdf/merge")
    third = requests.get(url)

    for refused in (first, second):
        assert refused.status_code == 442
        assert refused.headers["content-type"] == "application/json"
        assert refused.json() == {"error": True, "status": 442, "message": "Input 2 is damaged."}
    assert third.status_code == 200
    assert third.json()["error"] is False and third.json()["pageCount"] == 3
    assert [r.status for r in pdfco_mock.requests_to("/pdf/merge")] == [442, 442, 200]


def test_route_failure_has_a_fitting_default_message(pdfco_mock: PdfbinderServer) -> None:
    pdfco_mock.fail_next("/file/upload/get-presigned-url", status=429)

    answer = requests.get(f"{API}/file/upload/get-presigned-url?name=a.pdf").json()

    assert answer["status"] == 429 and answer["error"] is True
    assert "Too many requests" in answer["message"]


def test_faults_do_not_leak_into_the_next_test(
    pdfco_mock: PdfbinderServer, uploaded: list[str]
) -> None:
    # The previous test's failures were consumed; this one sets a standing rule and leaves it.
    pdfco_mock.fail_next("/pdf/merge", status=500, times=None)
    assert requests.get(f"{API}/pdf/merge?url={uploaded[0]}").status_code == 500


def test_standing_rule_was_reset(pdfco_mock: PdfbinderServer, uploaded: list[str]) -> None:
    assert pdfco_mock.requests == []
    answer = requests.get(f"{API}/pdf/merge?name=out.pdf&url={uploaded[0]}").json()
    assert answer["status"] == 200 and answer["pageCount"] == 2


def test_job_stays_working_for_exactly_three_polls_then_succeeds(
    pdfco_mock: PdfbinderServer, uploaded: list[str]
) -> None:
    hold = pdfco_mock.hold_job(polls=3)
    job = start_job(uploaded)

    answers = poll(job["jobId"])

    assert hold.job_id == job["jobId"]
    assert [a["status"] for a in answers] == ["working"] * 3 + ["success"]
    assert answers[0] == {"status": "working", "jobId": job["jobId"], "remainingCredits": 1000000}
    done = answers[-1]
    assert done["pageCount"] == 3 and done["jobId"] == job["jobId"]
    download = requests.get(job["url"])
    assert download.status_code == 200
    assert download.content.startswith(b"%PDF-")


def test_job_stays_working_for_a_duration(pdfco_mock: PdfbinderServer, uploaded: list[str]) -> None:
    pdfco_mock.hold_job(seconds=0.5)
    started = time.monotonic()
    job = start_job(uploaded)

    answers = poll(job["jobId"])

    assert time.monotonic() - started >= 0.5
    assert answers[0]["status"] == "working" and answers[-1]["status"] == "success"


def test_failed_job_answers_like_the_cloud_and_its_link_is_dead(
    pdfco_mock: PdfbinderServer, uploaded: list[str]
) -> None:
    pdfco_mock.fail_job("Input 1 (a.pdf): the file is damaged.", after_polls=1)
    job = start_job(uploaded)

    answers = poll(job["jobId"])

    assert answers[0]["status"] == "working"
    assert answers[-1] == {
        "status": "failed",
        "message": "Input 1 (a.pdf): the file is damaged.",
        "jobId": job["jobId"],
        "error": True,
        "errorCode": 442,
    }
    dead = requests.get(job["url"])
    assert dead.status_code == 404 and dead.json()["status"] == 404


def test_aborted_job(pdfco_mock: PdfbinderServer, uploaded: list[str]) -> None:
    pdfco_mock.abort_job("Stopped.")
    job = start_job(uploaded)

    answers = poll(job["jobId"])

    assert len(answers) == 1
    assert answers[0] == {
        "status": "aborted",
        "message": "Stopped.",
        "jobId": job["jobId"],
        "error": True,
        "errorCode": 499,
    }


def test_fault_for_a_named_job_leaves_other_jobs_alone(
    pdfco_mock: PdfbinderServer, uploaded: list[str]
) -> None:
    first, second = start_job(uploaded), start_job(uploaded)
    pdfco_mock.fail_job("Boom.", job_id=second["jobId"])

    assert poll(first["jobId"])[-1]["status"] == "success"
    assert poll(second["jobId"])[-1]["status"] == "failed"


def test_one_download_link_expires(pdfco_mock: PdfbinderServer, uploaded: list[str]) -> None:
    pdfco_mock.expire_downloads(uploaded[0])

    expired, kept = requests.get(uploaded[0]), requests.get(uploaded[1])

    assert expired.status_code == 404
    assert expired.json()["error"] is True and expired.json()["status"] == 404
    assert kept.status_code == 200 and kept.content.startswith(b"%PDF-")


def test_every_download_link_expires(pdfco_mock: PdfbinderServer, uploaded: list[str]) -> None:
    job = start_job(uploaded)
    assert poll(job["jobId"])[-1]["status"] == "success"
    pdfco_mock.expire_downloads()

    assert requests.get(job["url"]).status_code == 404
    assert requests.get(uploaded[1]).status_code == 404
