"""Office and text documents in merge_any, converted by the real LibreOffice in an OfficePool."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pikepdf
import pytest

from pdfbinder.engine import (
    CorruptInput,
    NamedSource,
    PasswordRequired,
    TooLarge,
    UnsupportedInput,
    WrongPassword,
    merge_any,
)
from pdfbinder.engine.merge.archives import ArchiveLimits
from pdfbinder.engine.office.pool import OfficePool
from tests.support.merge_samples import text_pdf
from tests.support.office import (
    LEGACY_TEXTS,
    auto_macro_odt,
    encrypt_docx,
    external_image_docx,
    legacy_documents,
    linked_content_odt,
    make_docx,
    make_pptx,
    make_rtf,
    make_xlsx,
    odt_paragraphs,
    open_with_every_macro_allowed,
    page_texts,
    process_ended,
    socket_files,
    soffice_pids,
    zip_of,
)
from tests.support.qpdf import qpdf_check


@pytest.fixture(scope="module")
def office() -> Iterator[OfficePool]:
    with OfficePool(processes=2, timeout=120) as pool:
        yield pool


def _merge(pool: OfficePool, tmp_path: Path, *inputs: NamedSource | Path, **options: Any) -> Path:
    out = tmp_path / "out.pdf"
    merge_any(list(inputs), out, office=pool, **options)
    qpdf_check(out)
    return out


FORMATS: list[tuple[str, Callable[[], bytes], list[str]]] = [
    (
        "report.docx",
        lambda: make_docx(
            [("Chapter One", "Alpha text."), ("Chapter Two", "Beta text.")], page_breaks=True
        ),
        ["Chapter One Alpha text.", "Chapter Two Beta text."],
    ),
    (
        "figures.xlsx",
        lambda: make_xlsx({"Income": [["Income in Q1"], [1200]], "Costs": [["Rent"], [300]]}),
        ["Income in Q1 1200", "Rent 300"],
    ),
    (
        "deck.pptx",
        lambda: make_pptx(["First slide", "Second slide", "Third slide"]),
        ["First slide", "Second slide", "Third slide"],
    ),
    (
        "notes.odt",
        lambda: odt_paragraphs("OpenDocument one", "OpenDocument two"),
        ["OpenDocument one OpenDocument two"],
    ),
    (
        "letter.rtf",
        lambda: make_rtf("Rich text one", "Rich text two"),
        ["Rich text one Rich text two"],
    ),
    (
        "readme.txt",
        lambda: "Plain text, UTF-8: café naïve\nSecond line\n".encode(),
        ["Plain text, UTF-8: café naïve Second line"],
    ),
    (
        "legacy.txt",
        lambda: "Windows-1252 text: déjà vu\n".encode("cp1252"),
        ["Windows-1252 text: déjà vu"],
    ),
    (
        "table.csv",
        lambda: b'name,amount\n"Smith, J",3\nformula,=1+2\n',
        ["table", "name amount Smith, J 3 formula =1+2", "Page 1"],
    ),
]


@pytest.mark.parametrize(("name", "build", "texts"), FORMATS, ids=[row[0] for row in FORMATS])
def test_each_format_gives_its_pages_and_text(
    office: OfficePool, tmp_path: Path, name: str, build: Callable[[], bytes], texts: list[str]
) -> None:
    out = _merge(office, tmp_path, NamedSource(build(), name))
    found = page_texts(out)
    if name.endswith(".csv"):
        # Calc prints the sheet (named after the file) in the header and the page number in
        # the footer; the cells are as written, the formula not evaluated.
        assert found == [" ".join(texts)]
    else:
        assert found == texts


def test_word_excel_and_powerpoint_97_files(
    office: OfficePool, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    documents = legacy_documents(tmp_path_factory.mktemp("legacy"))
    out = _merge(office, tmp_path, *(NamedSource(data, name) for name, data in documents.items()))
    assert page_texts(out) == [text for texts in LEGACY_TEXTS.values() for text in texts]


def test_docx_headings_become_bookmarks_and_merge_with_pdfs(
    office: OfficePool, tmp_path: Path
) -> None:
    docx = NamedSource(
        make_docx([("Chapter One", "Alpha."), ("Chapter Two", "Beta.")], page_breaks=True),
        "book.docx",
    )
    intro = text_pdf(tmp_path / "intro.pdf", ["intro page 1", "intro page 2"])
    out = _merge(office, tmp_path, intro, docx)
    assert page_texts(out) == [
        "intro page 1",
        "intro page 2",
        "Chapter One Alpha.",
        "Chapter Two Beta.",
    ]
    with pikepdf.open(out) as pdf, pdf.open_outline() as outline:
        targets = {
            item.title: pdf.pages.index(pdf.pages.from_objgen(*item.destination[0].objgen))
            for item in outline.root
        }
    assert targets == {"Chapter One": 2, "Chapter Two": 3}


def test_documents_inside_a_zip_in_archive_order(office: OfficePool, tmp_path: Path) -> None:
    archive = zip_of(
        {
            "b-first.docx": make_docx([("Zipped Word", "from the archive")]),
            "a-second.txt": b"zipped text file\n",
            "c-third.pdf": text_pdf(tmp_path / "m.pdf", ["zipped pdf"]).read_bytes(),
        }
    )
    out = _merge(office, tmp_path, NamedSource(archive, "bundle.zip"))
    assert page_texts(out) == ["Zipped Word from the archive", "zipped text file", "zipped pdf"]


def test_password_protected_docx(office: OfficePool, tmp_path: Path) -> None:
    locked = encrypt_docx(make_docx([("Secret", "Only with the password.")]), "opensesame")
    with pytest.raises(PasswordRequired) as caught:
        merge_any([NamedSource(locked, "locked.docx")], tmp_path / "x.pdf", office=office)
    assert caught.value.message == (
        "input 1 (locked.docx): is password-protected; a password is required"
    )
    with pytest.raises(WrongPassword, match=r"^input 1 \(locked\.docx\): .*password given"):
        merge_any(
            [NamedSource(locked, "locked.docx")], tmp_path / "x.pdf", office=office, password="no"
        )
    out = _merge(office, tmp_path, NamedSource(locked, "locked.docx"), password="opensesame")
    assert page_texts(out) == ["Secret Only with the password."]
    assert not (tmp_path / "x.pdf").exists()


def _damaged_xml_docx() -> bytes:
    """A DOCX that is a sound ZIP whose main part stops halfway through."""
    good = zipfile.ZipFile(io.BytesIO(make_docx([("Whole", "not for long")])))
    parts = {}
    for info in good.infolist():
        data = good.read(info.filename)
        parts[info.filename] = (
            data[: len(data) // 2] if info.filename == "word/document.xml" else data
        )
    return zip_of(parts)


def test_damaged_documents_are_corrupt_input_naming_them(
    office: OfficePool, tmp_path: Path
) -> None:
    whole = make_docx([("Whole", "document")])
    with pytest.raises(CorruptInput) as truncated:
        merge_any(
            [NamedSource(whole[: len(whole) // 2], "cut.docx")], tmp_path / "x.pdf", office=office
        )
    assert truncated.value.message.startswith("input 1 (cut.docx): is damaged: not a readable DOCX")
    with pytest.raises(CorruptInput) as damaged:
        merge_any(
            [text_pdf(tmp_path / "a.pdf", ["a"]), NamedSource(_damaged_xml_docx(), "half.docx")],
            tmp_path / "x.pdf",
            office=office,
        )
    assert damaged.value.message == (
        "input 2 (half.docx): cannot be read by LibreOffice; it is damaged or not what it seems"
    )
    # The pool is unharmed: the next document converts.
    assert page_texts(_merge(office, tmp_path, NamedSource(whole, "whole.docx"))) == [
        "Whole document"
    ]


def test_zip_limits_apply_to_documents_before_conversion(
    office: OfficePool, tmp_path: Path
) -> None:
    source = zipfile.ZipFile(io.BytesIO(make_docx([("Bomb", "x")])))
    members = {info.filename: source.read(info.filename) for info in source.infolist()}
    members["word/media/zeros.bin"] = b"\0" * 5_000_000
    with pytest.raises(
        TooLarge, match=r"^input 1 \(bomb\.docx/word/media/zeros\.bin\): expands \d+:1"
    ):
        merge_any([NamedSource(zip_of(members), "bomb.docx")], tmp_path / "x.pdf", office=office)
    small = make_docx([("Small", "enough")])
    with pytest.raises(TooLarge, match=r"^input 1 \(small\.docx\): is larger than the 1000 byte"):
        merge_any(
            [NamedSource(small, "small.docx")],
            tmp_path / "x.pdf",
            office=office,
            limits=ArchiveLimits(max_total_bytes=1000),
        )


def test_other_office_containers_are_refused_by_kind(tmp_path: Path) -> None:
    drawing = zip_of({"mimetype": b"application/vnd.oasis.opendocument.graphics"})
    with pytest.raises(UnsupportedInput) as caught:
        merge_any([NamedSource(drawing, "sketch.odg")], tmp_path / "x.pdf", office=OfficePool())
    assert caught.value.message == (
        "input 1 (sketch.odg): is application/vnd.oasis.opendocument.graphics, "
        "a kind of document merge does not convert"
    )


class _Recorder(BaseHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Recorder.requests.append(self.path)
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def origin() -> Iterator[str]:
    _Recorder.requests = []
    http = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{http.server_address[1]}"
    http.shutdown()
    http.server_close()


def test_linked_content_is_never_fetched(office: OfficePool, tmp_path: Path, origin: str) -> None:
    odt = tmp_path / "linked.odt"
    odt.write_bytes(linked_content_odt(origin))
    docx = tmp_path / "linked.docx"
    docx.write_bytes(external_image_docx(f"{origin}/docx-image.png"))
    # The control: LibreOffice as a user runs it, with a profile of its defaults, does fetch.
    profile = tmp_path / "default-profile"
    subprocess.run(
        [
            "soffice",
            "--headless",
            f"-env:UserInstallation={profile.as_uri()}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path / "control"),
            str(odt),
            str(docx),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    assert "/odt-image.png" in _Recorder.requests, _Recorder.requests
    _Recorder.requests = []
    out = _merge(office, tmp_path, odt, docx)
    assert page_texts(out)[0] == "Linked content below"
    assert _Recorder.requests == []


def test_a_macro_that_runs_on_opening_never_runs(office: OfficePool, tmp_path: Path) -> None:
    """The document's Basic macro, bound to its load event, would write a file and replace
    the text; converted, the text is the document's own and no file is written."""
    marker = tmp_path / "macro-ran.txt"
    document = tmp_path / "auto-run.odt"
    document.write_bytes(auto_macro_odt(marker))
    assert page_texts(_merge(office, tmp_path, document)) == ["Written by hand"]
    assert not marker.exists()
    # The control: LibreOffice opening it for a user who allowed every macro runs it.
    assert open_with_every_macro_allowed(document, tmp_path / "permissive", marker)
    assert marker.read_text().strip() == "macro ran"


