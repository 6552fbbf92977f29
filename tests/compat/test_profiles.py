"""``profiles`` on the convert and merge routes, through the HTTP API, in the value shapes the
vendor's docs and samples show: each documented key, unknown keys, bad values, garbage."""

from __future__ import annotations

import base64
import io
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pikepdf
import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from pikepdf import Name

from tests.support.compat import (
    MIRROR_HOST,
    ThreadServer,
    assert_error,
    make_jpeg,
    make_pdf,
    make_png,
    poll_job,
)
from tests.support.merge_samples import form_pdf
from tests.support.qpdf import qpdf_check

SAMPLE_KEY, SAMPLE_IV = "HelloThisKey1234", "TreloThisKey1234"  # the vendor's sample profile


def upload(server: ThreadServer, name: str, data: bytes) -> str:
    body = httpx.post(f"{server.url}/file/upload", files={"file": (name, data)}).json()
    assert body["error"] is False, body
    return str(body["url"])


def outlined_pdf(pages: int, titles: list[str], child: str | None = None) -> bytes:
    """``pages`` blank pages; bookmark i opens page i; ``child`` nests under the first one."""
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=(200, 100))
    with pdf.open_outline() as outline:
        for number, title in enumerate(titles):
            outline.root.append(pikepdf.OutlineItem(title, number))
        if child is not None:
            outline.root[0].children.append(pikepdf.OutlineItem(child, 1))
    buffer = io.BytesIO()
    pdf.save(buffer)
    return buffer.getvalue()


def job(server: ThreadServer, route: str, **fields: Any) -> httpx.Response:
    return httpx.post(f"{server.url}{route}", json=fields, timeout=60)


def result(body: dict[str, Any]) -> bytes:
    assert body["error"] is False and body["status"] == 200, body
    return httpx.get(body["url"]).content


def aes(key: str, iv: str) -> Cipher[modes.CBC]:
    return Cipher(algorithms.AES(key.encode()), modes.CBC(iv.encode()))


def encrypt(data: bytes, key: str = SAMPLE_KEY, iv: str = SAMPLE_IV) -> bytes:
    padder = padding.PKCS7(128).padder()
    encryptor = aes(key, iv).encryptor()
    return encryptor.update(padder.update(data) + padder.finalize()) + encryptor.finalize()


def decrypt(data: bytes, key: str = SAMPLE_KEY, iv: str = SAMPLE_IV) -> bytes:
    decryptor = aes(key, iv).decryptor()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(decryptor.update(data) + decryptor.finalize()) + unpadder.finalize()


def page_count(data: bytes) -> int:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        return len(pdf.pages)


# --- parsing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "profiles",
    [
        "{ 'GenerateBookmarks': true }",  # single quotes, bare true
        "{'GenerateBookmarks': 'True',}",  # the docs' quoted 'True', a trailing comma
        "'GenerateBookmarks': true",  # the docs' Python/C# tabs leave the braces out
        '{"GenerateBookmarks": "true", "zipIncludeFilter": null}',
        {"GenerateBookmarks": True},  # an object, not a string
        str({"GenerateBookmarks": True}),  # Python's str(dict): a bare True
        "{'GenerateBookmarks': True, 'zipIncludeFilter': None,}",
        "{'GenerateBookmarks': True, 'outputDataFormat': null}",  # both spellings at once
    ],
)
def test_loosely_written_profiles_parse(server: ThreadServer, profiles: Any) -> None:
    url = upload(server, "alpha.pdf", make_pdf(1))
    body = job(server, "/pdf/merge2", url=url, profiles=profiles).json()
    assert "message" not in body
    with pikepdf.open(io.BytesIO(result(body))) as pdf:
        assert [item.title for item in pdf.open_outline().root] == ["alpha"]


@pytest.mark.parametrize(
    "garbage",
    [
        "{{not: an object",
        "[1, 2]",
        "'a'",
        "{'a': Yes}",
        "{'a': True",
        "{" * 5000 + "}" * 5000,
        "{'a': " * 5000 + "True" + "}" * 5000,
    ],
)
def test_garbage_profiles_are_444(server: ThreadServer, garbage: str) -> None:
    url = upload(server, "one.pdf", make_pdf(1))
    body = assert_error(job(server, "/pdf/merge", url=url, profiles=garbage), 444)
    assert "profiles" in body["message"]


