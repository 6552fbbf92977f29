"""The routes behind the web page: the page itself, /file/thumbnail and /capabilities."""

from __future__ import annotations

import io
from collections.abc import Iterator
from fnmatch import fnmatch
from pathlib import Path

import httpx
import pikepdf
import pytest
from PIL import Image

from pdfbinder.compat.settings import Settings
from pdfbinder.compat.web import STATIC_DIR
from tests.support.compat import ThreadServer, assert_error, make_jpeg, make_pdf, make_png
from tests.support.environment import read_pyproject


def coloured_pdf(pages: int, rgb: tuple[float, float, float], size: tuple[int, int]) -> bytes:
    """A PDF whose first page is filled with one colour (the others blank)."""
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=size)
    fill = f"{rgb[0]} {rgb[1]} {rgb[2]} rg 0 0 {size[0]} {size[1]} re f".encode()
    pdf.pages[0].Contents = pdf.make_stream(fill)
    buffer = io.BytesIO()
    pdf.save(buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServer]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("keyed"), api_keys=["k1", "k2"])
    with ThreadServer(settings) as running:
        yield running


def upload(base: str, name: str, data: bytes, key: str | None = None) -> str:
    headers = {"x-api-key": key} if key else {}
    target = httpx.get(
        f"{base}/file/upload/get-presigned-url", params={"name": name}, headers=headers
    ).json()
    httpx.put(target["presignedUrl"], content=data).raise_for_status()
    url: str = target["url"]
    return url


def png_of(response: httpx.Response) -> Image.Image:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    return Image.open(io.BytesIO(response.content)).convert("RGB")


