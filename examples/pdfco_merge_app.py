"""A small application that merges PDFs with the PDF.co Web API.

It is written the way the vendor's Python samples are (``requests``, presigned upload, async job,
``/job/check`` polling, bare ``GET`` of the result) and knows nothing about pdfbinder: its tests
in ``test_pdfco_merge_app.py`` run it unchanged, offline, against a local pdfbinder server.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import requests

BASE_URL = "https://api.pdf.co/v1"
API_KEY = os.environ.get("PDFCO_API_KEY", "")
POLL_INTERVAL = 3.0  # seconds between /job/check calls, as in the vendor samples


class PdfcoError(Exception):
    """PDF.co refused a request or a job did not succeed; ``status`` is what it said."""

    def __init__(self, status: int | str, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


def _headers() -> dict[str, str]:
    return {"x-api-key": API_KEY}


def _answer(response: requests.Response) -> dict:
    """The JSON answer, or :class:`PdfcoError` with PDF.co's own status and message."""
    answer = response.json()
    if response.status_code != 200 or answer.get("error"):
        raise PdfcoError(answer.get("status", response.status_code), answer.get("message", ""))
    return answer


def upload_file(path: Path) -> str:
    """Upload ``path`` through a presigned URL; return the URL PDF.co knows it by."""
    answer = _answer(
        requests.get(
            f"{BASE_URL}/file/upload/get-presigned-url",
            params={"contenttype": "application/octet-stream", "name": path.name},
            headers=_headers(),
        )
    )
    with open(path, "rb") as file:
        put = requests.put(
            answer["presignedUrl"], data=file, headers={"content-type": "application/octet-stream"}
        )
    put.raise_for_status()
    return answer["url"]


def start_merge(urls: list[str], name: str) -> dict:
    """Start an async merge of ``urls``; return the answer (``jobId`` and the future ``url``).

    Like the vendor samples, the source URLs go raw (not percent-encoded) into the query.
    """
    url = f"{BASE_URL}/pdf/merge?async=True&name={name}&url={','.join(urls)}"
    return _answer(requests.get(url, headers=_headers()))


def wait_for_job(job_id: str) -> dict:
    """Poll ``/job/check`` while the job is ``working``; return the final answer."""
    while True:
        answer = requests.get(
            f"{BASE_URL}/job/check", params={"jobid": job_id}, headers=_headers()
        ).json()
        if answer["status"] != "working":
            break
        time.sleep(POLL_INTERVAL)
    if answer["status"] != "success":
        raise PdfcoError(answer["status"], answer.get("message", ""))
    return answer


def download(url: str, destination: Path) -> Path:
    """Save the file at ``url`` (a bare GET, no API key, as the samples do)."""
    response = requests.get(url, stream=True)
    if response.status_code != 200:
        raise PdfcoError(response.status_code, response.json().get("message", ""))
    with open(destination, "wb") as file:
        for chunk in response.iter_content(64 * 1024):
            file.write(chunk)
    return destination


def merge_files(sources: list[Path | str], destination: Path) -> Path:
    """Merge local PDFs (uploaded first) and remote PDF URLs, in order, into ``destination``."""
    urls = [
        str(item) if str(item).startswith("http") else upload_file(Path(item)) for item in sources
    ]
    job = start_merge(urls, destination.name)
    wait_for_job(job["jobId"])
    return download(job["url"], destination)