def test_a_hung_libreoffice_times_out_and_is_replaced(tmp_path: Path) -> None:
    """SIGSTOP freezes LibreOffice, so the conversion cannot finish: no race with a clock."""
    document = NamedSource(make_docx([("Patience", "is tested")]), "slow.docx")
    others = soffice_pids(os.getpid())  # the module's pool
    with OfficePool(processes=1) as pool:
        assert page_texts(_merge(pool, tmp_path, document)) == ["Patience is tested"]
        pool.timeout = 3  # after the first document, which may take longer on a busy machine
        (frozen,) = soffice_pids(os.getpid()) - others
        os.kill(frozen, signal.SIGSTOP)
        began = time.monotonic()
        with pytest.raises(TooLarge) as caught:
            merge_any([document], tmp_path / "x.pdf", office=pool)
        assert time.monotonic() - began < 60
        assert caught.value.message == (
            "input 1 (slow.docx): took longer than the 3 s conversion limit; "
            "LibreOffice was stopped and restarted"
        )
        pool.timeout = 120  # a new LibreOffice's first document, again
        assert page_texts(_merge(pool, tmp_path, document)) == ["Patience is tested"]
        (replacement,) = soffice_pids(os.getpid()) - others
        assert replacement != frozen
        assert process_ended(frozen)


