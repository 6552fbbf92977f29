"""Office documents through ``/pdf/merge2``, against ``pdfbinder serve`` run as a real process.

LibreOffice is the real one; every request goes over loopback HTTP. The
server of most tests is started with nothing but its data directory (and a
port), as a new user would start it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests

from tests.support.compat import ServeProcess, assert_error, make_pdf, poll_job
from tests.support.office import (
    encrypt_docx,
    make_docx,
    make_pptx,
    make_rtf,
    make_xlsx,
    odt_paragraphs,
    page_texts,
    process_ended,
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


def _vendor_style_upload(base: str, path: Path) -> str:
    """A presigned upload as the vendor's samples write it: the name unencoded in the query,
    an API key header a local server ignores, the raw file PUT as octet-stream."""
    answer = requests.get(
        f"{base}/file/upload/get-presigned-url?contenttype=application/octet-stream"
        f"&name={os.path.basename(path)}",
        headers={"x-api-key": "any key"},
        timeout=60,
    ).json()
    assert answer["error"] is False, answer
    with open(path, "rb") as handle:
        put = requests.put(
            answer["presignedUrl"],
            data=handle,
            headers={"x-api-key": "any key", "content-type": "application/octet-stream"},
            timeout=60,
        )
    assert put.status_code == 200
    return str(answer["url"])


def _sample_inputs(folder: Path) -> tuple[Path, Path]:
    """The merge2 sample's two inputs: a 2-page ``sample1.pdf`` and a ``sample.docx``."""
    pdf, docx = folder / "sample1.pdf", folder / "sample.docx"
    pdf.write_bytes(make_pdf(2, width=200, height=100))
    docx.write_bytes(make_docx([("Sample document", "Converted by LibreOffice.")]))
    return pdf, docx


def test_a_python_client_written_like_the_vendors_merge2_sample(
    office_server: ServeProcess, tmp_path: Path
) -> None:
    """Form-posted parameters (``requests.post(url, data=...)``: ``async`` arrives as "True"),
    the ``/v1`` base, a ``.\\result.pdf`` name, ``/job/check`` polled by GET, then a GET of
    the result: the steps of the vendor's published "merge any documents" Python sample."""
    base = f"{office_server.url}/v1"
    urls = [_vendor_style_upload(base, path) for path in _sample_inputs(tmp_path)]
    started = requests.post(
        f"{base}/pdf/merge2",
        data={"async": True, "name": os.path.basename(".\\result.pdf"), "url": ",".join(urls)},
        headers={"x-api-key": "any key"},
        timeout=60,
    ).json()
    assert started["error"] is False and started["name"] == "result.pdf", started
    deadline = time.monotonic() + _JOB_TIMEOUT
    while (status := _check(base, started["jobId"])) == "working":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert status == "success"
    result = requests.get(started["url"], stream=True, timeout=60)
    assert result.status_code == 200
    texts = page_texts(b"".join(result.iter_content(64 * 1024)))
    assert texts[2:] == ["Sample document Converted by LibreOffice."] and len(texts) == 3


def _check(base: str, job_id: str) -> str:
    answer = requests.get(f"{base}/job/check?jobid={job_id}", timeout=60)
    assert answer.status_code == 200
    return str(answer.json()["status"])


_NODE_MERGE2_CLIENT = r"""
// The vendor's Node.js "merge any documents" async sample's requests, on Node's http module.
const http = require("http");
const fs = require("fs");
const path = require("path");
const [base, first, second, output] = process.argv.slice(2);

function call(method, route, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const request = http.request(new URL(route, base), { method, headers }, (response) => {
      const chunks = [];
      response.on("data", (chunk) => chunks.push(chunk));
      response.on("end", () =>
        resolve({ status: response.statusCode, body: Buffer.concat(chunks) }));
    });
    request.on("error", reject);
    if (body !== undefined) request.write(body);
    request.end();
  });
}

async function upload(file) {
  const query = "/v1/file/upload/get-presigned-url?contenttype=application/octet-stream"
    + `&name=${path.basename(file)}`;
  const presigned = await call("GET", encodeURI(query), undefined, { "x-api-key": "k" });
  const answer = JSON.parse(presigned.body);
  if (answer.error !== false) throw new Error(answer.message);
  const put = await call("PUT", answer.presignedUrl, fs.readFileSync(file),
    { "Content-Type": "application/octet-stream" });
  if (put.status !== 200) throw new Error(`PUT ${put.status}`);
  return answer.url;
}

function json(payload) {
  const length = Buffer.byteLength(payload, "utf8");
  return { "x-api-key": "k", "Content-Type": "application/json", "Content-Length": length };
}

(async () => {
  const urls = [await upload(first), await upload(second)];
  const payload = JSON.stringify({ name: path.basename(output), url: urls.join(","), async: true });
  const job = JSON.parse((await call("POST", "/v1/pdf/merge2", payload, json(payload))).body);
  if (job.error !== false) throw new Error(job.message);
  for (;;) {
    const check = JSON.stringify({ jobid: job.jobId });
    const state = JSON.parse((await call("POST", "/v1/job/check", check, json(check))).body);
    if (state.status === "success") break;
    if (state.status !== "working") throw new Error(JSON.stringify(state));
    await new Promise((done) => setTimeout(done, 200));
  }
  fs.writeFileSync(output, (await call("GET", job.url)).body);
  console.log(`Job #${job.jobId} done`);
})().catch((error) => { console.error(error.message); process.exit(1); });
"""


def test_a_node_client_written_like_the_vendors_merge2_sample(
    office_server: ServeProcess, tmp_path: Path
) -> None:
    """JSON bodies with a Content-Length, ``/job/check`` polled by a JSON POST."""
    node = shutil.which("node")
    assert node, "node is not installed (.ci/run installs nodejs)"
    script = tmp_path / "app.js"
    script.write_text(_NODE_MERGE2_CLIENT, encoding="utf-8")
    pdf, docx = _sample_inputs(tmp_path)
    done = subprocess.run(
        [node, str(script), office_server.url, str(pdf), str(docx), str(tmp_path / "result.pdf")],
        capture_output=True,
        text=True,
        timeout=_JOB_TIMEOUT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    texts = page_texts(tmp_path / "result.pdf")
    assert texts[2:] == ["Sample document Converted by LibreOffice."] and len(texts) == 3


def test_the_vendors_curl_merge2_sample_shape(office_server: ServeProcess, tmp_path: Path) -> None:
    """``curl --form url=a,b --form name=result.pdf``: multipart text fields, a sync answer."""
    curl = shutil.which("curl")
    assert curl, "curl is not installed (.ci/run installs it)"
    urls = [_vendor_style_upload(office_server.url, path) for path in _sample_inputs(tmp_path)]
    done = subprocess.run(
        [
            curl,
            "--silent",
            "--show-error",
            "--location",
            "--request",
            "POST",
            f"{office_server.url}/v1/pdf/merge2",
            "--header",
            "x-api-key: any key",
            "--form",
            f"url={','.join(urls)}",
            "--form",
            "name=result.pdf",
        ],
        capture_output=True,
        text=True,
        timeout=_JOB_TIMEOUT,
    )
    answer = json.loads(done.stdout)
    assert answer["error"] is False and answer["pageCount"] == 3, answer
    assert page_texts(httpx.get(answer["url"], timeout=60).content)[2] == (
        "Sample document Converted by LibreOffice."
    )


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
        assert replacement != frozen and process_ended(frozen)
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
