"""Files in and out of the store on the client's behalf: presigned PUTs, uploads, deletion.

Presigned upload URLs are stateless: the token is
``<file id>.<deadline>.<owner>.<original name>.<HMAC>`` (the name as the client gave it,
base64url, for bookmark titles), signed with a key kept in the data dir, so they survive
restarts; "once only" falls out of the store writing each id once.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import io
import mimetypes
import os
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, cast

from .clock import utcnow
from .errors import ApiError
from .files.base import FileExists, FileInfo, FileStore, FileTooLarge, new_file_id
from .protocol import original_name, output_name
from .settings import Settings
from .sources import FetchAuth, Sources, own_file_id
from .tenancy import visible_to

_DEFAULT_UPLOAD_NAME = "file"


def key_fingerprint(api_key: str | None) -> str | None:
    """A short, non-reversible id of an API key, recorded as the owner of files."""
    if not api_key:
        return None
    return hashlib.sha256(api_key.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class PresignedUpload:
    """What a presigned upload URL grants: the file's id, its owner, the client's own name."""

    file_id: str
    owner: str | None
    original_name: str | None


def file_url(base_url: str, file_id: str, name: str) -> str:
    """Where a stored file is downloaded: ``<base>/files/<id>/<name>``."""
    return f"{base_url}/files/{file_id}/{name}"


class Uploads:
    """Uploads, presigned URLs and deletion against one store."""

    def __init__(
        self, settings: Settings, store: FileStore, sources: Sources, secret: bytes | None = None
    ) -> None:
        self.settings = settings
        self.store = store
        self.sources = sources
        # A deployment of several replicas passes the key they share (see compat/cluster.py).
        self._secret = secret or _load_secret(settings.data_dir / "presign.key")

    def presign(self, raw_name: str | None, owner: str | None, base_url: str) -> dict[str, Any]:
        """A one-time upload URL and the URL the file will have."""
        name = output_name(raw_name, _DEFAULT_UPLOAD_NAME)
        file_id = new_file_id()
        deadline = int(time.time()) + self.settings.presign_validity
        owner_part = owner or "-"
        given = original_name(raw_name)
        given_part = base64.urlsafe_b64encode(given.encode()).decode() if given else ""
        grant = f"{file_id}.{deadline}.{owner_part}.{given_part}"
        token = f"{grant}.{self._sign(f'{grant}.{name}')}"
        return {
            "presignedUrl": f"{base_url}/upload/{token}/{name}",
            "url": file_url(base_url, file_id, name),
            "name": name,
        }

    def _sign(self, message: str) -> str:
        digest = hmac.new(self._secret, message.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:24]).decode()

    def presigned_target(self, token: str, name: str) -> PresignedUpload:
        """What a presigned token grants, or a 403."""
        grant, _, signature = token.rpartition(".")
        try:
            file_id, deadline, owner_part, given_part = grant.split(".")
            valid = hmac.compare_digest(signature, self._sign(f"{grant}.{name}"))
            valid = valid and int(deadline) >= time.time()
            given = base64.urlsafe_b64decode(given_part).decode() if valid else ""
        except (ValueError, binascii.Error):  # UnicodeDecodeError is a ValueError
            valid = False
        if not valid:
            raise ApiError(403, "This upload URL is invalid or has expired (15 minutes).")
        if self.store.info(file_id) is not None:
            raise ApiError(403, "This upload URL was already used.")
        owner = None if owner_part == "-" else owner_part
        return PresignedUpload(file_id, owner, given or None)

    def upload_expiry(self) -> datetime:
        return utcnow() + timedelta(minutes=self.settings.upload_expiration)

    def store_upload(
        self,
        stream: BinaryIO,
        name: str,
        owner: str | None,
        file_id: str | None = None,
        *,
        original: str | None = None,
    ) -> FileInfo:
        """Store an uploaded stream as ``name`` (``original``: the name the client gave, if
        other); 413 past the size limit, 403 on a reused id."""
        try:
            return self.store.put(
                stream,
                file_id=file_id or new_file_id(),
                name=name,
                original_name=original,
                expires_at=self.upload_expiry(),
                owner=owner,
                max_bytes=self.settings.max_file_bytes,
            )
        except FileTooLarge:
            raise ApiError(
                413, f"The file is larger than {self.settings.max_file_bytes} bytes."
            ) from None
        except FileExists:
            raise ApiError(403, "This upload URL was already used.") from None

    def upload_base64(self, data: str | None, raw_name: str | None, owner: str | None) -> FileInfo:
        """Decode bare base64 or a ``data:<mime>;base64,`` URI and store it."""
        if not data:
            raise ApiError(400, "Missing parameter 'file' (base64 data).")
        default_name = _DEFAULT_UPLOAD_NAME
        if data.startswith("data:"):
            header, _, data = data.partition(",")
            mime = header[len("data:") :].split(";")[0]
            default_name += mimetypes.guess_extension(mime) or ""
        if len(data) * 3 // 4 > self.settings.max_file_bytes:
            raise ApiError(413, f"The file is larger than {self.settings.max_file_bytes} bytes.")
        try:
            content = base64.b64decode("".join(data.split()), validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(400, "Parameter 'file' is not valid base64.") from None
        name = output_name(raw_name, default_name)
        return self.store_upload(io.BytesIO(content), name, owner, original=original_name(raw_name))

    async def store_body(
        self, chunks: AsyncIterator[bytes], name: str, upload: PresignedUpload
    ) -> FileInfo:
        """Store a request body as it arrives (presigned PUT), within the size limit."""
        file_id = upload.file_id
        try:
            with self.store.writer(
                file_id,
                name=name,
                original_name=upload.original_name,
                expires_at=self.upload_expiry(),
                owner=upload.owner,
                max_bytes=self.settings.max_file_bytes,
            ) as sink:
                async for chunk in chunks:
                    sink.write(chunk)
        except FileTooLarge:
            raise ApiError(
                413, f"The file is larger than {self.settings.max_file_bytes} bytes."
            ) from None
        except FileExists:
            raise ApiError(403, "This upload URL was already used.") from None
        if sink.info is None:
            raise ApiError(500, f"The store did not commit upload {file_id}.")
        return sink.info

    def upload_from_url(
        self, url: str | None, raw_name: str | None, owner: str | None, auth: FetchAuth | None
    ) -> FileInfo:
        """Fetch ``url`` (subject to the source policy) and store it."""
        if not url:
            raise ApiError(400, "Missing parameter 'url'.")
        with ExitStack() as stack:
            source = self.sources.open(url, stack, auth).source
            raw = source.source
            stream = stack.enter_context(open(raw, "rb")) if isinstance(raw, str) else raw
            given = raw_name or source.name
            name = output_name(given, _DEFAULT_UPLOAD_NAME)
            return self.store_upload(
                cast(BinaryIO, stream), name, owner, original=original_name(given)
            )

    def delete(self, url: str | None, owner: str | None) -> None:
        """Delete one of our files given its URL; only its owner may when keys are set
        (see :mod:`~pdfbinder.compat.tenancy`)."""
        if not url:
            raise ApiError(400, "Missing parameter 'url' (or 'file'): the file to delete.")
        file_id, _ = self.visible_file(url, owner)
        self.store.delete(file_id)

    def visible_file(self, url: str, owner: str | None) -> tuple[str, FileInfo]:
        """The id and metadata of one of our stored files that ``owner`` may see; else 404."""
        file_id = own_file_id(url)
        info = self.store.info(file_id) if file_id else None
        keys_required = bool(self.settings.api_keys)
        # Another key's file answers like a missing one, so ids cannot be probed.
        if (
            file_id is None
            or info is None
            or not visible_to(info.owner, owner, keys_required=keys_required)
        ):
            raise ApiError(404, f"File not found or expired: {url}")
        return file_id, info


def _load_secret(path: Path) -> bytes:
    """The key that signs presigned upload URLs, kept in the data dir across restarts.

    Made by whichever process needs it first: the server's processes may start
    together, and each must sign with the same key, so the key is written whole
    under a name of its own and linked into place, and a process that loses that
    race reads the winner's.
    """
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    temp = path.with_name(f"{path.name}.{secrets.token_hex(8)}.tmp")
    try:
        with open(temp, "xb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(secrets.token_bytes(32))
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process made it first: its key
            os.link(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return path.read_bytes()