def _started_with(pid: int, table: str, prefix: bytes) -> Path:
    """The path after ``prefix`` in process ``pid``'s ``/proc`` ``table`` (``environ`` or
    ``cmdline``: entries separated by NUL bytes)."""
    entries = Path(f"/proc/{pid}/{table}").read_bytes().split(b"\0")
    (value,) = [entry[len(prefix) :] for entry in entries if entry.startswith(prefix)]
    return Path(os.fsdecode(value))


def _temp_files(pid: int) -> set[Path]:
    """What LibreOffice process ``pid`` keeps in its temp folder (its ``TMPDIR``)."""
    return set(_started_with(pid, "environ", b"TMPDIR=").glob("lu*.tmp"))


def test_a_libreoffice_that_died_idle_is_restarted_for_the_next_document(tmp_path: Path) -> None:
    """Killed, LibreOffice cannot remove its socket files and temp folder; the pool does, so
    a server that restarts LibreOffice for months does not fill /tmp."""
    document = NamedSource(make_docx([("Again", "and again")]), "again.docx")
    others = soffice_pids(os.getpid())  # the module's pool
    before = socket_files()
    with OfficePool(processes=1) as pool:
        _merge(pool, tmp_path, document)
        (first,) = soffice_pids(os.getpid()) - others
        first_temp = _temp_files(first)
        assert first_temp and all(path.parent != Path("/tmp") for path in first_temp)
        first_sockets = socket_files() - before
        assert {path.name.split("_")[3].split("-")[0] for path in first_sockets} == {
            "pdfbinder",
            "SingleOfficeIPC",
        }
        os.kill(first, signal.SIGKILL)
        assert page_texts(_merge(pool, tmp_path, document)) == ["Again and again"]
        (second,) = soffice_pids(os.getpid()) - others
        assert second != first
        second_sockets = socket_files() - before
        assert len(second_sockets) == 2
        assert second_sockets != first_sockets  # a new UNO pipe; the first pair's is gone
        assert not any(path.exists() for path in first_temp)
    assert soffice_pids(os.getpid()) - others == set()  # closing the pool ends its LibreOffice
    assert socket_files() - before == set()


