"""``S3FileStore`` against moto's real S3 server over loopback: atomic writes, ids written
once, expiry and sweep, multipart uploads, presigned download redirects."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from pdfbinder.compat.clock import utcnow
from pdfbinder.compat.files.base import FULL_SCAN_EVERY, FileExists, FileTooLarge, new_file_id
from pdfbinder.compat.files.s3 import S3FileStore, parse_s3_url
from tests.support.cli import pdfbinder_script
from tests.support.compat import ServeProcess, make_pdf
from tests.support.scale import BUCKET, S3_ENV, MotoS3Server


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoS3Server]:
    server = MotoS3Server(tmp_path_factory.mktemp("moto"))
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def store(s3: MotoS3Server) -> S3FileStore:
    return S3FileStore(s3.client(), BUCKET, f"t-{new_file_id()[:8]}")


def keys(store: S3FileStore) -> list[str]:
    listing = store.client.list_objects_v2(Bucket=BUCKET, Prefix=store.prefix)
    return [item["Key"] for item in listing.get("Contents", [])]


def test_parse_s3_url() -> None:
    assert parse_s3_url("s3://bucket/a/b/") == ("bucket", "a/b")
    assert parse_s3_url("s3://bucket") == ("bucket", "")
    with pytest.raises(ValueError, match="s3://bucket"):
        parse_s3_url("/tmp/files")


def test_put_open_info_delete(store: S3FileStore) -> None:
    file_id, data = new_file_id(), make_pdf(2)
    later = utcnow() + timedelta(minutes=5)
    info = store.put(
        io.BytesIO(data),
        file_id=file_id,
        name="r_sum_1.pdf",
        expires_at=later,
        owner="abc",
        original_name="résumé 1.pdf",
    )
    assert (info.size, info.name, info.owner) == (len(data), "r_sum_1.pdf", "abc")
    assert info.shown_name == "résumé 1.pdf"
    assert store.info(file_id) == info
    opened = store.open(file_id)
    assert opened is not None
    with opened[1] as stream:
        assert stream.read() == data
    assert store.delete(file_id) and not store.delete(file_id)
    assert store.info(file_id) is None and store.open(file_id) is None


def test_failed_or_oversized_write_leaves_nothing(store: S3FileStore) -> None:
    file_id = new_file_id()
    later = utcnow() + timedelta(minutes=5)
    with pytest.raises(RuntimeError), store.writer(file_id, name="a", expires_at=later) as sink:
        sink.write(b"half a document")
        raise RuntimeError("engine failed mid-way")
    with (
        pytest.raises(FileTooLarge),
        store.writer(file_id, name="a", expires_at=later, max_bytes=10) as sink,
    ):
        sink.write(b"x" * 11)
    assert keys(store) == []


def test_an_id_is_written_once(store: S3FileStore) -> None:
    file_id = new_file_id()
    later = utcnow() + timedelta(minutes=5)
    store.put(io.BytesIO(b"first"), file_id=file_id, name="a", expires_at=later)
    with pytest.raises(FileExists):
        store.put(io.BytesIO(b"second"), file_id=file_id, name="a", expires_at=later)
    opened = store.open(file_id)
    assert opened is not None
    with opened[1] as body:
        assert body.read() == b"first"


def test_expired_files_read_absent_and_are_swept(store: S3FileStore) -> None:
    gone, kept = new_file_id(), new_file_id()
    store.put(io.BytesIO(b"old"), file_id=gone, name="a", expires_at=utcnow() - timedelta(1))
    store.put(io.BytesIO(b"new"), file_id=kept, name="b", expires_at=utcnow() + timedelta(1))
    assert store.info(gone) is None and store.open(gone) is None
    assert store.sweep() == 1
    assert keys(store) == [store.prefix + kept]


def test_sweeps_between_listings_visit_only_what_this_replica_committed(
    store: S3FileStore,
) -> None:
    """A sweep lists (and HEADs) every object only at the first and one in
    ``FULL_SCAN_EVERY``; in between it visits the objects its replica committed, when due."""
    assert store.sweep() == 0  # the first: every object
    worker = S3FileStore(store.client, store.bucket, store.prefix)  # another process
    ours, theirs = new_file_id(), new_file_id()
    gone = utcnow() - timedelta(seconds=1)
    store.put(io.BytesIO(b"ours"), file_id=ours, name="o", expires_at=gone)
    worker.put(io.BytesIO(b"theirs"), file_id=theirs, name="t", expires_at=gone)
    assert store.sweep() == 1
    assert keys(store) == [store.prefix + theirs]
    for _ in range(FULL_SCAN_EVERY - 2):
        assert store.sweep() == 0
    assert store.sweep() == 1  # the next that lists every object
    assert keys(store) == []


def test_large_file_goes_up_in_parts_and_comes_back_whole(store: S3FileStore) -> None:
    data = os.urandom(17 * 1024 * 1024)  # past the 16 MiB multipart threshold
    file_id = new_file_id()
    store.put(
        io.BytesIO(data),
        file_id=file_id,
        name="big.bin",
        expires_at=utcnow() + timedelta(minutes=5),
    )
    head = store.client.head_object(Bucket=BUCKET, Key=store.prefix + file_id)
    assert head["ETag"].strip('"').endswith("-2")  # a multipart object of two parts
    opened = store.open(file_id)
    assert opened is not None
    with opened[1] as body:
        assert body.read() == data


def test_downloads_redirect_to_presigned_s3_urls(s3: MotoS3Server, tmp_path: Path) -> None:
    flags = [
        "--store",
        f"s3://{BUCKET}/redirect",
        "--s3-endpoint",
        s3.url,
        "--s3-redirect-downloads",
        "--presign-secret",
        "shared-by-all-replicas",
    ]
    with ServeProcess(tmp_path / "api", *flags, env=S3_ENV) as api:
        data = make_pdf(3)
        upload = httpx.post(f"{api.url}/file/upload", files={"file": ("doc.pdf", data)}).json()
        answer = httpx.get(upload["url"])
        assert answer.status_code == 302
        location = answer.headers["location"]
        assert location.startswith(f"{s3.url}/{BUCKET}/redirect/") and "Signature=" in location
        assert "response-content-disposition=attachment" in location and "doc.pdf" in location
        assert httpx.get(location).content == data
        assert httpx.get(f"{api.url}/files/{new_file_id()}/x.pdf").status_code == 404


def test_bad_scale_flags_are_one_line_usage_errors(tmp_path: Path) -> None:
    import subprocess

    for args in (
        ["serve", "--store", "s3://", "--data-dir", str(tmp_path)],
        ["serve", "--broker", "amqp://127.0.0.1//", "--data-dir", str(tmp_path)],
        ["worker", "--data-dir", str(tmp_path)],
    ):
        done = subprocess.run(
            [pdfbinder_script(), *args], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 2, done.stderr
        (line,) = done.stderr.strip().splitlines()
        assert line.startswith("pdfbinder: error: "), line
