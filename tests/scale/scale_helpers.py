"""Real scale-out components on loopback for the scale tests: Redis, an S3 server, workers.

(A plain module beside the tests, imported as ``scale_helpers``.) Each part is
a subprocess started on a free 127.0.0.1 port with its own temp directory and
stopped by its own handle: ``redis-server`` (no persistence), moto's
standalone S3 server, and ``pdfbinder worker`` processes. API replicas are
``compat_helpers.ServeProcess`` with the same scale-out flags.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import httpx
import redis
from compat_helpers import free_port

from pdfbinder.compat.jobs.redis_store import RedisJobRecords

_START_TIMEOUT = 30.0
BUCKET = "pdfbinder-test"
S3_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
          "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"}
"""Dummy credentials: moto accepts any, and nothing may look for real ones."""


class _Process:
    """A subprocess logging to a file, stopped (TERM, then KILL) by its own handle."""

    def __init__(self, command: list[str], log_path: Path, env: dict[str, str] | None = None):
        self.command = command
        self.log_path = log_path
        self.env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(self.command, stdout=self._log, stderr=self._log,
                                        env=self.env)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

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


class RedisServer(_Process):
    """``redis-server`` on a free loopback port, data in ``directory``, nothing persisted."""

    def __init__(self, directory: Path) -> None:
        executable = shutil.which("redis-server")
        assert executable, "redis-server is not installed (apt-get install redis-server)"
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        super().__init__([executable, "--port", str(self.port), "--bind", "127.0.0.1",
                          "--dir", str(directory), "--save", "", "--appendonly", "no"],
                         directory / "redis.log")

    def start(self) -> None:
        super().start()
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + _START_TIMEOUT
        while True:
            assert self.alive(), f"redis-server exited:\n{self.log()}"
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        client.close()


class MotoS3Server(_Process):
    """moto's standalone server (an S3 API) on a free loopback port, with one bucket."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        super().__init__([sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                          "-p", str(self.port)], directory / "moto.log", S3_ENV)

    def start(self) -> None:
        super().start()
        deadline = time.monotonic() + _START_TIMEOUT
        while True:
            assert self.alive(), f"moto server exited:\n{self.log()}"
            try:
                httpx.get(f"{self.url}/moto-api/", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "moto server did not start"
                time.sleep(0.1)
        self.client().create_bucket(Bucket=BUCKET)

    def client(self) -> Any:
        return boto3.client("s3", endpoint_url=self.url, region_name="us-east-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing")


class WorkerProcess(_Process):
    """``pdfbinder worker [args]``; ready once Celery says so in its log."""

    def __init__(self, directory: Path, *args: str, env: dict[str, str] | None = None) -> None:
        executable = shutil.which("pdfbinder")
        assert executable, "the pdfbinder console script is not installed (pip install -e .)"
        directory.mkdir(parents=True, exist_ok=True)
        super().__init__([executable, "worker", "--data-dir", str(directory), *args],
                         directory / "worker.log", env)

    def start(self) -> None:
        super().start()
        deadline = time.monotonic() + _START_TIMEOUT
        while "pdfbinder worker ready." not in self.log():
            assert self.alive(), f"worker exited:\n{self.log()}"
            assert time.monotonic() < deadline, f"worker did not start:\n{self.log()}"
            time.sleep(0.05)


def records(redis_url: str) -> RedisJobRecords:
    """A reader of the deployment's job records (the same class the replicas use)."""
    return RedisJobRecords.from_url(redis_url, retention_seconds=3600)