def test_python_str_of_a_dict_as_a_form_field(server: ThreadServer) -> None:
    """A Python client's ``data=`` form post with ``str()`` of a dict: the words True, False
    and None inside strings stay as they are."""
    url = upload(server, "alpha.pdf", outlined_pdf(2, ["True story", "None"]))
    profiles = str(
        {"GenerateBookmarks": True, "std_params": {"name": "None of it True.pdf"}, "x": False}
    )
    response = httpx.post(
        f"{server.url}/pdf/merge", data={"url": url, "profiles": profiles}, timeout=60
    )
    body = response.json()
    assert body["name"] == "None_of_it_True.pdf"
    assert body["message"] == "Ignored profiles keys: 'x' (unknown key)."
    with pikepdf.open(io.BytesIO(result(body))) as pdf:
        (top,) = pdf.open_outline().root
        assert (top.title, [item.title for item in top.children]) == (
            "alpha",
            ["True story", "None"],
        )


def test_deeply_nested_json_body_is_400_not_500(server: ThreadServer) -> None:
    nested = '{"url": ' + "[" * 5000 + "]" * 5000 + "}"
    response = httpx.post(
        f"{server.url}/pdf/merge", content=nested, headers={"content-type": "application/json"}
    )
    assert "nested" in assert_error(response, 400)["message"]


def test_deeply_nested_profiles_object_is_444(server: ThreadServer) -> None:
    nested = '{"url": "x", "profiles": "' + "{'a': " * 5000 + "1" + "}" * 5000 + '"}'
    response = httpx.post(
        f"{server.url}/pdf/merge", content=nested, headers={"content-type": "application/json"}
    )
    assert_error(response, 444)


def test_unknown_and_other_endpoint_keys_are_reported_in_the_message(server: ThreadServer) -> None:
    url = upload(server, "one.pdf", make_pdf(1))
    profiles = "{ 'NoSuchKey': 1, 'PageSize': 'A4', 'generatebookmarks': false }"
    body = job(server, "/pdf/merge", url=url, profiles=profiles).json()
    assert page_count(result(body)) == 1
    assert body["message"] == (
        "Ignored profiles keys: 'NoSuchKey' (unknown key); 'PageSize' (not used by /pdf/merge)."
    )


def test_async_job_message_reports_unknown_keys(server: ThreadServer) -> None:
    url = upload(server, "one.pdf", make_pdf(1))
    started = job(server, "/pdf/merge2", url=url, profiles="{'Mystery': 'x'}", **{"async": True})
    body = started.json()
    assert body["message"] == "Ignored profiles keys: 'Mystery' (unknown key)."
    done = poll_job(server.url, body["jobId"])
    assert done["status"] == "success"
    assert done["message"] == "Success. Ignored profiles keys: 'Mystery' (unknown key)."


@pytest.mark.parametrize(
    ("profiles", "key"),
    [
        ("{'GenerateBookmarks': 'maybe'}", "GenerateBookmarks"),
        ("{'RenameMatchingFieldsDuringMerge': 2}", "RenameMatchingFieldsDuringMerge"),
        ("{'outputDataFormat': 'hex'}", "outputDataFormat"),
        ("{'zipIncludeFilter': [1]}", "zipIncludeFilter"),
        (
            "{'DataEncryptionAlgorithm': 'AES512', 'DataEncryptionKey': 'k', "
            "'DataEncryptionIV': 'TreloThisKey1234'}",
            "DataEncryptionAlgorithm",
        ),
        (
            "{'DataEncryptionAlgorithm': 'AES256', 'DataEncryptionKey': 'HelloThisKey1234', "
            "'DataEncryptionIV': 'TreloThisKey1234'}",
            "DataEncryptionKey",
        ),
        (
            "{'DataDecryptionAlgorithm': 'AES128', 'DataDecryptionKey': 'HelloThisKey1234'}",
            "DataDecryptionIV",
        ),
    ],
)
def test_a_bad_value_is_400_naming_the_key(server: ThreadServer, profiles: str, key: str) -> None:
    url = upload(server, "one.pdf", make_pdf(1))
    body = assert_error(job(server, "/pdf/merge2", url=url, profiles=profiles), 400)
    assert f"'{key}'" in body["message"]