def test_page_is_served_at_root_with_a_self_only_policy(server: ThreadServer) -> None:
    page = httpx.get(f"{server.url}/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert policy.startswith("default-src 'self';")
    assert "img-src 'self' blob:" in policy
    assert "http" not in policy  # no other origin anywhere in it
    assert page.headers["x-content-type-options"] == "nosniff"
    assert '<script type="module" src="/web/main.js">' in page.text
    script = httpx.get(f"{server.url}/web/main.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert script.headers["content-security-policy"] == policy
    assert httpx.get(f"{server.url}/web/../settings.py").status_code == 404


def test_page_and_assets_load_nothing_from_elsewhere() -> None:
    for path in STATIC_DIR.iterdir():
        text = path.read_text(encoding="utf-8")
        for marker in ("http://", "https://", "//cdn", "@import", "fonts.g"):
            assert marker not in text.replace("http://www.w3.org/2000/svg", ""), (path, marker)


def test_no_ui_leaves_root_to_the_api(tmp_path: Path) -> None:
    with ThreadServer(Settings(data_dir=tmp_path, web_ui=False)) as running:
        assert_error(httpx.get(f"{running.url}/"), 404)
        assert_error(httpx.get(f"{running.url}/web/main.js"), 404)
        assert httpx.get(f"{running.url}/health").status_code == 200


def test_thumbnail_of_a_pdf_shows_its_first_page_and_counts_pages(server: ThreadServer) -> None:
    url = upload(server.url, "red.pdf", coloured_pdf(3, (1, 0, 0), (400, 200)))
    response = httpx.get(f"{server.url}/file/thumbnail", params={"url": url, "size": 100})
    image = png_of(response)
    assert image.size == (100, 50)  # longer side = size, proportions kept
    assert image.getpixel((50, 25)) == (255, 0, 0)
    assert response.headers["x-page-count"] == "3"
    assert response.headers["cache-control"].startswith("private, max-age=")
    assert 3000 < int(response.headers["cache-control"].rsplit("=", 1)[1]) <= 3600
    default = png_of(httpx.post(f"{server.url}/v1/file/thumbnail", json={"url": url}))
    assert max(default.size) == 160


def test_thumbnail_of_an_image_is_bounded_and_upright(server: ThreadServer) -> None:
    url = upload(server.url, "wide.png", make_png(1000, 250, (10, 200, 30)))
    image = png_of(httpx.get(f"{server.url}/file/thumbnail", params={"url": url}))
    assert image.size == (160, 40)
    assert image.getpixel((80, 20)) == (10, 200, 30)
    photo = upload(server.url, "photo.jpg", make_jpeg(64, 48))
    response = httpx.get(f"{server.url}/file/thumbnail", params={"url": photo, "size": 32})
    assert png_of(response).size == (32, 24)
    assert response.headers["x-page-count"] == "1"


def test_thumbnail_refusals_are_in_the_error_shape(server: ThreadServer) -> None:
    base = server.url
    broken = upload(base, "broken.pdf", b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pag")
    body = assert_error(httpx.get(f"{base}/file/thumbnail", params={"url": broken}), 442)
    assert body["message"] == "broken.pdf: damaged or not a PDF: it cannot be opened"
    junk = upload(base, "notes.txt", b"plain words, not a picture")
    body = assert_error(httpx.get(f"{base}/file/thumbnail", params={"url": junk}), 442)
    assert body["message"] == "notes.txt: not a PDF nor an image in a supported format"
    locked = upload(base, "locked.pdf", make_pdf(1, password="s3cret"))
    body = assert_error(httpx.get(f"{base}/file/thumbnail", params={"url": locked}), 441)
    assert body["message"] == "locked.pdf: this PDF is encrypted: give its password"
    wrong = httpx.post(f"{base}/file/thumbnail", json={"url": locked, "password": "nope"})
    assert assert_error(wrong, 441)["message"] == "locked.pdf: the password does not open this PDF"
    opened = httpx.post(f"{base}/file/thumbnail", json={"url": locked, "password": "s3cret"})
    assert png_of(opened).size == (160, 80)
    assert opened.headers["cache-control"] == "no-store"

    assert "url" in assert_error(httpx.get(f"{base}/file/thumbnail"), 400)["message"]
    too_big = httpx.get(f"{base}/file/thumbnail", params={"url": broken, "size": 5000})
    assert "'size'" in assert_error(too_big, 400)["message"]
    remote = httpx.get(f"{base}/file/thumbnail", params={"url": "https://example.test/a.pdf"})
    assert_error(remote, 404)
    gone = broken.replace("/files/", "/files/x")
    assert_error(httpx.get(f"{base}/file/thumbnail", params={"url": gone}), 404)


def test_thumbnail_needs_the_key_of_the_files_owner(keyed: ThreadServer) -> None:
    url = upload(keyed.url, "mine.pdf", make_pdf(2), key="k1")
    endpoint = f"{keyed.url}/file/thumbnail"
    assert_error(httpx.get(endpoint, params={"url": url}), 401)
    assert_error(httpx.get(endpoint, params={"url": url}, headers={"x-api-key": "k2"}), 404)
    own = httpx.get(endpoint, params={"url": url}, headers={"x-api-key": "k1"})
    assert own.headers["x-page-count"] == "2"
    assert own.headers["vary"] == "x-api-key"


def test_capabilities_say_what_the_page_may_offer(
    server: ThreadServer, keyed: ThreadServer
) -> None:
    open_server = httpx.get(f"{server.url}/capabilities").json()
    assert open_server["apiKeyRequired"] is False
    assert open_server["thumbnails"] == "/file/thumbnail"
    assert open_server["maxFileBytes"] == server.settings.max_file_bytes
    assert open_server["officeDocuments"] is True  # LibreOffice is installed (.ci/run)
    assert httpx.get(f"{keyed.url}/v1/capabilities").json()["apiKeyRequired"] is True


def test_openapi_documents_the_thumbnail_route(server: ThreadServer) -> None:
    schema = httpx.get(f"{server.url}/openapi.json").json()
    for method in ("get", "post"):
        operation = schema["paths"]["/file/thumbnail"][method]
        names = {parameter["name"] for parameter in operation["parameters"]}
        assert {"url", "size", "password", "x-api-key"} <= names
        assert "image/png" in operation["responses"]["200"]["content"]
        assert "X-Page-Count" in operation["responses"]["200"]["headers"]
    assert "/capabilities" in schema["paths"]
    assert "/" not in schema["paths"]


def test_the_package_data_ships_every_page_file() -> None:
    """A plain (non-editable) install must carry the page: every static file is package data."""
    config = read_pyproject()["tool"]
    assert "pdfbinder.compat.web" in config["setuptools"]["packages"]
    patterns = config["setuptools"]["package-data"]["pdfbinder.compat.web"]
    for path in STATIC_DIR.iterdir():
        relative = f"static/{path.name}"
        assert any(fnmatch(relative, pattern) for pattern in patterns), relative


def test_capabilities_say_so_when_office_documents_cannot_be_converted(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, soffice=str(tmp_path / "no-soffice-here"))
    with ThreadServer(settings) as running:
        assert httpx.get(f"{running.url}/capabilities").json()["officeDocuments"] is False
