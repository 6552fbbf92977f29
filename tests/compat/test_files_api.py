"""Uploads (presigned PUT, multipart, base64, by URL), downloads, deletion and expiry."""

from __future__ import annotations

import base64
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import requests

from pdfbinder.compat.clock import utcnow
from pdfbinder.compat.files.base import new_file_id
from pdfbinder.compat.files.local import LocalFileStore
from pdfbinder.compat.settings import Settings
from tests.support.compat import ThreadServer, assert_error, make_jpeg, make_pdf, mirror_url

URL_UNSAFE = set("&?,# ")


def assert_safe_url(url: str) -> None:
    assert not URL_UNSAFE & set(url.split("://", 1)[1]), url


def presign(server: ThreadServer, name: str) -> dict[str, Any]:
    response = requests.get(
        f"{server.url}/file/upload/get-presigned-url",
        params={"contenttype": "application/octet-stream", "name": name},
    )
    body: dict[str, Any] = response.json()
    assert response.status_code == 200 and body["error"] is False and body["status"] == 200
    return body


def test_presigned_put_stores_raw_body_once(server: ThreadServer) -> None:
    body = presign(server, ".\\sample1.pdf")
    assert body["name"] == "sample1.pdf" and body["url"].endswith("/sample1.pdf")
    assert_safe_url(body["presignedUrl"])
    assert_safe_url(body["url"])
    assert len(urlsplit(body["url"]).path.split("/")[2]) >= 32  # unguessable id
    assert_error(requests.get(body["url"]), 404)  # nothing uploaded yet
    content = make_pdf(2)
    put = requests.put(
        body["presignedUrl"], data=content, headers={"content-type": "application/x-whatever"}
    )
    assert put.status_code == 200 and put.content == b""
    download = requests.get(body["url"])
    assert download.status_code == 200 and download.content == content
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"] == 'attachment; filename="sample1.pdf"'
    assert_error(requests.put(body["presignedUrl"], data=b"again"), 403)
    assert requests.get(body["url"]).content == content


def test_presigned_put_unwraps_a_multipart_envelope(server: ThreadServer) -> None:
    body = presign(server, "photo.jpg")
    content = make_jpeg()
    put = requests.put(body["presignedUrl"], files={"file": ("photo.jpg", content)})
    assert put.status_code == 200
    download = requests.get(body["url"])
    assert download.content == content and download.headers["content-type"] == "image/jpeg"


def test_presigned_url_cannot_be_forged(server: ThreadServer) -> None:
    body = presign(server, "a b.pdf")
    token = urlsplit(body["presignedUrl"]).path.split("/")[2]
    assert_error(requests.put(f"{server.url}/upload/{token}/b.pdf", data=b"x"), 403)
    file_id, deadline, owner, given, signature = token.split(".")
    assert base64.urlsafe_b64decode(given) == b"a b.pdf"  # the name as given, for titles
    later = f"{file_id}.{int(deadline) + 3600}.{owner}.{given}.{signature}"
    renamed = f"{file_id}.{deadline}.{owner}.{base64.urlsafe_b64encode(b'c.pdf').decode()}"
    for forged in (later, f"{renamed}.{signature}", "garbage", f"{file_id}.{signature}"):
        assert_error(requests.put(f"{server.url}/upload/{forged}/a_b.pdf", data=b"x"), 403)
    assert requests.put(body["presignedUrl"], data=b"x").status_code == 200


def test_multipart_upload_then_merge_it(server: ThreadServer) -> None:
    content = make_pdf(3)
    response = requests.post(f"{server.url}/file/upload", files={"file": ("my doc&1.pdf", content)})
    body = response.json()
    assert response.status_code == 200 and body["error"] is False
    assert body["name"] == "my_doc_1.pdf"
    assert_safe_url(body["url"])
    named = requests.post(
        f"{server.url}/v1/file/upload",
        files={"file": ("a.pdf", content)},
        data={"name": "renamed.pdf"},
    ).json()
    assert named["name"] == "renamed.pdf" and requests.get(named["url"]).content == content
    merged = requests.get(f"{server.url}/pdf/merge?url={body['url']},{named['url']}").json()
    assert merged["pageCount"] == 6
    assert_error(requests.post(f"{server.url}/file/upload", data={"name": "x"}), 400)


