"""Every crash the fuzzers found, as a fixed test (inputs built here: they are tiny).

Found by test_fuzz_merge_any.py, fixed in engine/merge/archives.py:
``zipfile`` raises ``NotImplementedError`` for a member whose header names an
unknown compression method, ``zlib.error``/``lzma.LZMAError`` (not
``BadZipFile``) for damaged compressed data, and ``UnicodeDecodeError`` for a
header flagged UTF-8 whose name is not (the central directory's already when
the archive is opened); all escaped ``merge_any`` as tracebacks instead of
errors naming the archive or member.

Found by test_fuzz_pdfs.py, fixed in engine/merge/merge.py: a trailer ``/Info``
that is not a dictionary (a mutated object number made it the page tree) was
dropped by the copy, and reading it back raised ``AttributeError``.
"""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import pikepdf
import pytest

from pdfbinder.engine import CorruptInput, EngineError, UnsupportedInput, merge_any, merge_pdfs


def _one_page_pdf() -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(100, 100))
    buffer = io.BytesIO()
    pdf.save(buffer)
    return buffer.getvalue()


def _archive(method: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("page.pdf", _one_page_pdf(), compress_type=method)
    return buffer.getvalue()


def _set_method(data: bytes, method: int) -> bytes:
    """The member's compression method rewritten in its local and central headers."""
    out = bytearray(data)
    out[8:10] = struct.pack("<H", method)
    central = data.index(b"PK\x01\x02")
    out[central + 10 : central + 12] = struct.pack("<H", method)
    return bytes(out)


def _damage_compressed_byte(data: bytes, offset: int, value: int) -> bytes:
    """Byte ``offset`` of the first member's compressed data set to ``value``."""
    name_length, extra_length = struct.unpack("<HH", data[26:30])
    at = 30 + name_length + extra_length + offset
    return data[:at] + bytes([value]) + data[at + 1 :]


def _bad_utf8_name(header: bytes) -> bytes:
    """The member's name is UTF-8 (flag 0x800); in ``header`` its second byte is not.

    ``header`` is the local (``PK\\3\\4``) or central (``PK\\1\\2``) signature.
    """
    buffer = io.BytesIO()
    # Deflated: a stored PDF's "%PDF-" in the first kilobyte would make it a PDF input.
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("é.pdf", _one_page_pdf())
    data = buffer.getvalue()
    name_at = data.index(header) + (30 if header == b"PK\x03\x04" else 46)
    assert data[name_at : name_at + 2] == "é".encode()
    return data[: name_at + 1] + b"(" + data[name_at + 2 :]  # 0xC3 0x28: lead byte, no follower


CASES = {
    # Method 99 is AES in WinZip's scheme and unknown to zipfile.
    "unknown compression method": (
        _set_method(_archive(zipfile.ZIP_DEFLATED), 99),
        UnsupportedInput,
        "compression method is not supported",
    ),
    # 0x07: final block of type 3, which Deflate reserves: zlib.error.
    "damaged deflate data": (
        _damage_compressed_byte(_archive(zipfile.ZIP_DEFLATED), 0, 0x07),
        CorruptInput,
        "cannot be extracted",
    ),
    # Byte 4 of a ZIP LZMA member is its lc/lp/pb properties byte; 0xFF is out of range.
    "damaged lzma data": (
        _damage_compressed_byte(_archive(zipfile.ZIP_LZMA), 4, 0xFF),
        CorruptInput,
        "cannot be extracted",
    ),
    "local name not UTF-8": (_bad_utf8_name(b"PK\x03\x04"), CorruptInput, "cannot be extracted"),
    "central name not UTF-8": (
        _bad_utf8_name(b"PK\x01\x02"),
        CorruptInput,
        "is not a readable ZIP archive",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_broken_archive_member_is_a_clear_error(case: str, tmp_path: Path) -> None:
    archive, expected, reason = CASES[case]
    source = tmp_path / "upload.zip"
    source.write_bytes(archive)
    output = tmp_path / "out" / "merged.pdf"
    output.parent.mkdir()
    with pytest.raises(EngineError) as caught:
        merge_any([source], output)
    assert type(caught.value) is expected, caught.value
    assert caught.value.message.startswith("input 1 (upload.zip")
    assert reason in caught.value.message and "\n" not in caught.value.message
    assert list(output.parent.iterdir()) == []  # no output, not even a temporary file


def test_the_intact_archive_merges(tmp_path: Path) -> None:
    """The same archives before the damage merge fine: the damage is what is refused."""
    for method in (zipfile.ZIP_DEFLATED, zipfile.ZIP_LZMA):
        source = tmp_path / "upload.zip"
        source.write_bytes(_archive(method))
        report = merge_any([source], tmp_path / "merged.pdf")
        with pikepdf.open(tmp_path / "merged.pdf") as pdf:
            assert report.page_count == len(pdf.pages) == 1


def test_trailer_info_pointing_at_the_page_tree_merges(tmp_path: Path) -> None:
    pdf = pikepdf.new()
    for _ in range(3):
        pdf.add_blank_page(page_size=(100, 100))
    pdf.trailer.Info = pdf.Root.Pages
    source = tmp_path / "odd-info.pdf"
    pdf.save(source)
    report = merge_pdfs([source, source], tmp_path / "merged.pdf")
    with pikepdf.open(tmp_path / "merged.pdf") as merged:
        assert report.page_count == len(merged.pages) == 6
        assert "/Kids" not in merged.docinfo  # no page tree smuggled in as metadata
