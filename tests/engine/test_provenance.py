"""Provenance: each output page's input and input page, each input's SHA-256, embedded originals."""

from __future__ import annotations

import hashlib
import io
import subprocess
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from pdfbinder.engine import NamedSource, PdfInput, images_to_pdf, merge_any, merge_pdfs
from pdfbinder.engine.provenance import PageOrigin, PageRun, Provenance
from tests.support.merge_samples import text_pdf
from tests.support.office import page_texts, zip_of


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _png(path: Path, size: tuple[int, int], colour: tuple[int, int, int]) -> Path:
    Image.new("RGB", size, colour).save(path)
    return path


def _tiff(path: Path, sizes: list[tuple[int, int]]) -> Path:
    frames = [Image.new("L", size, 40 * number) for number, size in enumerate(sizes)]
    frames[0].save(path, save_all=True, append_images=frames[1:], compression="tiff_lzw")
    return path


def test_runs_join_consecutive_pages_forwards_and_backwards() -> None:
    provenance = Provenance()
    provenance.add_pages(1, 0, [1, 2, 3, 5, 4, 3, 3])
    provenance.add_pages(8, 0, [4])  # same input, next call: still one run when it continues
    provenance.add_pages(9, 1, [2, 3], member="a.pdf")
    provenance.add_pages(11, 1, [4], member="b.pdf")
    assert provenance.runs == [
        PageRun(1, 3, 0, 1, 1),
        PageRun(4, 3, 0, 5, -1),
        PageRun(7, 2, 0, 3, 1),
        PageRun(9, 2, 1, 2, 1, "a.pdf"),
        PageRun(11, 1, 1, 4, 1, "b.pdf"),
    ]
    assert [run.to_json() for run in provenance.runs][1] == {
        "output": [4, 6],
        "input": 0,
        "pages": [5, 3],
    }


def test_images_map_every_frame_and_hash_the_bytes_read(tmp_path: Path) -> None:
    first = _png(tmp_path / "one.png", (30, 20), (200, 0, 0))
    scan = _tiff(tmp_path / "scan.tif", [(10, 10), (11, 12), (13, 14)])
    last = _png(tmp_path / "two.png", (40, 25), (0, 0, 200))
    out = tmp_path / "out.pdf"
    streamed = NamedSource(io.BytesIO(last.read_bytes()), "two.png")
    report = images_to_pdf([first, scan, streamed], out)
    provenance = report.provenance
    assert [item.to_json() for item in provenance.inputs] == [
        {
            "index": 0,
            "name": "one.png",
            "size": first.stat().st_size,
            "sha256": _sha(first.read_bytes()),
        },
        {
            "index": 1,
            "name": "scan.tif",
            "size": scan.stat().st_size,
            "sha256": _sha(scan.read_bytes()),
        },
        {
            "index": 2,
            "name": "two.png",
            "size": last.stat().st_size,
            "sha256": _sha(last.read_bytes()),
        },
    ]
    assert provenance.to_json()["pages"] == [
        {"output": [1, 1], "input": 0, "pages": [1, 1]},
        {"output": [2, 4], "input": 1, "pages": [1, 3]},
        {"output": [5, 5], "input": 2, "pages": [1, 1]},
    ]
    assert provenance.origin(3) == PageOrigin(1, "scan.tif", 2)
    with pytest.raises(IndexError):
        provenance.origin(6)
    # The map matches the pages: each page's image has its frame's size.
    expected = {1: (30, 20), 2: (10, 10), 3: (11, 12), 4: (13, 14), 5: (40, 25)}
    with pikepdf.open(out) as pdf:
        for number, size in expected.items():
            (image,) = pdf.pages[number - 1].get_images().values()
            assert (int(image.Width), int(image.Height)) == size
        assert "/Names" not in pdf.Root  # nothing embedded unless asked


def test_merge_maps_ranges_reversed_and_repeated_pages(tmp_path: Path) -> None:
    a = text_pdf(tmp_path / "a.pdf", ["a1", "a2", "a3", "a4"])
    b = text_pdf(tmp_path / "b.pdf", ["b1", "b2", "b3"])
    out = tmp_path / "out.pdf"
    inputs = [
        PdfInput(a, pages="2-4"),
        PdfInput(NamedSource(io.BytesIO(b.read_bytes()), "b.pdf"), pages="z-1"),
        PdfInput(NamedSource(a.read_bytes(), "again.pdf"), pages="1,1"),
    ]
    report = merge_pdfs(inputs, out)
    provenance = report.provenance
    assert [(item.index, item.name, item.size, item.sha256) for item in provenance.inputs] == [
        (0, "a.pdf", a.stat().st_size, _sha(a.read_bytes())),
        (1, "b.pdf", b.stat().st_size, _sha(b.read_bytes())),
        (2, "again.pdf", a.stat().st_size, _sha(a.read_bytes())),
    ]
    assert provenance.to_json()["pages"] == [
        {"output": [1, 3], "input": 0, "pages": [2, 4]},
        {"output": [4, 6], "input": 1, "pages": [3, 1]},
        {"output": [7, 7], "input": 2, "pages": [1, 1]},
        {"output": [8, 8], "input": 2, "pages": [1, 1]},
    ]
    texts = page_texts(out)
    sources = {0: "a", 1: "b", 2: "a"}
    for number, text in enumerate(texts, start=1):
        origin = provenance.origin(number)
        assert text == f"{sources[origin.input]}{origin.page}"


