"""Hostile ZIP archives given to merge2, through a real server: each a clear 4xx, server healthy."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator

import httpx
import pytest

from pdfbinder.compat.settings import Settings
from tests.support.compat import ThreadServer, assert_error, make_pdf

PDF = make_pdf(1)
ZERO_CHUNK = bytes(16 * 1024 * 1024)
BOMB_BYTES = 2 * 1024**3 + 256 * 1024**2  # past the 2 GiB per-job cap, ~10 MB compressed


def zip_of(*members: tuple[zipfile.ZipInfo | str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for info, data in members:
            archive.writestr(info, data)
    return buffer.getvalue()


def zeros_bomb() -> bytes:
    """Gigabytes of zeros, compressed as they are generated (never held in memory)."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf,
        zf.open("zeros.pdf", "w", force_zip64=True) as member,
    ):
        for _ in range(BOMB_BYTES // len(ZERO_CHUNK)):
            member.write(ZERO_CHUNK)
    return buffer.getvalue()


def symlink_member() -> zipfile.ZipInfo:
    info = zipfile.ZipInfo("link.pdf")
    info.create_system = 3
    info.external_attr = 0o120777 << 16
    return info


def encrypted_member() -> bytes:
    data = bytearray(zip_of(("secret.pdf", PDF)))
    # Set the "encrypted" flag in both the local and the central header.
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.index(signature) + offset
        data[at] |= 0x1
    return bytes(data)


HOSTILE: dict[str, tuple[Callable[[], bytes], str]] = {
    "traversal": (lambda: zip_of(("../../evil.pdf", PDF)), "climbs out"),
    "deep-traversal": (lambda: zip_of(("a/../../../etc/passwd.pdf", PDF)), "climbs out"),
    "absolute": (lambda: zip_of(("/etc/evil.pdf", PDF)), "absolute"),
    "windows-drive": (lambda: zip_of(("C:/evil.pdf", PDF)), "absolute"),
    "backslashes": (lambda: zip_of(("..\\..\\evil.pdf", PDF)), "absolute"),
    "symlink": (lambda: zip_of((symlink_member(), b"/etc/passwd")), "symbolic link"),
    "encrypted": (encrypted_member, "encrypted"),
    "nested": (lambda: zip_of(("inner.zip", zip_of(("a.pdf", PDF)))), "archive inside"),
    "too-many-members": (
        lambda: zip_of(*[(f"{n}.txt", b"") for n in range(10_001)]),
        "10001 members",
    ),
    "ratio": (lambda: zip_of(("zeros.pdf", bytes(50 * 1024 * 1024))), "possible zip bomb"),
}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServer]:
    with ThreadServer(Settings(data_dir=tmp_path_factory.mktemp("zips"), workers=2)) as server:
        yield server


def _merge2(server: ThreadServer, name: str, data: bytes) -> httpx.Response:
    stored = httpx.post(f"{server.url}/file/upload", files={"file": (name, data)}, timeout=60)
    assert stored.json()["status"] == 200, stored.text
    return httpx.get(f"{server.url}/pdf/merge2", params={"url": stored.json()["url"]}, timeout=60)


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_archive_is_a_clear_4xx(live: ThreadServer, kind: str) -> None:
    build, reason = HOSTILE[kind]
    body = assert_error(_merge2(live, f"{kind}.zip", build()), 442)
    assert f"{kind}.zip" in body["message"] and reason in body["message"], body
    assert httpx.get(f"{live.url}/health").status_code == 200


def test_gigabytes_of_zeros_refused_quickly(live: ThreadServer) -> None:
    bomb = zeros_bomb()
    assert len(bomb) < 16 * 1024 * 1024
    body = assert_error(_merge2(live, "zeros.zip", bomb), 442)
    assert "zeros.zip/zeros.pdf" in body["message"] and "zip bomb" in body["message"]
    assert httpx.get(f"{live.url}/health").status_code == 200
    good = _merge2(live, "fine.zip", zip_of(("a.pdf", PDF), ("b.pdf", make_pdf(2))))
    assert good.json()["pageCount"] == 3