def test_std_params_override_ordinary_parameters(server: ThreadServer) -> None:
    url = upload(server, "one.pdf", make_pdf(1))
    profiles = "{ 'std_params': { 'name': 'from-profiles.pdf' } }"
    body = job(server, "/pdf/merge", url=url, name="outer.pdf", profiles=profiles).json()
    assert body["name"] == "from-profiles.pdf" and body["url"].endswith("/from-profiles.pdf")


# --- GenerateBookmarks ---------------------------------------------------------------------


@pytest.mark.parametrize("route", ["/pdf/merge", "/pdf/merge2"])
def test_generate_bookmarks_nests_each_inputs_outline_under_its_file_name(
    server: ThreadServer, route: str, tmp_path: Path
) -> None:
    first = upload(server, "chapters.pdf", outlined_pdf(3, ["One", "Two"], child="One.a"))
    second = upload(server, "appendix.pdf", make_pdf(2))
    body = job(
        server, route, url=f"{first},{second}", profiles="{ 'GenerateBookmarks': true }"
    ).json()
    output = tmp_path / "out.pdf"
    output.write_bytes(result(body))
    qpdf_check(output)
    with pikepdf.open(output) as pdf:
        pages = [page.obj.objgen for page in pdf.pages]
        root = pdf.Root.Outlines
        top = [root.First, root.First.Next]
        assert "/Next" not in top[1]
        assert [str(item.Title) for item in top] == ["chapters", "appendix"]
        assert [pages.index(item.Dest[0].objgen) for item in top] == [0, 3]
        assert all(item.Parent.objgen == root.objgen for item in top)
        one, two = top[0].First, top[0].Last
        assert [str(one.Title), str(two.Title)] == ["One", "Two"]
        assert one.Next.objgen == two.objgen and one.Parent.objgen == top[0].objgen
        assert [pages.index(one.Dest[0].objgen), pages.index(two.Dest[0].objgen)] == [0, 1]
        assert str(one.First.Title) == "One.a" and pages.index(one.First.Dest[0].objgen) == 1
        assert "/First" not in top[1]


def test_bookmark_titles_are_the_names_clients_gave(server: ThreadServer) -> None:
    """Uploaded by every route and fetched by URL: the titles are the names as given, only
    without what no title should hold (a path, a line break, a right-to-left override); the
    files are still stored and served under safe names."""
    base = server.url
    multipart = upload(server, "annual report.pdf", make_pdf(1))
    presigned = httpx.get(
        f"{base}/file/upload/get-presigned-url", params={"name": "Q3 – résumé.pdf"}
    ).json()
    assert httpx.put(presigned["presignedUrl"], content=make_pdf(1)).status_code == 200
    encoded = httpx.post(
        f"{base}/file/upload/base64",
        json={
            "file": base64.b64encode(make_pdf(1)).decode(),
            "name": "C:\\Users\\me\\notes\u202e\nfinal.pdf",
        },
    ).json()
    from_url = httpx.post(
        f"{base}/file/upload/url", json={"url": f"http://{MIRROR_HOST}/annual%20report%202025.pdf"}
    ).json()
    mapped = f"http://{MIRROR_HOST}/annual%20report%202025.pdf"
    urls = [multipart, presigned["url"], encoded["url"], from_url["url"], mapped]
    assert [url.rsplit("/", 1)[-1] for url in urls[:4]] == [
        "annual_report.pdf",
        "Q3_r_sum_.pdf",
        "notes_final.pdf",
        "annual_report_2025.pdf",
    ]
    body = job(server, "/pdf/merge2", url=",".join(urls), profiles="{'GenerateBookmarks': true}")
    with pikepdf.open(io.BytesIO(result(body.json()))) as pdf:
        assert [item.title for item in pdf.open_outline().root] == [
            "annual report",
            "Q3 – résumé",
            "notes final",
            "annual report 2025",
            "annual report 2025",
        ]


