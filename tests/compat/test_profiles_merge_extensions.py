"""pdfbinder's own merge keys in ``profiles`` (what the web page sends): ``DropBookmarks``,
``Inputs`` with a page range and a password per ``url`` item, and ``padToEven`` and ``collate``
for double-sided printing and scanning, through the HTTP API."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pikepdf
import pytest

from tests.compat.test_profiles import job, outlined_pdf, result, upload
from tests.support.compat import ThreadServer, assert_error, make_jpeg, make_pdf, pdf_pages
from tests.support.merge_samples import text_pdf
from tests.support.office import page_texts


def outline_titles(data: bytes) -> list[str]:
    with pikepdf.open(io.BytesIO(data)) as pdf, pdf.open_outline() as outline:
        return [item.title for item in outline.root]


def test_each_input_takes_its_own_page_range_and_password(server: ThreadServer) -> None:
    plain = upload(server, "plain.pdf", make_pdf(4, width=200, height=100))
    locked = upload(server, "locked.pdf", make_pdf(3, width=300, height=150, password="pw"))
    photo = upload(server, "photo.jpg", make_jpeg(96, 48))
    inputs = [{"Pages": "z,2"}, {"password": "pw", "pages": "r1"}, {}]
    body = job(
        server, "/pdf/merge2", url=f"{plain},{locked},{photo}", profiles={"Inputs": inputs}
    ).json()
    pages = pdf_pages(result(body))
    assert pages == [(200.0, 100.0), (200.0, 100.0), (300.0, 150.0), (72.0, 36.0)]
    merged = job(
        server,
        "/pdf/merge",
        url=f"{locked},{plain}",
        profiles="{ 'Inputs': [{ 'Password': 'pw', 'Pages': '1' }, null], }",
    ).json()
    assert pdf_pages(result(merged)) == [(300.0, 150.0)] + [(200.0, 100.0)] * 4


def test_a_wrong_password_or_page_range_fails_naming_the_input(server: ThreadServer) -> None:
    locked = upload(server, "locked.pdf", make_pdf(1, password="pw"))
    wrong = job(server, "/pdf/merge2", url=locked, profiles={"Inputs": [{"Password": "no"}]})
    assert "locked.pdf" in assert_error(wrong, 441)["message"]
    plain = upload(server, "plain.pdf", make_pdf(2))
    beyond = job(server, "/pdf/merge2", url=plain, profiles={"Inputs": [{"Pages": "5"}]})
    assert "plain.pdf" in assert_error(beyond, 400)["message"]


def test_drop_bookmarks_leaves_no_outline(server: ThreadServer) -> None:
    first = upload(server, "a.pdf", outlined_pdf(2, ["One", "Two"]))
    second = upload(server, "b.pdf", outlined_pdf(1, ["Three"]))
    kept = result(job(server, "/pdf/merge2", url=f"{first},{second}").json())
    assert outline_titles(kept) == ["One", "Two", "Three"]
    dropped = job(server, "/pdf/merge2", url=f"{first},{second}", profiles={"DropBookmarks": True})
    assert outline_titles(result(dropped.json())) == []


@pytest.mark.parametrize(
    ("profiles", "wanted"),
    [
        ({"Inputs": {"Pages": "1"}}, "'Inputs' must be a list"),
        ({"Inputs": ["1-2"]}, "item 1 must be an object"),
        ({"Inputs": [{"Range": "1"}]}, "only Pages and Password"),
        ({"Inputs": [{"Pages": 3}]}, "must be text"),
        ({"Inputs": [{}, {}]}, "has 2 items for 1 url items"),
        ({"DropBookmarks": True, "GenerateBookmarks": True}, "cannot both be true"),
        ({"DropBookmarks": "maybe"}, "'DropBookmarks' must be true or false"),
        ({"padToEven": True, "collate": True}, "'padToEven' and collate cannot both be true"),
        ({"collate": "sometimes"}, "'collate' must be true or false"),
    ],
)
def test_bad_shapes_are_400_naming_the_key(
    server: ThreadServer, profiles: dict[str, object], wanted: str
) -> None:
    url = upload(server, "one.pdf", make_pdf(1))
    response = job(server, "/pdf/merge2", url=url, profiles=profiles)
    assert wanted in assert_error(response, 400)["message"]


def test_convert_reports_merge_keys_as_not_used(server: ThreadServer) -> None:
    url = upload(server, "photo.jpg", make_jpeg(40, 30))
    body = job(server, "/pdf/convert/from/image", url=url, profiles={"DropBookmarks": True})
    assert "'DropBookmarks' (not used by /pdf/convert/from/image)" in body.json()["message"]
    assert httpx.get(body.json()["url"]).status_code == 200


def test_collate_with_reversed_backs_gives_reading_order(
    server: ThreadServer, tmp_path: Path
) -> None:
    fronts = text_pdf(tmp_path / "fronts.pdf", ["page 1", "page 3", "page 5"], bookmarks=True)
    backs = text_pdf(tmp_path / "backs.pdf", ["page 6", "page 4", "page 2"])
    urls = f"{upload(server, 'fronts.pdf', fronts.read_bytes())},"
    urls += upload(server, "backs.pdf", backs.read_bytes())
    for route in ("/pdf/merge", "/pdf/merge2"):
        body = job(
            server, route, url=urls, profiles={"collate": True, "Inputs": [{}, {"Pages": "z-1"}]}
        ).json()
        merged = result(body)
        assert body["pageCount"] == 6
        assert page_texts(merged) == [f"page {n}" for n in range(1, 7)]
        assert outline_titles(merged) == ["page 1", "page 3", "page 5"]


def test_pad_to_even_gives_a_blank_page_the_size_of_the_last(server: ThreadServer) -> None:
    odd = upload(server, "odd.pdf", make_pdf(3, width=300, height=150))
    photo = upload(server, "photo.jpg", make_jpeg(96, 48))
    even = upload(server, "even.pdf", make_pdf(2, width=200, height=100))
    merged = job(server, "/pdf/merge", url=f"{odd},{even}", profiles="{padToEven: true}").json()
    assert pdf_pages(result(merged)) == [(300.0, 150.0)] * 4 + [(200.0, 100.0)] * 2
    mixed = job(server, "/pdf/merge2", url=f"{photo},{odd}", profiles={"PADTOEVEN": "true"})
    assert pdf_pages(result(mixed.json())) == [(72.0, 36.0)] * 2 + [(300.0, 150.0)] * 4
