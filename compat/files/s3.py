"""``S3FileStore``: files in any S3-compatible object store (AWS S3, MinIO, Ceph) via boto3.

Layout: one object per file, ``<prefix>/<id>``, with the name (and the client's own), expiry and
owner in its user metadata (``x-amz-meta-*``; the name percent-encoded, as
metadata is ASCII). A write is spooled to a local temporary file (the engine
wants a real, seekable file) and uploaded on commit with boto3's managed
transfer — multipart past 16 MiB — and S3 makes an object visible only once
its upload completed, so a crash never leaves a partial file behind a URL.
An id already taken refuses the commit (checked first with a HEAD; ids are
random, only presigned upload tokens ever reuse one).

Reads download into a spooled buffer (memory up to 8 MiB, then disk) for a
seekable stream; with ``redirect_downloads`` the download route sends
clients a short-lived presigned GET URL instead, so result bytes bypass the
API replicas. Expiry: objects read as absent past their ``expires`` metadata;
:meth:`sweep` deletes them and aborts multipart uploads left by crashed
writers. A replica's sweeps visit the objects it committed when due; the others
(results the workers committed, above all) when a sweep lists every object, one in
:data:`~.base.FULL_SCAN_EVERY` (an hour at the default interval), which costs a HEAD per
object. So an expired result may stay in the bucket for up to an hour, unreadable. A
bucket lifecycle rule (expire after a day or two) is a sensible backstop, not a
requirement.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, BinaryIO, cast
from urllib.parse import quote, unquote, urlsplit

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

from ..clock import utcnow
from .base import (
    CountingWriter,
    FileExists,
    FileInfo,
    FileStore,
    FileWriter,
    SweepSchedule,
    due_time,
    iter_chunks,
)

_VALID_ID = re.compile(r"[A-Za-z0-9_-]{16,128}")
_SPOOL_BYTES = 8 * 1024 * 1024
_TRANSFER = TransferConfig(
    multipart_threshold=16 * 1024 * 1024, multipart_chunksize=16 * 1024 * 1024
)
_STALE_UPLOAD = timedelta(hours=6)
_MAX_LINK_SECONDS = 3600
_MISSING = {"404", "NoSuchKey", "NotFound"}


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` → ``("bucket", "some/prefix")``; ValueError when malformed."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ValueError(f"not an s3://bucket[/prefix] URL: {url!r}")
    return parts.netloc, parts.path.strip("/")


def s3_client(endpoint: str | None, region: str | None) -> Any:
    """A thread-safe boto3 S3 client; path-style addressing for custom endpoints (MinIO...)."""
    style = "path" if endpoint else "auto"
    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": style},
        retries={"max_attempts": 5, "mode": "standard"},
        max_pool_connections=32,
    )
    return boto3.client("s3", endpoint_url=endpoint, region_name=region, config=config)


def _is_missing(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code")) in _MISSING


class S3FileStore(FileStore):
    """A :class:`FileStore` in ``bucket`` under ``prefix`` (see the module docstring)."""

    def __init__(
        self, client: Any, bucket: str, prefix: str = "", *, redirect_downloads: bool = False
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        self.redirect_downloads = redirect_downloads
        self._schedule = SweepSchedule()

    def _key(self, file_id: str) -> str | None:
        return self.prefix + file_id if _VALID_ID.fullmatch(file_id) else None

    @staticmethod
    def _metadata(
        name: str, expires_at: datetime, owner: str | None, original_name: str | None
    ) -> dict[str, str]:
        meta = {"name": quote(name, safe=""), "expires": expires_at.isoformat()}
        if owner:
            meta["owner"] = owner
        if original_name:
            meta["original-name"] = quote(original_name, safe="")
        return meta

    @staticmethod
    def _info(file_id: str, size: int, meta: dict[str, str]) -> FileInfo | None:
        try:
            return FileInfo(
                file_id=file_id,
                name=unquote(meta["name"]),
                size=size,
                expires_at=datetime.fromisoformat(meta["expires"]),
                owner=meta.get("owner"),
                original_name=unquote(meta["original-name"]) if "original-name" in meta else None,
            )
        except (KeyError, ValueError):  # not one of ours
            return None

    @contextmanager
    def writer(
        self,
        file_id: str,
        *,
        name: str,
        expires_at: datetime,
        owner: str | None = None,
        max_bytes: int | None = None,
        original_name: str | None = None,
        durable: bool = True,  # an S3 PUT is durable once it is answered
    ) -> Iterator[FileWriter]:
        key = self._key(file_id)
        if original_name == name:
            original_name = None
        if key is None:
            raise ValueError(f"invalid file id {file_id!r}")
        with tempfile.TemporaryFile(prefix="pdfbinder-s3-") as handle:
            sink = CountingWriter(cast(BinaryIO, handle), max_bytes)
            yield sink
            size = handle.tell()
            if self._head(key) is not None:
                raise FileExists(file_id)
            handle.seek(0)
            self.client.upload_fileobj(
                handle,
                self.bucket,
                key,
                Config=_TRANSFER,
                ExtraArgs={"Metadata": self._metadata(name, expires_at, owner, original_name)},
            )
            sink.info = FileInfo(file_id, name, size, expires_at, owner, original_name)
            self._schedule.add(due_time(expires_at), file_id)

    def _head(self, key: str) -> dict[str, Any] | None:
        try:
            answer: dict[str, Any] = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if _is_missing(error):
                return None
            raise
        return answer

    def info(self, file_id: str) -> FileInfo | None:
        key = self._key(file_id)
        head = self._head(key) if key is not None else None
        if head is None:
            return None
        info = self._info(file_id, int(head["ContentLength"]), head.get("Metadata", {}))
        return None if info is None or info.expired() else info

    def open(self, file_id: str) -> tuple[FileInfo, BinaryIO] | None:
        key = self._key(file_id)
        if key is None:
            return None
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if _is_missing(error):
                return None
            raise
        body = answer["Body"]
        info = self._info(file_id, int(answer["ContentLength"]), answer.get("Metadata", {}))
        if info is None or info.expired():
            body.close()
            return None
        spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115 - returned
        with body:
            for chunk in iter_chunks(body):
                spool.write(chunk)
        spool.seek(0)
        return info, cast(BinaryIO, spool)

    def direct_download_url(self, file_id: str) -> str | None:
        """A presigned GET URL for the file when ``redirect_downloads`` is on (else ``None``)."""
        if not self.redirect_downloads:
            return None
        info = self.info(file_id)
        key = self._key(file_id)
        if info is None or key is None:
            return None
        remaining = int((info.expires_at - utcnow()).total_seconds())
        disposition = f"attachment; filename*=UTF-8''{quote(info.name, safe='')}"
        url: str = self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": key, "ResponseContentDisposition": disposition},
            ExpiresIn=max(1, min(remaining, _MAX_LINK_SECONDS)),
        )
        return url

    def delete(self, file_id: str) -> bool:
        key = self._key(file_id)
        if key is None or self._head(key) is None:
            return False
        self.client.delete_object(Bucket=self.bucket, Key=key)
        return True

    def sweep(self, now: datetime | None = None) -> int:
        moment = now or utcnow()
        removed = self._schedule.sweep(moment, self._sweep_everything, self._remove_if_expired)
        self._abort_stale_uploads(moment)
        return removed

    def _remove_if_expired(self, file_id: str, moment: datetime) -> bool:
        """Delete ``file_id`` if its metadata says it expired; whether it was deleted."""
        key = self._key(file_id)
        head = self._head(key) if key is not None else None
        if head is None:
            return False
        info = self._info(file_id, int(head["ContentLength"]), head.get("Metadata", {}))
        if info is None or not info.expired(moment):
            return False
        # Not through delete(), which would first ask for the object again.
        self.client.delete_object(Bucket=self.bucket, Key=key)
        return True

    def _sweep_everything(self, moment: datetime) -> int:
        """List every object under the prefix and delete the expired ones."""
        removed = 0
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix
        )
        for page in pages:
            for entry in page.get("Contents", []):
                removed += self._remove_if_expired(entry["Key"][len(self.prefix) :], moment)
        return removed

    def _abort_stale_uploads(self, now: datetime) -> None:
        """Abort multipart uploads of writers that died mid-upload (S3 keeps their parts)."""
        pages = self.client.get_paginator("list_multipart_uploads").paginate(
            Bucket=self.bucket, Prefix=self.prefix
        )
        for page in pages:
            for upload in page.get("Uploads", []):
                if now - upload["Initiated"] > _STALE_UPLOAD:
                    self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                    )
