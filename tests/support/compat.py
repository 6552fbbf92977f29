"""Real pdfbinder servers on loopback for the compat tests, and the files they chew on.

Two ways to run a server, both real uvicorn on a free 127.0.0.1 port:
:class:`ThreadServer` (the app in this process, any settings, starts fast) and
:class:`ServeProcess` (``pdfbinder serve`` as a subprocess: the CLI, and a
process the test can SIGKILL). :class:`LoggedProcess` is the subprocess handle the
scale tests' Redis, S3 and worker processes share.
"""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pikepdf
from PIL import Image

from pdfbinder.compat.app import create_app
from pdfbinder.compat.jobs.local import LEASES
from pdfbinder.compat.service import Service
from pdfbinder.compat.settings import Settings
from pdfbinder.compat.testing.background import BackgroundServer
from tests.support.cli import pdfbinder_script

MIRROR_HOST = "images.example.test"
SEED_IMAGES = "bytescout-com.s3.amazonaws.com/files/demo-files/cloud-api/image-to-pdf"
"""Where the first seed's images live (mirror them here under a URL map)."""
START_TIMEOUT = 120.0
"""Longest wait for a process to answer: start-up is seconds, but a machine shared with
other test runs can stretch it well past 30 s; the wait ends as soon as it answers."""
_STOP_TIMEOUT = 30.0
POLLING = httpx.Client(trust_env=False)
"""The helpers' polling client: each new httpx client loads the CA bundle (about 0.2 s of
CPU, several seconds on a loaded machine), which a loop of ``httpx.get`` pays every round."""


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


def make_pdf(
    pages: int,
    *,
    width: float = 200,
    height: float = 100,
    password: str | None = None,
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
        body: dict[str, Any] = POLLING.get(f"{base}/job/check", params={"jobid": job_id}).json()
        if body["status"] != "working":
            return body
        assert time.monotonic() < deadline, f"job {job_id} still working after {timeout} s"
        time.sleep(0.05)


class ThreadServer:
    """``create_app(settings)`` under uvicorn in a background thread (the drop-in's
    :class:`~pdfbinder.compat.testing.background.BackgroundServer`), with its settings at hand."""

    def __init__(
        self, settings: Settings, service_factory: Callable[[Settings], Service] | None = None
    ) -> None:
        self.settings = settings
        app = (
            create_app(settings)
            if service_factory is None
            else create_app(settings, service_factory=service_factory)
        )
        self._server = BackgroundServer(
            app, start_timeout=START_TIMEOUT, stop_timeout=_STOP_TIMEOUT
        )
        self.port = self._server.port
        self.url = self._server.base_url

    def __enter__(self) -> ThreadServer:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()


_Process = TypeVar("_Process", bound="LoggedProcess")


class LoggedProcess:
    """A subprocess logging to a file, stopped (TERM, then KILL) by its own handle."""

    def __init__(self, command: list[str], log_path: Path, env: dict[str, str] | None = None):
        self.command = command
        self.log_path = log_path
        self.env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None

    def launch(self) -> None:
        """Start the process without waiting for it: launch several, then wait for each."""
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            self.command, stdout=self._log, stderr=self._log, env=self.env
        )

    def wait_until_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Return once the process serves (subclasses know what that means), failing after
        ``timeout`` seconds."""

    def start(self: _Process) -> _Process:
        """Launch, wait until ready; the process itself, for ``x = Process(...).start()``."""
        self.launch()
        self.wait_until_ready()
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_for_files(
        self, directory: Path, pattern: str, count: int, timeout: float = START_TIMEOUT
    ) -> None:
        """Wait until ``directory`` holds ``count`` files matching ``pattern``, one per
        process of this server once it has started, then for those processes to accept."""
        deadline = time.monotonic() + timeout
        while len(list(directory.glob(pattern))) < count:
            assert self.alive(), f"process exited:\n{self.log()}"
            assert time.monotonic() < deadline, f"{count} processes did not start:\n{self.log()}"
            time.sleep(0.1)
        time.sleep(0.5)  # from its start-up to its first accept, a process has little left to do

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, exactly like a crash or a lost machine."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=15)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def start_together(processes: list[LoggedProcess]) -> None:
    """Launch every process, then wait for each: start-ups overlap instead of queueing.

    Sharing the machine, each may take as long as all of them one after another, so the
    wait allows that.
    """
    for process in processes:
        process.launch()
    for process in processes:
        process.wait_until_ready(START_TIMEOUT * len(processes))


class ServeProcess(LoggedProcess):
    """``pdfbinder serve --port P --data-dir D [args]`` in a subprocess."""

    def __init__(self, data_dir: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir
        executable = pdfbinder_script()
        super().__init__(
            [executable, "serve", "--port", str(self.port), "--data-dir", str(data_dir), *args],
            data_dir.parent / f"serve-{self.port}.log",
            env,
        )

    def wait_until_ready(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        try:
            while True:
                assert self.alive(), f"server exited:\n{self.log()}"
                try:
                    if POLLING.get(f"{self.url}/health", timeout=1).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, f"server did not start:\n{self.log()}"
                time.sleep(0.1)
        except BaseException:
            self.stop()  # no server left running behind a failed start
            raise

    def wait_for_processes(self, count: int) -> None:
        """Wait until ``count`` server processes have started their service (each holds a
        lease): the first one up would otherwise take every connection a client opens."""
        self.wait_for_files(self.data_dir / LEASES, "*.lock", count)

    def __enter__(self) -> ServeProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def mirror_url(path: str) -> str:
    return f"https://{MIRROR_HOST}/{path}"