_CONVERT_THEN_WAIT = """
import sys, time
from pdfbinder.engine.office.pool import OfficePool
pool = OfficePool(processes=1)
pool.convert(sys.argv[1], sys.argv[2])
print("converted", flush=True)
time.sleep(600)
"""


def test_when_the_process_running_the_pool_is_killed_its_libreoffice_ends_clean(
    tmp_path: Path,
) -> None:
    """No close, no exit handler: the driver sees its stdin end, kills LibreOffice and
    removes its socket files and the pool's folder (profiles, documents in conversion)."""
    document = tmp_path / "memo.rtf"
    document.write_bytes(make_rtf("Left alone"))
    before = socket_files()
    with subprocess.Popen(
        [sys.executable, "-c", _CONVERT_THEN_WAIT, str(document), str(tmp_path / "memo.pdf")],
        stdout=subprocess.PIPE,
        text=True,
    ) as owner:
        try:
            assert owner.stdout is not None and owner.stdout.readline() == "converted\n"
            assert page_texts(tmp_path / "memo.pdf") == ["Left alone"]
            (office,) = soffice_pids(owner.pid)
            assert len(socket_files() - before) == 2
            pool_folder = _started_with(office, "cmdline", b"-env:UserInstallation=file://").parent
            assert pool_folder.name.startswith("pdfbinder-office-")
        finally:
            owner.kill()
    deadline = time.monotonic() + 30
    while not process_ended(office) or socket_files() - before or pool_folder.exists():
        assert time.monotonic() < deadline, "LibreOffice or its files outlived the pool"
        time.sleep(0.1)


def test_without_soffice_the_error_names_the_input_and_the_fix(tmp_path: Path) -> None:
    missing = OfficePool(soffice=str(tmp_path / "no-such-soffice"))
    with pytest.raises(UnsupportedInput) as caught:
        merge_any([NamedSource(make_rtf("x"), "memo.rtf")], tmp_path / "x.pdf", office=missing)
    assert caught.value.message.startswith(
        f"input 1 (memo.rtf): cannot be converted: LibreOffice is not at {tmp_path}/"
        "no-such-soffice; to enable Office documents: apt install libreoffice-writer-nogui"
    )


def test_merge_any_without_a_pool_runs_one_for_the_call(tmp_path: Path) -> None:
    others = soffice_pids(os.getpid())  # the module's pool
    out = tmp_path / "out.pdf"
    report = merge_any([NamedSource(make_rtf("On its own"), "own.rtf")], out)
    assert report.page_count == 1
    assert page_texts(out) == ["On its own"]
    assert soffice_pids(os.getpid()) - others == set()
