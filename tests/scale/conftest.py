"""Fixtures of the scale tests: a whole scaled-out deployment on loopback.

``cluster`` (one per module) starts redis-server, moto's S3 server, two
``pdfbinder worker`` processes and two ``pdfbinder serve`` replicas, all with
the same flags: Celery on that Redis, files in ``s3://<bucket>/files``, a URL
mirror holding the first seed's images, and remote fetching allowed from
``127.0.0.1`` only (a test's gated origin). Every process is stopped at teardown
by its own handle.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.compat import (
    SEED_IMAGES,
    LoggedProcess,
    ServeProcess,
    make_jpeg,
    make_png,
    start_together,
)
from tests.support.scale import (
    BUCKET,
    S3_ENV,
    Cluster,
    MotoS3Server,
    RedisServer,
    WorkerProcess,
)

VISIBILITY_SECONDS = 2


def _mirror(root: Path) -> Path:
    mirror = root / "mirror"
    seed = mirror / SEED_IMAGES
    seed.mkdir(parents=True)
    (seed / "image1.png").write_bytes(make_png(120, 90))
    (seed / "image2.jpg").write_bytes(make_jpeg(96, 144))
    return mirror


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("cluster")
    mirror = _mirror(root)
    redis_server = RedisServer(root)
    s3 = MotoS3Server(root)
    started: list[LoggedProcess] = []
    try:
        started += [redis_server, s3]
        start_together([redis_server, s3])
        flags = [
            "--broker",
            redis_server.url,
            "--store",
            f"s3://{BUCKET}/files",
            "--s3-endpoint",
            s3.url,
            "--visibility-timeout",
            str(VISIBILITY_SECONDS),
            "--url-map",
            str(mirror),
            # Jobs that must stay in flight fetch from a test's gated origin on loopback.
            "--allow-remote",
            "--allow-host",
            "127.0.0.1",
        ]
        workers = [WorkerProcess(root / f"worker{n}", *flags, env=S3_ENV) for n in (1, 2)]
        replicas = [ServeProcess(root / f"api{n}", *flags, env=S3_ENV) for n in (1, 2)]
        started += [*workers, *replicas]
        start_together([*workers, *replicas])
        yield Cluster(redis_server, s3, workers, replicas, flags, root)
    finally:
        for part in reversed(started):
            part.stop()
