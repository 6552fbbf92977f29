"""``pdfbinder serve`` as a real process: the vendor's seed scripts, API keys, a SIGKILL."""

from __future__ import annotations

import importlib.metadata
import io
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pikepdf
import pytest
import requests
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from pdfbinder.compat.jobs.local import INTERRUPTED_MESSAGE
from pdfbinder.compat.settings import Settings
from tests.support.cli import pdfbinder_script
from tests.support.compat import (
    SEED_IMAGES,
    ServeProcess,
    ThreadServer,
    assert_error,
    make_jpeg,
    make_noise_bmp,
    make_pdf,
    make_png,
    pdf_pages,
    poll_job,
)
from tests.support.hostile import raw_request
from tests.support.seeds import IMAGES_SEED, MERGE_SEED, run_seed, seed_code


@pytest.fixture(scope="module")
def seed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """``pdfbinder serve --url-map MIRROR`` where the mirror holds the first seed's images."""
    root = tmp_path_factory.mktemp("seed")
    folder = root / "mirror" / SEED_IMAGES
    folder.mkdir(parents=True)
    (folder / "image1.png").write_bytes(make_png(120, 90))
    (folder / "image2.jpg").write_bytes(make_jpeg(96, 144))
    with ServeProcess(root / "data", "--url-map", str(root / "mirror")) as process:
        yield process


def test_seed_convert_images_from_urls_async(seed_server: ServeProcess, tmp_path: Path) -> None:
    output = run_seed(seed_code(IMAGES_SEED, seed_server.url), tmp_path).stdout
    assert 'Result file saved as ".\\result.pdf" file.' in output, output
    assert pdf_pages((tmp_path / ".\\result.pdf").read_bytes()) == [(90.0, 67.5), (72.0, 108.0)]


def test_seed_merge_uploaded_files_async(seed_server: ServeProcess, tmp_path: Path) -> None:
    (tmp_path / ".\\sample1.pdf").write_bytes(make_pdf(2, width=200, height=100))
    (tmp_path / ".\\sample2.pdf").write_bytes(make_pdf(3, width=300, height=400))
    output = run_seed(seed_code(MERGE_SEED, seed_server.url), tmp_path).stdout
    assert 'Result file saved as ".\\result.pdf" file.' in output, output
    pages = pdf_pages((tmp_path / ".\\result.pdf").read_bytes())
    assert pages == [(200.0, 100.0)] * 2 + [(300.0, 400.0)] * 3


def test_a_client_written_like_the_vendors_image_to_pdf_sample(
    seed_server: ServeProcess, tmp_path: Path
) -> None:
    """The steps of the vendor's "images to PDF from uploaded files" Python sample (presigned
    uploads, a form post to ``/v1/pdf/convert/from/image``, a GET of the result), with the
    parameters its documentation lists in the shapes it shows: ``profiles`` as the multi-line
    encryption sample, ``pages`` as its "0, 1, 2-" example (not used here, and said so)."""
    base = f"{seed_server.url}/v1"
    images = {"image1.png": make_png(120, 90), "image2.jpg": make_jpeg(96, 144)}
    urls = []
    for name, data in images.items():
        presigned = requests.get(
            f"{base}/file/upload/get-presigned-url?contenttype=application/octet-stream&name={name}",
            headers={"x-api-key": "any key"},
        ).json()
        put = requests.put(
            presigned["presignedUrl"],
            data=data,
            headers={"x-api-key": "any key", "content-type": "application/octet-stream"},
        )
        assert put.status_code == 200
        urls.append(presigned["url"])
    profiles = (
        "{\n"
        "    'DataEncryptionAlgorithm': 'AES128',\n"
        "    'DataEncryptionKey': 'HelloThisKey1234',\n"
        "    'DataEncryptionIV': 'TreloThisKey1234'\n"
        "}"
    )
    answer = requests.post(
        f"{base}/pdf/convert/from/image",
        data={
            "name": os.path.basename(".\\result.pdf"),
            "url": ",".join(urls),
            "pages": "0, 1, 2-",
            "expiration": 5,
            "profiles": profiles,
        },
        headers={"x-api-key": "any key"},
    ).json()
    assert answer["error"] is False and answer["pageCount"] == 2, answer
    assert answer["message"] == (
        "Ignored parameters: 'pages' (every page of every image is converted)."
    )
    valid_till = datetime.fromisoformat(answer["outputLinkValidTill"])
    assert timedelta(minutes=4) < valid_till - datetime.now(timezone.utc) <= timedelta(minutes=5)
    encrypted = requests.get(answer["url"], stream=True).raw.read()
    decryptor = Cipher(
        algorithms.AES(b"HelloThisKey1234"), modes.CBC(b"TreloThisKey1234")
    ).decryptor()
    unpadder = padding.PKCS7(128).unpadder()
    plain = decryptor.update(encrypted) + decryptor.finalize()
    document = unpadder.update(plain) + unpadder.finalize()
    assert pdf_pages(document) == [(90.0, 67.5), (72.0, 108.0)]
    with pikepdf.open(io.BytesIO(document)) as pdf:
        (jpeg,) = pdf.pages[1].get_images().values()
        assert jpeg.read_raw_bytes() == images["image2.jpg"]


