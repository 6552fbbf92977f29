"""Office documents through ``/pdf/merge2``, against ``pdfbinder serve`` run as a real process.

LibreOffice is the real one; every request goes over loopback HTTP. The
server of most tests is started with nothing but its data directory (and a
port), as a new user would start it.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.compat import ServeProcess, assert_error, make_pdf, poll_job
from tests.support.office import (
    encrypt_docx,
    make_docx,
    make_pptx,
    make_rtf,
    make_xlsx,
    odt_paragraphs,
    page_texts,
    soffice_pids,
    zip_of,
)
from tests.support.seeds import MERGE_SEED, run_seed, seed_code

_JOB_TIMEOUT = 240.0  # a cold LibreOffice on a busy two-core machine takes its time


@pytest.fixture(scope="module")
def office_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    with ServeProcess(tmp_path_factory.mktemp("office") / "data") as process:
        yield process


def _upload(base: str, name: str, data: bytes) -> str:
    response = httpx.post(f"{base}/file/upload", files={"file": (name, data)}, timeout=60)
    assert response.status_code == 200, response.text
    return str(response.json()["url"])


def _merge2(base: str, urls: list[str], **params: Any) -> httpx.Response:
    return httpx.post(
        f"{base}/pdf/merge2",
        json={"url": ",".join(urls), "name": "merged.pdf", **params},
        timeout=_JOB_TIMEOUT,
    )


def _result(response: httpx.Response) -> bytes:
    assert response.status_code == 200, response.text
    return httpx.get(response.json()["url"], timeout=60).content


def test_seed_style_client_merges_an_uploaded_pdf_and_docx(
    office_server: ServeProcess, tmp_path: Path
) -> None:
    """The vendor's upload-and-merge sample, pointed at merge2 with a .docx, as PDF.co's own
    merge2 sample does: presigned PUTs, an async job, polling, the download."""
    code = seed_code(MERGE_SEED, office_server.url)
    code = code.replace('SourceFile_2 = ".\\\\sample2.pdf"', 'SourceFile_2 = ".\\\\sample2.docx"')
    code = code.replace("{}/pdf/merge?async", "{}/pdf/merge2?async")
    assert "sample2.docx" in code and "/pdf/merge2?" in code
    (tmp_path / ".\\sample1.pdf").write_bytes(make_pdf(2, width=200, height=100))
    (tmp_path / ".\\sample2.docx").write_bytes(
        make_docx([("Quarterly letter", "Dear reader, the numbers are in.")])
    )
    output = run_seed(code, tmp_path, timeout=_JOB_TIMEOUT).stdout
    assert 'Result file saved as ".\\result.pdf" file.' in output, output
    texts = page_texts(tmp_path / ".\\result.pdf")
    assert len(texts) == 3
    assert texts[2] == "Quarterly letter Dear reader, the numbers are in."


def test_each_kind_of_document_gives_its_pages_and_text(office_server: ServeProcess) -> None:
    documents = [
        ("letter.docx", make_docx([("Word heading", "Word body.")]), ["Word heading Word body."]),
        (
            "sheet.xlsx",
            make_xlsx({"One": [["Cell one"]], "Two": [["Cell two"]]}),
            ["Cell one", "Cell two"],
        ),
        ("deck.pptx", make_pptx(["Slide A", "Slide B"]), ["Slide A", "Slide B"]),
        ("notes.odt", odt_paragraphs("OpenDocument text"), ["OpenDocument text"]),
        ("memo.rtf", make_rtf("Rich text memo"), ["Rich text memo"]),
        ("readme.txt", "Plain text, ünïcode\n".encode(), ["Plain text, ünïcode"]),
    ]
    base = office_server.url
    urls = [_upload(base, name, data) for name, data, _ in documents]
    response = _merge2(base, urls)
    assert response.json()["pageCount"] == 8
    assert page_texts(_result(response)) == [text for _, _, texts in documents for text in texts]


def test_documents_inside_an_uploaded_zip(office_server: ServeProcess) -> None:
    bundle = zip_of(
        {"1.docx": make_docx([("Zipped", "Word")]), "2.csv": b"zipped,csv\n", "3.pdf": make_pdf(1)}
    )
    response = _merge2(office_server.url, [_upload(office_server.url, "bundle.zip", bundle)])
    texts = page_texts(_result(response))
    assert texts[0] == "Zipped Word" and "zipped csv" in texts[1] and len(texts) == 3


def test_a_damaged_docx_is_442_naming_it_and_the_server_goes_on(
    office_server: ServeProcess,
) -> None:
    base = office_server.url
    docx = make_docx([("Whole", "document")])
    cut = _upload(base, "cut.docx", docx[: len(docx) // 2])
    body = assert_error(_merge2(base, [_upload(base, "intro.pdf", make_pdf(1)), cut]), 442)
    assert body["message"].startswith("input 2 (cut.docx): is damaged: not a readable DOCX file")
    garbled = _upload(base, "garbled.docx", zip_of({"[Content_Types].xml": b"<Types/>"}))
    body = assert_error(_merge2(base, [garbled]), 442)
    assert body["message"] == (
        "input 1 (garbled.docx): cannot be read by LibreOffice; it is damaged or not what it seems"
    )
    assert page_texts(_result(_merge2(base, [_upload(base, "whole.docx", docx)]))) == [
        "Whole document"
    ]


def test_a_password_protected_docx_is_441(office_server: ServeProcess) -> None:
    base = office_server.url
    locked = _upload(base, "locked.docx", encrypt_docx(make_docx([("Secret", "text")]), "pw"))
    body = assert_error(_merge2(base, [locked]), 441)
    assert body["message"] == "input 1 (locked.docx): is password-protected; a password is required"
    assert page_texts(_result(_merge2(base, [locked], password="pw"))) == ["Secret text"]


def test_four_conversions_at_once_all_succeed(office_server: ServeProcess) -> None:
    base = office_server.url
    urls = [
        _upload(base, f"doc{n}.docx", make_docx([(f"Document {n}", f"body {n}")])) for n in range(4)
    ]
    results: dict[int, list[str]] = {}
    errors: list[BaseException] = []

    def convert(number: int) -> None:
        try:
            results[number] = page_texts(_result(_merge2(base, [urls[number]])))
        except BaseException as error:  # collected, re-raised by the test thread
            errors.append(error)

    threads = [threading.Thread(target=convert, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert results == {n: [f"Document {n} body {n}"] for n in range(4)}


def test_a_hung_conversion_fails_its_job_and_libreoffice_is_restarted(tmp_path: Path) -> None:
    """SIGSTOP freezes the server's only LibreOffice, so the job cannot finish in time: the
    outcome does not depend on how fast this machine is."""
    with ServeProcess(
        tmp_path / "data", "--office-processes", "1", "--office-timeout", "30"
    ) as server:
        base = server.url
        warm = _upload(base, "warm.docx", make_docx([("Warm", "up")]))
        assert page_texts(_result(_merge2(base, [warm]))) == ["Warm up"]
        (frozen,) = soffice_pids(server.pid)
        os.kill(frozen, signal.SIGSTOP)
        try:
            job = _merge2(
                base, [_upload(base, "stuck.docx", make_docx([("Stuck", "")]))], **{"async": True}
            )
            outcome = poll_job(base, job.json()["jobId"], timeout=_JOB_TIMEOUT)
        finally:
            if Path(f"/proc/{frozen}").exists():
                os.kill(frozen, signal.SIGCONT)
        assert outcome["status"] == "failed"
        assert outcome["errorCode"] == 442
        assert outcome["message"] == (
            "input 1 (stuck.docx): took longer than the 30 s conversion limit; "
            "LibreOffice was stopped and restarted"
        )
        assert page_texts(_result(_merge2(base, [warm]))) == ["Warm up"]
        (replacement,) = soffice_pids(server.pid)
        assert replacement != frozen and not Path(f"/proc/{frozen}").exists()
    assert soffice_pids(server.pid) == set()


def test_without_soffice_on_path_merge2_answers_442_with_the_fix(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    with ServeProcess(tmp_path / "data", env={"PATH": str(empty)}) as server:
        base = server.url
        body = assert_error(
            _merge2(
                base,
                [
                    _upload(base, "intro.pdf", make_pdf(1)),
                    _upload(base, "letter.docx", make_docx([("a", "b")])),
                ],
            ),
            442,
        )
        assert body["message"] == (
            "input 2 (letter.docx): cannot be converted: LibreOffice is not installed (no soffice "
            "on PATH); to enable Office documents: apt install libreoffice-writer-nogui "
            "libreoffice-calc-nogui libreoffice-impress-nogui python3-uno (or give soffice's path "
            "with --soffice or PDFBINDER_SOFFICE)"
        )
        assert _result(_merge2(base, [_upload(base, "only.pdf", make_pdf(2))]))  # PDFs still merge
    assert "Office documents: cannot be converted: LibreOffice is not installed" in server.log()


def test_serve_says_at_start_that_office_documents_are_converted(
    office_server: ServeProcess,
) -> None:
    deadline = time.monotonic() + 10
    while "Office documents" not in office_server.log() and time.monotonic() < deadline:
        time.sleep(0.1)
    line = next(line for line in office_server.log().splitlines() if "Office documents" in line)
    assert line.startswith(
        "Office documents (doc, docx, odt, rtf, txt, xls, xlsx, ods, csv, ppt, pptx, odp): "
        "converted by LibreOffice"
    )
