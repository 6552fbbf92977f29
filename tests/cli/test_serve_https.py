"""``pdfbinder serve --https``: an unedited Cloud API Server sample completes an async merge
against https://localhost:<port> with certificate verification on, trusting only the CA the
server printed."""

from __future__ import annotations

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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def https_serve(data_dir: Path) -> Iterator[tuple[int, str]]:
    """``pdfbinder serve --https`` on ``data_dir``; yields (port, the printed trust line)."""
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
    reader = threading.Thread(target=lambda: [lines.put(line) for line in process.stdout])
    reader.daemon = True
    reader.start()
    try:
        trust, output, deadline = None, [], time.monotonic() + START_TIMEOUT
        while trust is None or not _accepting(port):
            assert time.monotonic() < deadline, "server did not start:\n" + "".join(output)
            assert process.poll() is None, "server exited:\n" + "".join(output)
            try:
                output.append(lines.get(timeout=0.1))
            except queue.Empty:
                continue
            if _TRUST_LINE.match(output[-1].strip()):
                trust = output[-1].strip()
        yield port, trust
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[tuple[int, str, Path]]:
    """A fresh ``serve --https``; yields (port, the printed trust line, data dir)."""
    data_dir = tmp_path / "data"
    with https_serve(data_dir) as (port, trust):
        yield port, trust, data_dir


def _accepting(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def make_pdf(path: Path, pages: int) -> None:
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=(200, 300))
    pdf.save(path)


def test_seed_merge_over_https_with_the_printed_trust_line(https_server, tmp_path):
    port, trust, data_dir = https_server
    variables = dict(item.split("=", 1) for item in shlex.split(trust)[1:])
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


def test_without_the_trust_line_verification_refuses(https_server, tmp_path):
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

    with https_serve(data_dir) as (port, trust):
        client = httpx.Client(
            verify=ssl.create_default_context(cafile=str(files.ca_cert)), trust_env=False
        )
        with client:
            assert client.get(f"https://localhost:{port}/health").status_code == 200

    assert f"SSL_CERT_FILE={files.ca_cert}" in trust
    assert files.ca_cert.read_bytes() == newer.ca_cert.read_bytes()
    assert files.server_cert.read_bytes() != stale
    leaf = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
    leaf.verify_directly_issued_by(x509.load_pem_x509_certificate(newer.ca_cert.read_bytes()))
