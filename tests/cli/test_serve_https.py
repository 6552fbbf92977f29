"""``pdfbinder serve --https``: an unedited Cloud API Server sample, Node's ``https`` module and
cURL complete a merge against https://localhost:<port> with certificate verification on,
trusting only the CA through the lines the server printed, and fail without them."""

from __future__ import annotations

import json
import os
import queue
import re
import shlex
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pikepdf
import pytest
from cryptography import x509

from pdfbinder.compat.testing.tls import ensure_tls
from tests.support.compat import START_TIMEOUT
from tests.support.qpdf import qpdf_check
from tests.support.seeds import MERGE_SEED, run_seed, seed_code

_TRUST_LINE = re.compile(r"^export REQUESTS_CA_BUNDLE=\S+ SSL_CERT_FILE=\S+$")
_LAST_TRUST_LINE = "update-ca-certificates"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def https_serve(data_dir: Path) -> Iterator[tuple[int, list[str]]]:
    """``pdfbinder serve --https`` on ``data_dir``; yields (port, the printed trust lines)."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from pdfbinder.cli.app import main; main()",
            "serve",
            "--https",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    stdout = process.stdout
    assert stdout is not None  # stdout=PIPE

    def read() -> None:
        for line in stdout:
            lines.put(line)

    reader = threading.Thread(target=read)
    reader.daemon = True
    reader.start()
    try:
        output: list[str] = []
        printed, deadline = False, time.monotonic() + START_TIMEOUT
        while not printed or not _accepting(port):
            assert time.monotonic() < deadline, "server did not start:\n" + "".join(output)
            assert process.poll() is None, "server exited:\n" + "".join(output)
            try:
                output.append(lines.get(timeout=0.1))
            except queue.Empty:
                continue
            printed = printed or _LAST_TRUST_LINE in output[-1]
        yield port, [line.strip() for line in output]
    finally:
        process.terminate()
        process.wait(timeout=15)
        reader.join(timeout=15)  # the pipe ends with the process; then it can be closed
        stdout.close()


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[tuple[int, list[str], Path]]:
    """A fresh ``serve --https``; yields (port, the printed trust lines, data dir)."""
    data_dir = tmp_path / "data"
    with https_serve(data_dir) as (port, printed):
        yield port, printed, data_dir


def python_line(printed: list[str]) -> str:
    """The printed line for Python clients."""
    return next(line for line in printed if _TRUST_LINE.match(line))


def _accepting(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def make_pdf(path: Path, pages: int) -> None:
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=(200, 300))
    pdf.save(path)


def test_seed_merge_over_https_with_the_printed_trust_line(
    https_server: tuple[int, list[str], Path], tmp_path: Path
) -> None:
    port, printed, data_dir = https_server
    variables = dict(item.split("=", 1) for item in shlex.split(python_line(printed))[1:])
    assert variables["REQUESTS_CA_BUNDLE"] == variables["SSL_CERT_FILE"]
    assert Path(variables["SSL_CERT_FILE"]).parent == data_dir / "tls"
    work = tmp_path / "client"
    work.mkdir()
    # The sample opens ".\\sample1.pdf": on POSIX that is one file name, backslash included.
    make_pdf(work / ".\\sample1.pdf", 2)
    make_pdf(work / ".\\sample2.pdf", 1)

    result = run_seed(
        seed_code(MERGE_SEED, f"https://localhost:{port}"),
        work,
        env={**os.environ, **variables},
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "success" in result.stdout
    assert 'Result file saved as ".\\result.pdf" file.' in result.stdout
    merged = work / ".\\result.pdf"
    with pikepdf.open(merged) as pdf:
        assert [tuple(page.mediabox[2:]) for page in pdf.pages] == [(200, 300)] * 3
    qpdf_check(merged)


def test_without_the_trust_line_verification_refuses(
    https_server: tuple[int, list[str], Path], tmp_path: Path
) -> None:
    port, _, _ = https_server
    (tmp_path / ".\\sample1.pdf").write_bytes(b"%PDF-1.4")

    result = run_seed(
        seed_code(MERGE_SEED, f"https://localhost:{port}"),
        tmp_path,
        env=dict(os.environ),
        check=False,
    )

    assert result.returncode != 0
    assert "CERTIFICATE_VERIFY_FAILED" in result.stderr


def test_server_certificate_from_an_older_ca_is_reissued(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    files = ensure_tls(data_dir)
    newer = ensure_tls(tmp_path / "newer")
    # The CA was replaced (restored from elsewhere, or renewed by another run) while the
    # server certificate issued by the old one stayed behind.
    shutil.copyfile(newer.ca_cert, files.ca_cert)
    shutil.copyfile(newer.ca_key, files.ca_key)
    stale = files.server_cert.read_bytes()

    with https_serve(data_dir) as (port, printed):
        client = httpx.Client(
            verify=ssl.create_default_context(cafile=str(files.ca_cert)), trust_env=False
        )
        with client:
            assert client.get(f"https://localhost:{port}/health").status_code == 200

    assert f"SSL_CERT_FILE={files.ca_cert}" in python_line(printed)
    assert files.ca_cert.read_bytes() == newer.ca_cert.read_bytes()
    assert files.server_cert.read_bytes() != stale
    leaf = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
    leaf.verify_directly_issued_by(x509.load_pem_x509_certificate(newer.ca_cert.read_bytes()))


def exported(printed: list[str], name: str) -> dict[str, str]:
    """The variable a printed ``export NAME=...`` line sets, exactly as a shell would."""
    (line,) = [line for line in printed if line.startswith(f"export {name}=")]
    return dict(item.split("=", 1) for item in shlex.split(line)[1:])


def client_env(**extra: str) -> dict[str, str]:
    """This environment without any CA setting of ours, plus ``extra``."""
    ours = {"REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS", "CURL_CA_BUNDLE"}
    return {**{k: v for k, v in os.environ.items() if k not in ours}, **extra}


_NODE_CLIENT = r"""
const https = require("https");
const fs = require("fs");
const base = process.argv[2];
function call(method, path, body) {
  return new Promise((resolve, reject) => {
    const request = https.request(base + path, { method, headers: body ?
        { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) } : {} },
      (response) => {
        const chunks = [];
        response.on("data", (chunk) => chunks.push(chunk));
        response.on("end", () => resolve(Buffer.concat(chunks)));
      });
    request.on("error", reject);
    if (body) request.write(body);
    request.end();
  });
}
(async () => {
  const file = fs.readFileSync(process.argv[3]).toString("base64");
  const upload = JSON.parse(await call("POST", "/file/upload/base64",
    JSON.stringify({ file, name: "node.pdf" })));
  const merged = JSON.parse(await call("POST", "/pdf/merge",
    JSON.stringify({ url: upload.url + "," + upload.url, name: "node-result.pdf" })));
  if (merged.error !== false) throw new Error(JSON.stringify(merged));
  fs.writeFileSync(process.argv[4], await call("GET", new URL(merged.url).pathname));
  console.log("pages " + merged.pageCount);
})().catch((error) => { console.error(error.code || "", error.message); process.exit(1); });
"""


def run_node(tmp_path: Path, port: int, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node, "node is not installed (.ci/run installs nodejs)"
    script = tmp_path / "client.js"
    script.write_text(_NODE_CLIENT, encoding="utf-8")
    make_pdf(tmp_path / "in.pdf", 2)
    return subprocess.run(
        [node, str(script), f"https://localhost:{port}", "in.pdf", "out.pdf"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_node_https_trusts_the_server_with_the_printed_line(
    https_server: tuple[int, list[str], Path], tmp_path: Path
) -> None:
    port, printed, _ = https_server
    result = run_node(tmp_path, port, client_env(**exported(printed, "NODE_EXTRA_CA_CERTS")))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "pages 4"
    with pikepdf.open(tmp_path / "out.pdf") as pdf:
        assert len(pdf.pages) == 4


def test_node_https_refuses_without_the_line(
    https_server: tuple[int, list[str], Path], tmp_path: Path
) -> None:
    port, _, _ = https_server
    result = run_node(tmp_path, port, client_env())
    assert result.returncode == 1
    assert "UNABLE_TO_VERIFY_LEAF_SIGNATURE" in result.stderr or "issuer" in result.stderr


def run_curl(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    curl = shutil.which("curl")
    assert curl, "curl is not installed"
    return subprocess.run(
        [curl, "--silent", "--show-error", "--fail", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_curl_trusts_the_server_with_the_printed_line_or_cacert(
    https_server: tuple[int, list[str], Path], tmp_path: Path
) -> None:
    port, printed, _ = https_server
    base = f"https://localhost:{port}"
    make_pdf(tmp_path / "in.pdf", 3)
    env = client_env(**exported(printed, "CURL_CA_BUNDLE"))
    upload = run_curl([f"{base}/file/upload", "--form", "file=@in.pdf"], env, tmp_path)
    assert upload.returncode == 0, upload.stderr
    url = json.loads(upload.stdout)["url"]
    merged = run_curl([f"{base}/pdf/merge", "--data", f"url={url}"], env, tmp_path)
    assert merged.returncode == 0, merged.stderr
    result_url = json.loads(merged.stdout)["url"]
    ca = exported(printed, "CURL_CA_BUNDLE")["CURL_CA_BUNDLE"]
    download = run_curl(["--cacert", ca, "-o", "out.pdf", result_url], client_env(), tmp_path)
    assert download.returncode == 0, download.stderr
    with pikepdf.open(tmp_path / "out.pdf") as pdf:
        assert len(pdf.pages) == 3


def test_curl_refuses_without_the_ca(
    https_server: tuple[int, list[str], Path], tmp_path: Path
) -> None:
    port, _, _ = https_server
    result = run_curl([f"https://localhost:{port}/health"], client_env(), tmp_path)
    assert result.returncode == 60  # peer certificate cannot be authenticated
