"""Real pdfbinder servers on loopback for the compat tests, and the files they chew on.

(A plain module beside the tests, imported as ``compat_helpers``; the fixtures
built on it are in ``conftest.py``.)

Two ways to run a server, both real uvicorn on a free 127.0.0.1 port:
:class:`ThreadServer` (the app in this process, any settings, starts fast) and
:class:`ServeProcess` (``pdfbinder serve`` as a subprocess: the CLI, and a
process the test can SIGKILL).
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pikepdf
import uvicorn
from PIL import Image

from pdfbinder.compat.app import create_app
from pdfbinder.compat.settings import Settings

MIRROR_HOST = "images.example.test"
_START_TIMEOUT = 30.0


RGB = tuple[int, int, int]


def make_png(width: int = 40, height: int = 30, color: RGB = (200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "PNG")
    return buffer.getvalue()


def make_jpeg(width: int = 40, height: int = 30, color: RGB = (30, 30, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def make_noise_bmp(width: int, height: int) -> bytes:
    """An uncompressible BMP: the engine must decode and Flate it (slow on purpose)."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(buffer, "BMP")
    return buffer.getvalue()


def make_pdf(pages: int, *, width: float = 200, height: float = 100, password: str | None = None,
             ) -> bytes:
    """A PDF with ``pages`` blank pages of the given size (optionally user-password encrypted)."""
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=(width, height))
    buffer = io.BytesIO()
    encryption = pikepdf.Encryption(user=password, owner=password + "-owner") if password else False
    pdf.save(buffer, encryption=encryption)
    return buffer.getvalue()


def pdf_pages(data: bytes) -> list[tuple[float, float]]:
    """Page sizes (width, height) of a PDF, in order."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        return [(float(page.mediabox[2]), float(page.mediabox[3])) for page in pdf.pages]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def assert_error(response: httpx.Response | Any, status: int) -> dict[str, Any]:
    """The error shape, with the HTTP status equal to the body's."""
    body: dict[str, Any] = response.json()
    assert response.status_code == status, body
    assert body["error"] is True and body["status"] == status, body
    assert isinstance(body["message"], str) and body["message"], body
    assert response.headers["content-type"].startswith("application/json")
    return body


def poll_job(base: str, job_id: str, timeout: float = 30.0) -> dict[str, Any]:
    """``/job/check`` until the job leaves ``working``."""
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = httpx.get(f"{base}/job/check", params={"jobid": job_id}).json()
        if body["status"] != "working":
            return body
        assert time.monotonic() < deadline, f"job {job_id} still working after {timeout} s"
        time.sleep(0.05)


class ThreadServer:
    """``create_app(settings)`` under uvicorn in a background thread."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.port = int(self._socket.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(settings), log_level="warning", lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run,
                                        kwargs={"sockets": [self._socket]}, daemon=True)

    def __enter__(self) -> ThreadServer:
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not self._server.started:
            assert self._thread.is_alive(), "server thread died during start-up"
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)
        self._socket.close()


class ServeProcess:
    """``pdfbinder serve --port P --data-dir D [args]`` in a subprocess."""

    def __init__(self, data_dir: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir
        self.log_path = data_dir.parent / f"serve-{self.port}.log"
        executable = shutil.which("pdfbinder")
        assert executable, "the pdfbinder console script is not installed (pip install -e .)"
        self.command = [executable, "serve", "--port", str(self.port),
                        "--data-dir", str(data_dir), *args]
        self.env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> ServeProcess:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()/kill()
        self.process = subprocess.Popen(self.command, stdout=self._log, stderr=self._log,
                                        env=self.env)
        deadline = time.monotonic() + _START_TIMEOUT
        while True:
            assert self.process.poll() is None, f"server exited:\n{self.log()}"
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"server did not start:\n{self.log()}"
            time.sleep(0.1)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, exactly like a crash."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=15)
        self._log.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self._log.close()

    def __enter__(self) -> ServeProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def mirror_url(path: str) -> str:
    return f"https://{MIRROR_HOST}/{path}"