def test_api_keys_from_flags(tmp_path: Path) -> None:
    with ServeProcess(tmp_path / "data", "--api-key", "key-one", "--api-key", "key-two") as live:
        presign = f"{live.url}/file/upload/get-presigned-url?name=a.pdf"
        assert "API key" in assert_error(httpx.get(presign), 401)["message"]
        assert_error(httpx.get(presign, headers={"x-api-key": "key-three"}), 401)
        assert_error(httpx.get(f"{live.url}/v1/job/check?jobid=x&x-api-key=key-on"), 401)
        body = httpx.get(presign, headers={"x-api-key": "key-one"}).json()
        assert body["status"] == 200
        assert httpx.put(body["presignedUrl"], content=make_pdf(1)).status_code == 200
        assert httpx.get(body["url"]).status_code == 200  # downloads need no key
        merged = httpx.get(f"{live.url}/pdf/merge?url={body['url']}&x-api-key=key-two").json()
        assert merged["pageCount"] == 1
        assert_error(
            httpx.post(
                f"{live.url}/file/delete",
                params={"url": body["url"]},
                headers={"x-api-key": "key-two"},
            ),
            404,
        )  # not its owner
        assert (
            httpx.post(
                f"{live.url}/file/delete",
                params={"url": body["url"]},
                headers={"x-api-key": "key-one"},
            ).json()["status"]
            == 200
        )
        assert httpx.get(f"{live.url}/health").status_code == 200
    log = live.log()
    assert "key-one" not in log and "key-two" not in log and "key-on" not in log
    entries = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert {"method", "path", "status", "duration_ms"} <= set(entries[0])
    assert any(entry["status"] == 401 and entry["path"] == "/v1/job/check" for entry in entries)
    assert all("***" in entry["query"] for entry in entries if "key" in entry.get("query", ""))


def test_settings_from_environment(tmp_path: Path) -> None:
    env = {"PDFBINDER_API_KEYS": "env-a,env-b", "PDFBINDER_UNKNOWN_JOB_STATUS": "working"}
    with ServeProcess(tmp_path / "data", env=env) as live:
        check = f"{live.url}/job/check?jobid=nope"
        assert_error(httpx.get(check), 401)
        assert httpx.get(check, headers={"x-api-key": "env-b"}).json()["status"] == "working"


def _writing(pid: int, files: Path) -> bool:
    """Whether server ``pid`` is writing a file into the store at ``files``: an unnamed
    file of the store it holds open (Linux's O_TMPFILE, which ``/proc`` shows as
    ``files/#<inode> (deleted)``), or a named temp file under ``.tmp`` elsewhere."""
    if any((files / ".tmp").iterdir()):
        return True
    for descriptor in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(descriptor)
        except OSError:  # closed meanwhile
            continue
        if target.startswith(f"{files}/#"):
            return True
    return False