def test_merge_any_names_zip_members_and_hashes_the_archive(tmp_path: Path) -> None:
    one = text_pdf(tmp_path / "one.pdf", ["m1", "m2"])
    two = text_pdf(tmp_path / "two.pdf", ["n1"])
    archive = tmp_path / "bundle.zip"
    archive.write_bytes(zip_of({"x/one.pdf": one.read_bytes(), "two.pdf": two.read_bytes()}))
    photo = _png(tmp_path / "photo.png", (8, 8), (1, 2, 3))
    report = merge_any([photo, archive], tmp_path / "out.pdf")
    provenance = report.provenance
    assert [(item.name, item.sha256) for item in provenance.inputs] == [
        ("photo.png", _sha(photo.read_bytes())),
        ("bundle.zip", _sha(archive.read_bytes())),
    ]
    assert provenance.to_json()["pages"] == [
        {"output": [1, 1], "input": 0, "pages": [1, 1]},
        {"output": [2, 3], "input": 1, "pages": [1, 2], "member": "bundle.zip/x/one.pdf"},
        {"output": [4, 4], "input": 1, "pages": [1, 1], "member": "bundle.zip/two.pdf"},
    ]
    assert page_texts(tmp_path / "out.pdf")[1:] == ["m1", "m2", "n1"]


def _attachments(path: Path) -> dict[str, tuple[str, bytes, str, int, bytes]]:
    with pikepdf.open(path) as pdf:
        found = {}
        for key, spec in pdf.attachments.items():
            stream = spec.get_file()
            found[key] = (
                str(spec.filename),
                stream.read_bytes(),
                str(spec.description),
                int(stream.obj.Params.Size),
                bytes(stream.obj.Params.CheckSum),
            )
            assert spec.obj.AFRelationship == pikepdf.Name.Source
        return found


def _check(path: Path) -> None:
    done = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_images_attach_sources_embeds_byte_identical_originals(tmp_path: Path) -> None:
    first = _png(tmp_path / "page.png", (30, 20), (200, 0, 0))
    other = tmp_path / "other"
    other.mkdir()
    second = _png(other / "page.png", (31, 21), (0, 200, 0))  # same name, other bytes
    out = tmp_path / "out.pdf"
    report = images_to_pdf([first, second], out, attach_sources=True)
    _check(out)
    found = _attachments(out)
    assert sorted(found) == ["page.png", "page.png (2)"]
    for key, original, position in (("page.png", first, 1), ("page.png (2)", second, 2)):
        name, data, description, size, md5 = found[key]
        assert (name, data, size) == ("page.png", original.read_bytes(), len(data))
        assert md5 == hashlib.md5(data).digest()
        assert description == f"input {position}, SHA-256 {_sha(data)}"
        assert report.provenance.inputs[position - 1].sha256 == _sha(data)


def test_merge_attach_sources_embeds_pdfs_images_and_archives(tmp_path: Path) -> None:
    pdf = text_pdf(tmp_path / "a.pdf", ["a1", "a2"])
    photo = _png(tmp_path / "photo.png", (8, 8), (1, 2, 3))
    archive = tmp_path / "bundle.zip"
    archive.write_bytes(
        zip_of({"inner.pdf": text_pdf(tmp_path / "inner.pdf", ["i1"]).read_bytes()})
    )
    out = tmp_path / "out.pdf"
    streamed = NamedSource(io.BytesIO(photo.read_bytes()), "streamed.png")
    merge_any([PdfInput(pdf, pages="2"), photo, archive, streamed], out, attach_sources=True)
    _check(out)
    found = _attachments(out)
    assert {key: value[1] for key, value in found.items()} == {
        "a.pdf": pdf.read_bytes(),
        "photo.png": photo.read_bytes(),
        "bundle.zip": archive.read_bytes(),
        "streamed.png": photo.read_bytes(),
    }
    for _name, data, description, size, md5 in found.values():
        assert size == len(data) and md5 == hashlib.md5(data).digest()
        assert description.endswith(f"SHA-256 {_sha(data)}")
    assert page_texts(out)[0] == "a2"