def test_base64_upload_bare_and_data_uri(server: ThreadServer) -> None:
    content = make_jpeg()
    encoded = base64.b64encode(content).decode()
    bare = httpx.post(
        f"{server.url}/file/upload/base64", json={"file": encoded, "name": "b.jpg"}
    ).json()
    assert bare["name"] == "b.jpg" and httpx.get(bare["url"]).content == content
    uri = httpx.post(
        f"{server.url}/file/upload/base64", data={"file": f"data:image/jpeg;base64,{encoded}"}
    ).json()
    assert uri["name"] == "file.jpg" and httpx.get(uri["url"]).content == content
    assert_error(httpx.post(f"{server.url}/file/upload/base64", json={"file": "@@@"}), 400)
    assert_error(httpx.post(f"{server.url}/file/upload/base64", json={}), 400)


def test_upload_from_url_uses_the_source_policy(server: ThreadServer) -> None:
    body = httpx.get(f"{server.url}/file/upload/url", params={"url": mirror_url("blue.jpg")}).json()
    assert body["name"] == "blue.jpg" and httpx.get(body["url"]).content == make_jpeg(64, 48)
    copy = httpx.post(
        f"{server.url}/file/upload/url", json={"url": body["url"], "name": "copy.jpg"}
    ).json()
    assert copy["name"] == "copy.jpg" and httpx.get(copy["url"]).content == make_jpeg(64, 48)
    assert_error(
        httpx.get(
            f"{server.url}/file/upload/url", params={"url": "https://elsewhere.example.test/x.jpg"}
        ),
        403,
    )


def test_delete_by_url_or_file_in_query_or_body(server: ThreadServer) -> None:
    def upload() -> str:
        return str(
            requests.post(
                f"{server.url}/file/upload", files={"file": ("d.pdf", make_pdf(1))}
            ).json()["url"]
        )

    first, second = upload(), upload()
    response = requests.post(f"{server.url}/file/delete?file={first}")
    assert response.status_code == 200 and response.json()["error"] is False
    assert_error(requests.get(first), 404)
    assert requests.post(f"{server.url}/file/delete", json={"url": second}).status_code == 200
    assert_error(requests.get(second), 404)
    assert_error(requests.post(f"{server.url}/file/delete", json={"url": second}), 404)
    assert_error(requests.post(f"{server.url}/file/delete"), 400)


def test_expired_files_answer_404_and_are_swept(server: ThreadServer) -> None:
    store = LocalFileStore(server.settings.data_dir / "files")
    file_id = new_file_id()
    with store.writer(file_id, name="old.pdf", expires_at=utcnow() - timedelta(seconds=1)) as sink:
        sink.write(make_pdf(1))
    assert (server.settings.data_dir / "files" / file_id).is_file()
    url = f"{server.url}/files/{file_id}/old.pdf"
    assert_error(requests.get(url), 404)
    assert_error(requests.get(f"{server.url}/pdf/merge", params={"url": url}), 404)
    assert store.sweep() == 1
    assert not (server.settings.data_dir / "files" / file_id).exists()


def test_head_and_unknown_download(server: ThreadServer) -> None:
    body = requests.post(f"{server.url}/file/upload", files={"file": ("h.pdf", b"%PDF-x")}).json()
    head = requests.head(body["url"])
    assert head.status_code == 200 and head.headers["content-length"] == "6"
    assert_error(requests.get(f"{server.url}/files/{'C' * 32}/h.pdf"), 404)
    assert_error(requests.get(f"{server.url}/files/../../etc/passwd"), 404)


def test_uploads_over_the_size_limit_are_413(tmp_path: Path) -> None:
    with ThreadServer(Settings(data_dir=tmp_path, max_file_bytes=1000)) as live:
        big = bytes(range(256)) * 8
        assert_error(requests.post(f"{live.url}/file/upload", files={"file": ("b.bin", big)}), 413)
        encoded = base64.b64encode(big).decode()
        assert_error(requests.post(f"{live.url}/file/upload/base64", json={"file": encoded}), 413)
        body = presign(live, "b.bin")
        assert_error(requests.put(body["presignedUrl"], data=big), 413)
        assert_error(requests.get(body["url"]), 404)  # nothing half-stored
        assert requests.put(body["presignedUrl"], data=big[:1000]).status_code == 200
        assert requests.get(body["url"]).content == big[:1000]
        assert list((tmp_path / "files" / ".tmp").iterdir()) == []