def test_sigkill_during_async_jobs_then_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    process = ServeProcess(data_dir, "--workers", "2").start()
    try:
        upload = {"file": ("noise.bmp", make_noise_bmp(600, 600))}
        image = httpx.post(f"{process.url}/file/upload", files=upload, timeout=30).json()["url"]
        quick = httpx.get(
            f"{process.url}/pdf/convert/from/image", params={"url": image, "async": "true"}
        ).json()
        poll_job(process.url, quick["jobId"], timeout=120)
        interrupted = [
            httpx.get(
                f"{process.url}/pdf/convert/from/image",
                params={"url": ",".join([image] * 20), "async": "true", "name": f"cut{n}.pdf"},
            ).json()
            for n in range(4)
        ]
        deadline = time.monotonic() + 120  # only bounds a failure; a loaded machine is slow
        files = data_dir / "files"
        temp = files / ".tmp"
        # Freeze the server while a result is being written, then kill it: the kill lands
        # mid-write however fast the machine is. A write that ended just before the freeze
        # is no catch: thaw and look again.
        while True:
            assert time.monotonic() < deadline, "no result was ever seen being written"
            if _writing(process.pid, files):
                os.kill(process.pid, signal.SIGSTOP)
                if _writing(process.pid, files):
                    break
                os.kill(process.pid, signal.SIGCONT)
            time.sleep(0.02)
        process.kill()
    finally:
        process.stop()

    with ServeProcess(data_dir) as restarted:
        assert not any(temp.iterdir())  # leftovers of interrupted writes are gone
        done = httpx.get(f"{restarted.url}/job/check", params={"jobid": quick["jobId"]}).json()
        assert done["status"] == "success"
        # Pillow writes BMP resolution as 3780 px/m, i.e. 96.01 dpi: 600 px is ~450 pt.
        assert pdf_pages(httpx.get(done["url"]).content) == [pytest.approx((450, 450), 0.01)]
        for job in interrupted:
            body = httpx.get(f"{restarted.url}/job/check", params={"jobid": job["jobId"]}).json()
            assert body["status"] == "failed" and body["message"] == INTERRUPTED_MESSAGE, body
            assert body["error"] is True and body["errorCode"] == 500
            # Same path on the restarted server (its port differs): no file, not a partial one.
            assert_error(httpx.get(restarted.url + urlsplit(job["url"]).path), 404)


def test_openapi_describes_the_real_parameters(tmp_path: Path) -> None:
    with ThreadServer(Settings(data_dir=tmp_path)) as live:
        schema = httpx.get(f"{live.url}/openapi.json").json()
    for path in ("/pdf/merge", "/v1/pdf/merge", "/pdf/convert/from/image", "/pdf/merge2"):
        for method in ("get", "post"):
            names = {param["name"] for param in schema["paths"][path][method]["parameters"]}
            assert {"url", "name", "async", "callback", "expiration"} <= names, (path, names)
    check = schema["paths"]["/job/check"]["get"]["parameters"]
    assert {param["name"] for param in check} >= {"jobid", "force"}
    assert "/file/upload/get-presigned-url" in schema["paths"]
    assert schema["info"]["version"] == importlib.metadata.version("pdfbinder")


@pytest.mark.parametrize("content", [None, "{not json", "[1, 2]"])
def test_bad_url_map_is_a_one_line_usage_error(tmp_path: Path, content: str | None) -> None:
    mapping = tmp_path / "map.json"
    if content is not None:
        mapping.write_text(content)
    done = subprocess.run(
        [
            pdfbinder_script(),
            "serve",
            "--url-map",
            str(mapping),
            "--data-dir",
            str(tmp_path / "data"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("pdfbinder: error: --url-map: ") and str(mapping) in line


def test_serve_answers_a_400kb_request_line_with_414_in_the_error_shape(
    seed_server: ServeProcess,
) -> None:
    target = b"/pdf/merge?url=https://files.example.test/" + b"a" * 400_000
    status, body = raw_request(
        seed_server.port, b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    )
    assert status == 414
    assert json.loads(body) == {
        "error": True,
        "status": 414,
        "message": "The request URL is longer than 65,536 bytes; "
        "send the parameters in a POST body instead.",
    }


def test_serve_answers_a_request_it_cannot_parse_in_the_error_shape(
    seed_server: ServeProcess,
) -> None:
    status, body = raw_request(seed_server.port, b"\x16\x03\x01 not http at all\r\n\r\n")
    assert status == 400
    answer = json.loads(body)
    assert answer["error"] is True and answer["status"] == 400


def test_the_access_log_can_be_switched_off(tmp_path: Path) -> None:
    """Off by flag or by environment: requests are answered as before and not logged, while
    the server's own lines (its start) still are."""
    for args, env in (("--no-access-log",), None), ((), {"PDFBINDER_ACCESS_LOG": "false"}):
        data = tmp_path / f"data-{len(args)}"
        with ServeProcess(data, *args, env=env) as live:
            assert httpx.get(f"{live.url}/health").status_code == 200
            assert_error(httpx.get(f"{live.url}/pdf/merge"), 400)
        log = live.log()
        assert "no access log" in log, log
        assert not [line for line in log.splitlines() if line.startswith("{")], log
