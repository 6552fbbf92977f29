"""The merge application of ``pdfco_merge_app.py``, written with ``httpx.AsyncClient``.

Same PDF.co flow (presigned upload, async merge, ``/job/check`` polling, download), but with JSON
POST bodies and ``asyncio`` — the shape of a modern async service. It knows nothing about
pdfbinder either.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import httpx

BASE_URL = "https://api.pdf.co/v1"
API_KEY = os.environ.get("PDFCO_API_KEY", "")
POLL_INTERVAL = 3.0  # seconds between /job/check calls


class PdfcoError(Exception):
    """PDF.co refused a request or a job did not succeed; ``status`` is what it said."""

    def __init__(self, status: int | str, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


def _answer(response: httpx.Response) -> dict:
    answer = response.json()
    if response.status_code != 200 or answer.get("error"):
        raise PdfcoError(answer.get("status", response.status_code), answer.get("message", ""))
    return answer


class PdfcoClient:
    """An async PDF.co client over one ``httpx.AsyncClient``."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.headers = {"x-api-key": API_KEY}

    async def upload_file(self, path: Path) -> str:
        """Upload ``path`` through a presigned URL; return the URL PDF.co knows it by."""
        answer = _answer(
            await self.http.get(
                f"{BASE_URL}/file/upload/get-presigned-url",
                params={"contenttype": "application/pdf", "name": path.name},
                headers=self.headers,
            )
        )
        put = await self.http.put(answer["presignedUrl"], content=path.read_bytes())
        put.raise_for_status()
        return answer["url"]

    async def merge(self, urls: list[str], name: str) -> dict:
        """Run an async merge job to its end; return the final ``/job/check`` answer."""
        job = _answer(
            await self.http.post(
                f"{BASE_URL}/pdf/merge",
                json={"url": ",".join(urls), "name": name, "async": True},
                headers=self.headers,
            )
        )
        while True:
            check = await self.http.post(
                f"{BASE_URL}/job/check", json={"jobId": job["jobId"]}, headers=self.headers
            )
            status = check.json()
            if status["status"] != "working":
                break
            await asyncio.sleep(POLL_INTERVAL)
        if status["status"] != "success":
            raise PdfcoError(status["status"], status.get("message", ""))
        return {**status, "url": job["url"]}

    async def download(self, url: str, destination: Path) -> Path:
        """Save the file at ``url`` (streamed; no API key needed)."""
        async with self.http.stream("GET", url) as response:
            if response.status_code != 200:
                await response.aread()
                raise PdfcoError(response.status_code, response.json().get("message", ""))
            with open(destination, "wb") as file:
                async for chunk in response.aiter_bytes():
                    file.write(chunk)
        return destination


async def merge_files(paths: list[Path], destination: Path) -> Path:
    """Upload ``paths`` concurrently, merge them in order, save the result to ``destination``."""
    async with httpx.AsyncClient(timeout=60) as http:
        client = PdfcoClient(http)
        urls = await asyncio.gather(*(client.upload_file(path) for path in paths))
        result = await client.merge(list(urls), destination.name)
        return await client.download(result["url"], destination)
