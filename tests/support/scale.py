"""Real scale-out components on loopback for the scale tests: Redis, an S3 server, workers.

Each part is a subprocess started on a free 127.0.0.1 port with its own temp directory and
stopped by its own handle: ``redis-server`` (no persistence), moto's
standalone S3 server, and ``pdfbinder worker`` processes. API replicas are
``tests.support.compat.ServeProcess`` with the same scale-out flags.
"""

from __future__ import annotations

import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
import redis

from pdfbinder.compat.jobs.redis_store import RedisJobRecords
from tests.support.cli import pdfbinder_script
from tests.support.compat import (
    POLLING,
    START_TIMEOUT,
    LoggedProcess,
    ServeProcess,
    free_port,
)

BUCKET = "pdfbinder-test"
S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}
"""Dummy credentials: moto accepts any, and nothing may look for real ones."""


class RedisServer(LoggedProcess):
    """``redis-server`` on a free loopback port, data in ``directory``, nothing persisted."""

    def __init__(self, directory: Path) -> None:
        executable = shutil.which("redis-server")
        assert executable, "redis-server is not installed (apt-get install redis-server)"
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        super().__init__(
            [
                executable,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(directory),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            directory / "redis.log",
        )

    def wait_until_ready(self, timeout: float = START_TIMEOUT) -> None:
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + timeout
        while True:
            assert self.alive(), f"redis-server exited:\n{self.log()}"
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        client.close()


class MotoS3Server(LoggedProcess):
    """moto's standalone server (an S3 API) on a free loopback port, with one bucket."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        super().__init__(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            directory / "moto.log",
            S3_ENV,
        )

    def wait_until_ready(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while True:
            assert self.alive(), f"moto server exited:\n{self.log()}"
            try:
                POLLING.get(f"{self.url}/moto-api/", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "moto server did not start"
                time.sleep(0.1)
        self.client().create_bucket(Bucket=BUCKET)

    def client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


class WorkerProcess(LoggedProcess):
    """``pdfbinder worker [args]``; ready once Celery says so in its log."""

    def __init__(self, directory: Path, *args: str, env: dict[str, str] | None = None) -> None:
        executable = pdfbinder_script()
        directory.mkdir(parents=True, exist_ok=True)
        super().__init__(
            [executable, "worker", "--data-dir", str(directory), *args],
            directory / "worker.log",
            env,
        )

    def wait_until_ready(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while "pdfbinder worker ready." not in self.log():
            assert self.alive(), f"worker exited:\n{self.log()}"
            assert time.monotonic() < deadline, f"worker did not start:\n{self.log()}"
            time.sleep(0.05)


def records(redis_url: str) -> RedisJobRecords:
    """A reader of the deployment's job records (the same class the replicas use)."""
    return RedisJobRecords.from_url(redis_url, retention_seconds=3600)


@dataclass
class Cluster:
    """Handles of every process in one scaled-out deployment (see tests/scale/conftest.py)."""

    redis: RedisServer
    s3: MotoS3Server
    workers: list[WorkerProcess]
    replicas: list[ServeProcess]
    flags: list[str]
    root: Path