def test_error_messages_name_inputs_as_given(server: ThreadServer) -> None:
    damaged = upload(server, "my scan (old).pdf", b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog")
    body = assert_error(job(server, "/pdf/merge", url=damaged), 442)
    assert body["message"].startswith("input 1 (my scan (old).pdf): ")


def test_without_generate_bookmarks_outlines_are_kept_side_by_side(server: ThreadServer) -> None:
    first = upload(server, "chapters.pdf", outlined_pdf(2, ["One", "Two"]))
    body = job(server, "/pdf/merge", url=f"{first},{first}").json()
    with pikepdf.open(io.BytesIO(result(body))) as pdf:
        assert [item.title for item in pdf.open_outline().root] == ["One", "Two", "One", "Two"]


# --- RenameMatchingFieldsDuringMerge -------------------------------------------------------


def test_rename_matching_fields_false_joins_same_named_fields(
    server: ThreadServer, tmp_path: Path
) -> None:
    a = upload(server, "a.pdf", form_pdf(tmp_path / "a.pdf", "Alice", agreed=True).read_bytes())
    b = upload(server, "b.pdf", form_pdf(tmp_path / "b.pdf", "Bob", agreed=False).read_bytes())
    profiles = "{ 'RenameMatchingFieldsDuringMerge': false }"
    output = tmp_path / "joined.pdf"
    output.write_bytes(result(job(server, "/pdf/merge", url=f"{a},{b}", profiles=profiles).json()))
    qpdf_check(output)
    with pikepdf.open(output) as pdf:
        fields = {str(field.T): field for field in pdf.Root.AcroForm.Fields}
        assert sorted(fields) == ["address", "agree", "name"]
        name = fields["name"]
        assert str(name.V) == "Alice" and len(name.Kids) == 2
        assert [w.P.objgen for w in name.Kids] == [page.obj.objgen for page in pdf.pages]
        assert str(fields["agree"].V) == "/Yes"
        assert [w.AS for w in fields["agree"].Kids] == [Name.Yes, Name.Yes]


def test_fields_are_renamed_by_default(server: ThreadServer, tmp_path: Path) -> None:
    a = upload(server, "a.pdf", form_pdf(tmp_path / "a.pdf", "Alice", agreed=True).read_bytes())
    body = job(server, "/pdf/merge2", url=f"{a},{a}", profiles="{}").json()
    with pikepdf.open(io.BytesIO(result(body))) as pdf:
        names = sorted(str(field.T) for field in pdf.Root.AcroForm.Fields)
    assert names == ["address", "address_2", "agree", "agree_2", "name", "name_2"]


# --- zip filters ---------------------------------------------------------------------------


@pytest.fixture
def archive_url(server: ThreadServer) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.pdf", make_pdf(1, width=101))
        archive.writestr("photos/b.PNG", make_png(40, 30))
        archive.writestr("scans/c.pdf", make_pdf(1, width=303))
        archive.writestr("d.jpg", make_jpeg(64, 48))
    return upload(server, "bundle.zip", buffer.getvalue())


def _widths(data: bytes) -> list[int]:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        return [round(float(page.mediabox[2])) for page in pdf.pages]


@pytest.mark.parametrize(
    ("profiles", "widths"),
    [
        ("{}", [101, 30, 303, 48]),
        ("{ 'zipIncludeFilter': '*.pdf' }", [101, 303]),
        ("{ 'zipExcludeFilter': '*.png,*.jpg' }", [101, 303]),
        ("{ 'zipIncludeFilter': '*.png, d.*', }", [30, 48]),
        ("{ 'zipIncludeFilter': '*.pdf', 'zipExcludeFilter': 'scans/*' }", [101]),
        ("{ 'zipIncludeFilter': '?.pdf' }", [101, 303]),
    ],
)
def test_zip_filters_pick_members_by_wildcard(
    server: ThreadServer, archive_url: str, profiles: str, widths: list[int]
) -> None:
    body = job(server, "/pdf/merge2", url=archive_url, profiles=profiles).json()
    assert _widths(result(body)) == widths


# --- outputDataFormat and user-controlled encryption ---------------------------------------


def test_output_data_format_base64_sync_and_async(server: ThreadServer) -> None:
    url = upload(server, "two.pdf", make_pdf(2))
    profiles = "{ 'outputDataFormat': 'base64' }"
    body = job(server, "/pdf/merge", url=url, profiles=profiles).json()
    text = result(body)
    assert text.startswith(b"JVBERi0") and page_count(base64.b64decode(text, validate=True)) == 2

    started = job(server, "/pdf/merge", url=url, profiles=profiles, **{"async": True}).json()
    done = poll_job(server.url, started["jobId"])
    assert done["status"] == "success" and done["url"] == started["url"]
    assert page_count(base64.b64decode(httpx.get(done["url"]).content, validate=True)) == 2


@pytest.mark.parametrize(
    ("algorithm", "key"),
    [
        ("AES128", SAMPLE_KEY),
        ("AES192", "HelloThisKey1234abcdefgh"),
        ("AES256", "HelloThisKey1234abcdefghijklmnop"),
    ],
)
def test_output_is_encrypted_as_documented(server: ThreadServer, algorithm: str, key: str) -> None:
    url = upload(server, "two.pdf", make_pdf(2))
    profiles = (
        f"{{ 'DataEncryptionAlgorithm': '{algorithm}', 'DataEncryptionKey': '{key}', "
        f"'DataEncryptionIV': '{SAMPLE_IV}' }}"
    )
    encrypted = result(
        job(
            server,
            "/pdf/convert/from/image",
            url=upload(server, "red.png", make_png(40, 30)),
            profiles=profiles,
        ).json()
    )
    assert not encrypted.startswith(b"%PDF") and len(encrypted) % 16 == 0
    assert page_count(decrypt(encrypted, key)) == 1
    merged = result(job(server, "/pdf/merge", url=f"{url},{url}", profiles=profiles).json())
    assert page_count(decrypt(merged, key)) == 4


def test_the_vendor_sample_decrypts_inputs_and_encrypts_the_output(server: ThreadServer) -> None:
    """The profile of the vendor's "Merge Encoded PDF Documents to Encoded Output" samples."""
    first = upload(server, "sample_encrypted_aes128.pdf", encrypt(make_pdf(1)))
    second = upload(server, "second.pdf", encrypt(make_pdf(2)))
    profiles = (
        "{ 'DataDecryptionAlgorithm': 'AES128', 'DataDecryptionKey': 'HelloThisKey1234', "
        "'DataDecryptionIV': 'TreloThisKey1234', 'DataEncryptionAlgorithm': 'AES128', "
        "'DataEncryptionKey': 'HelloThisKey1234', 'DataEncryptionIV': 'TreloThisKey1234' }"
    )
    body = job(server, "/pdf/merge", url=f"{first}, {second}", profiles=profiles, **{"async": True})
    done = poll_job(server.url, body.json()["jobId"])
    assert done["status"] == "success", done
    assert page_count(decrypt(httpx.get(done["url"]).content)) == 3


def test_encrypted_then_base64(server: ThreadServer) -> None:
    url = upload(server, "two.pdf", make_pdf(2))
    profiles = (
        "{ 'outputDataFormat': 'base64', 'DataEncryptionAlgorithm': 'AES128', "
        f"'DataEncryptionKey': '{SAMPLE_KEY}', 'DataEncryptionIV': '{SAMPLE_IV}' }}"
    )
    text = result(job(server, "/pdf/merge", url=url, profiles=profiles).json())
    assert page_count(decrypt(base64.b64decode(text, validate=True))) == 2


def test_a_wrong_decryption_key_names_the_input(server: ThreadServer) -> None:
    good = upload(server, "fine.pdf", encrypt(make_pdf(1)))
    other = upload(server, "other-key.pdf", encrypt(make_pdf(1), key="0123456789abcdef"))
    profiles = (
        f"{{ 'DataDecryptionAlgorithm': 'AES128', 'DataDecryptionKey': '{SAMPLE_KEY}', "
        f"'DataDecryptionIV': '{SAMPLE_IV}' }}"
    )
    body = assert_error(job(server, "/pdf/merge2", url=f"{good},{other}", profiles=profiles), 442)
    assert "input 2 (other-key.pdf)" in body["message"] and "DataDecryption" in body["message"]


# --- layout extensions ---------------------------------------------------------------------


def test_layout_options_through_profiles(server: ThreadServer) -> None:
    wide = upload(server, "wide.png", make_png(400, 200))
    profiles = "{ 'PageSize': 'A4', 'Margin': '10mm', 'Fit': 'fill', 'AutoOrient': true }"
    data = result(job(server, "/pdf/convert/from/image", url=wide, profiles=profiles).json())
    with pikepdf.open(io.BytesIO(data)) as pdf:
        (page,) = pdf.pages
        assert [round(float(v)) for v in page.mediabox[2:]] == [842, 595]  # A4 turned landscape
        content = page.Contents.read_bytes().decode()
    assert "cm" in content


def test_a_bad_layout_value_names_the_key(server: ThreadServer) -> None:
    url = upload(server, "red.png", make_png(40, 30))
    body = assert_error(
        job(server, "/pdf/convert/from/image", url=url, profiles="{'PageSize': 'Z9'}"), 400
    )
    assert "'PageSize'" in body["message"]
