"""``profiles: {"dryRun": true}``: the job routes answer the preflight report, store no file."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx
import pikepdf
from PIL import Image

from tests.compat.test_profiles import job, outlined_pdf, upload
from tests.support.compat import ThreadServer, make_jpeg, make_pdf, poll_job

_DRY = {"dryRun": True}


def _png_with_alpha() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (20, 10), (0, 0, 255, 128)).save(buffer, "PNG")
    return buffer.getvalue()


def _stored(server: ThreadServer) -> set[Path]:
    """Every file under the server's data directory except the job database."""
    return {
        path
        for path in Path(server.settings.data_dir).rglob("*")
        if path.is_file()
        and ".sqlite" not in path.name
        and not path.name.endswith(("-wal", "-shm"))
    }


def _report(body: dict[str, Any], status: object = 200) -> dict[str, Any]:
    assert body["error"] is False and body["status"] == status, body
    assert "url" not in body  # no file was made, so no link to one
    assert body["credits"] == 0
    report: dict[str, Any] = body["dryRun"]
    assert body["pageCount"] == (report["plan"]["page_count"] or 0)
    return report


def test_convert_dry_run_reports_routes_and_stores_nothing(server: ThreadServer) -> None:
    photo = upload(server, "photo.jpg", make_jpeg(64, 48))
    shot = upload(server, "shot.png", _png_with_alpha())
    before = _stored(server)

    body = job(
        server,
        "/pdf/convert/from/image",
        url=f"{photo},{shot}",
        profiles={"dryRun": True, "PageSize": "A4"},
    ).json()

    report = _report(body)
    assert _stored(server) == before
    jpeg, png = (item["image"]["frames"][0] for item in report["inputs"])
    assert (jpeg["embedding"], jpeg["method"]) == ("copied", "jpeg-passthrough")
    assert (png["embedding"], png["method"], png["alpha"]) == (
        "re-encoded",
        "png-alpha-split",
        True,
    )
    assert report["plan"]["operation"] == "images_to_pdf"
    assert report["plan"]["page_sizes"] == [[595.2756, 841.8898]] * 2
    assert "message" not in body  # dryRun is a known key, not an ignored one


def test_merge_dry_run_plans_bookmarks_and_renames(server: ThreadServer) -> None:
    first = upload(server, "a.pdf", outlined_pdf(2, ["One", "Two"]))
    second = upload(server, "b.pdf", outlined_pdf(1, ["Three"]))
    before = _stored(server)

    body = job(
        server,
        "/pdf/merge",
        url=f"{first},{second}",
        profiles={"dryRun": True, "GenerateBookmarks": True},
    ).json()

    report = _report(body)
    assert _stored(server) == before
    plan = report["plan"]
    assert (plan["operation"], plan["page_count"]) == ("merge_pdfs", 3)
    assert [(mark["title"], mark["page"]) for mark in plan["bookmarks"]] == [("a", 1), ("b", 3)]
    assert [child["title"] for child in plan["bookmarks"][0]["children"]] == ["One", "Two"]


def test_merge2_dry_run_lists_bad_inputs_instead_of_failing(server: ThreadServer) -> None:
    plain = upload(server, "plain.pdf", make_pdf(2))
    locked = upload(server, "locked.pdf", make_pdf(1, password="pw"))
    photo = upload(server, "photo.jpg", make_jpeg(40, 30))

    body = job(server, "/pdf/merge2", url=f"{plain},{locked},{photo}", profiles=_DRY).json()

    report = _report(body)
    kinds = [(item["kind"], item["problem_kind"]) for item in report["inputs"]]
    assert kinds == [("pdf", None), ("pdf", "PasswordRequired"), ("image", None)]
    assert report["plan"]["refused"] == [
        "input 2 (locked.pdf): is encrypted; a password is required"
    ]
    assert report["plan"]["page_count"] == 3

    opened = job(
        server,
        "/pdf/merge2",
        url=f"{plain},{locked}",
        profiles={"dryRun": True, "Inputs": [{}, {"Password": "pw"}]},
    ).json()
    locked_facts = _report(opened)["inputs"][1]["pdf"]
    assert (locked_facts["encrypted"], locked_facts["password"]) == (True, "user")


def test_async_dry_run_answers_through_job_check(server: ThreadServer) -> None:
    first = upload(server, "a.pdf", make_pdf(2))
    before = _stored(server)

    started = job(server, "/pdf/merge2", url=f"{first},{first}", profiles=_DRY, **{"async": True})
    answer = started.json()
    assert answer["error"] is False and "url" not in answer

    done = poll_job(server.url, answer["jobId"])

    report = _report(done, "success")
    assert report["plan"]["page_count"] == 4
    assert [item["pdf"]["pages"] for item in report["inputs"]] == [2, 2]
    assert _stored(server) == before


def test_a_real_run_after_a_dry_run_still_makes_the_file(server: ThreadServer) -> None:
    first = upload(server, "a.pdf", make_pdf(2))
    planned = _report(job(server, "/pdf/merge", url=first, profiles=_DRY).json())
    made = job(server, "/pdf/merge", url=first).json()
    with pikepdf.open(io.BytesIO(httpx.get(made["url"]).content)) as pdf:
        assert len(pdf.pages) == planned["plan"]["page_count"] == 2
