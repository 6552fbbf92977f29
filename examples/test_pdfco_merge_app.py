"""Testing a PDF.co client offline with pdfbinder — a runnable example.

Run it with ``pytest examples/test_pdfco_merge_app.py`` (no conftest needed: installing
pdfbinder registers the ``pdfbinder_server`` and ``pdfco_mock`` fixtures). The two applications
under test, ``pdfco_merge_app`` (requests) and ``pdfco_merge_async_app`` (httpx.AsyncClient),
hard-code ``https://api.pdf.co/v1`` and are not edited: ``pdfco_mock`` routes their calls to a
real local pdfbinder server, which can also inject the failures the cloud produces.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import unittest
from pathlib import Path

import pdfco_merge_app as app
import pdfco_merge_async_app as async_app
import pikepdf
import pytest

from pdfbinder.compat.testing import mock_pdfco

A4 = (595, 842)
LETTER = (612, 792)


@pytest.fixture(autouse=True)
def fast_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    """The apps wait 3 s between polls, as the vendor samples do; tests need not."""
    monkeypatch.setattr(app, "POLL_INTERVAL", 0.01)
    monkeypatch.setattr(async_app, "POLL_INTERVAL", 0.01)


def make_pdf(path: Path, pages: int, size: tuple[int, int]) -> Path:
    """A real PDF with ``pages`` blank pages of ``size`` points."""
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=size)
    pdf.save(path)
    return path


def page_sizes(path: Path) -> list[tuple[int, int]]:
    with pikepdf.open(path) as pdf:
        return [(int(page.mediabox[2]), int(page.mediabox[3])) for page in pdf.pages]


@pytest.fixture
def two_pdfs(tmp_path: Path) -> list[Path]:
    return [make_pdf(tmp_path / "a.pdf", 2, A4), make_pdf(tmp_path / "b.pdf", 1, LETTER)]


# -- 1. the code under test runs unchanged -------------------------------------------------


def test_requests_app_merges_offline(pdfco_mock, two_pdfs, tmp_path):
    result = app.merge_files(two_pdfs, tmp_path / "merged.pdf")

    assert page_sizes(result) == [A4, A4, LETTER]
    # What the app sent, as the server received it: the raw, unencoded URL list included.
    merge = pdfco_mock.requests_to("/pdf/merge")[0]
    assert merge.path == "/v1/pdf/merge"
    assert merge.params["url"].count("https://api.pdf.co/files/") == 2
    assert [job.route for job in pdfco_mock.jobs] == ["/pdf/merge"]


def test_httpx_async_app_merges_offline(pdfco_mock, two_pdfs, tmp_path):
    result = asyncio.run(async_app.merge_files(two_pdfs, tmp_path / "merged.pdf"))

    assert page_sizes(result) == [A4, A4, LETTER]
    assert len(pdfco_mock.requests_to("/file/upload/get-presigned-url")) == 2


def test_remote_source_urls_come_from_the_url_map(pdfco_mock, two_pdfs, tmp_path):
    remote = "https://example.com/reports/cover.pdf"
    pdfco_mock.map_url(remote, make_pdf(tmp_path / "cover.pdf", 1, LETTER))

    result = app.merge_files([remote, two_pdfs[0]], tmp_path / "merged.pdf")

    assert page_sizes(result) == [LETTER, A4, A4]


def test_pre_loaded_files_are_usable_by_url(pdfco_mock, two_pdfs, tmp_path):
    urls = [pdfco_mock.upload(path) for path in two_pdfs]

    job = app.start_merge(urls, "merged.pdf")
    app.wait_for_job(job["jobId"])

    assert page_sizes(app.download(job["url"], tmp_path / "merged.pdf")) == [A4, A4, LETTER]


# -- 2. fault and timing injection ---------------------------------------------------------


def test_a_442_error_reaches_the_app_as_the_cloud_sends_it(pdfco_mock, two_pdfs, tmp_path):
    pdfco_mock.fail_next("/pdf/merge", status=442, message="Input 2 (b.pdf): damaged file.")

    with pytest.raises(app.PdfcoError) as refused:
        app.merge_files(two_pdfs, tmp_path / "merged.pdf")

    assert (refused.value.status, refused.value.message) == (442, "Input 2 (b.pdf): damaged file.")
    # Only the next call failed: a retry goes through.
    assert page_sizes(app.merge_files(two_pdfs, tmp_path / "merged.pdf")) == [A4, A4, LETTER]


def test_a_job_working_for_three_polls_then_succeeding(pdfco_mock, two_pdfs, tmp_path):
    pdfco_mock.hold_job(polls=3)

    result = app.merge_files(two_pdfs, tmp_path / "merged.pdf")

    statuses = [request.status for request in pdfco_mock.requests_to("/job/check")]
    assert len(statuses) == 4  # three "working" answers, then "success"
    assert page_sizes(result) == [A4, A4, LETTER]


def test_a_failed_job(pdfco_mock, two_pdfs, tmp_path):
    pdfco_mock.fail_job("Input 1 (a.pdf): the file is damaged.")

    with pytest.raises(app.PdfcoError) as failed:
        app.merge_files(two_pdfs, tmp_path / "merged.pdf")

    assert (failed.value.status, failed.value.message) == (
        "failed",
        "Input 1 (a.pdf): the file is damaged.",
    )
    assert not (tmp_path / "merged.pdf").exists()


def test_an_aborted_job_in_the_async_app(pdfco_mock, two_pdfs, tmp_path):
    pdfco_mock.abort_job("Cancelled by the operator.", after_polls=1)

    with pytest.raises(async_app.PdfcoError) as aborted:
        asyncio.run(async_app.merge_files(two_pdfs, tmp_path / "merged.pdf"))

    assert aborted.value.status == "aborted"


def test_an_expired_download_link(pdfco_mock, two_pdfs, tmp_path):
    pdfco_mock.expire_downloads()

    with pytest.raises(app.PdfcoError) as expired:
        app.merge_files(two_pdfs, tmp_path / "merged.pdf")

    assert expired.value.status == 404
    assert not (tmp_path / "merged.pdf").exists()


# -- 3. the same without pytest fixtures: unittest ------------------------------------------


class MergeAppTest(unittest.TestCase):
    """unittest style: ``mock_pdfco()`` as a decorator, or as a context manager for faults."""

    def setUp(self) -> None:
        self.folder = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.folder)
        self.pdfs = [make_pdf(self.folder / "a.pdf", 2, A4), make_pdf(self.folder / "b.pdf", 1, A4)]
        self.addCleanup(setattr, app, "POLL_INTERVAL", app.POLL_INTERVAL)
        app.POLL_INTERVAL = 0.01

    @mock_pdfco()
    def test_merge(self) -> None:
        result = app.merge_files(self.pdfs, self.folder / "merged.pdf")
        self.assertEqual(page_sizes(result), [A4, A4, A4])

    def test_rate_limited(self) -> None:
        with mock_pdfco() as server:
            server.fail_next("/file/upload/get-presigned-url", status=429)
            with self.assertRaises(app.PdfcoError) as refused:
                app.merge_files(self.pdfs, self.folder / "merged.pdf")
        self.assertEqual(refused.exception.status, 429)
