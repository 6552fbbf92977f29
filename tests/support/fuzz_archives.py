"""Hostile ZIP archives for ``merge_any``: odd member names, lying headers, small bombs.

An archive is built from real (possibly damaged) member files, under names
an attacker would pick — path traversal, absolute paths, backslashes, very
long or non-ASCII names, dotfiles, ``__MACOSX`` — and then, optionally, one
of its header fields is set to an interesting value: a local header's or the
central directory's method, sizes, CRC or name length, or the end record's
entry count and offsets. A bomb archive holds megabytes of zeros deflated to
kilobytes (sometimes wrapped in another archive, or behind a good member).
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile

from hypothesis import strategies as st

from tests.support.fuzz_mutations import Draw, interesting_number, overwrite_number

HOSTILE_NAMES = (
    "../../etc/passwd.pdf",
    "/abs/path.png",
    "dir\\windows.pdf",
    "a/b/../../c.pdf",
    "x" * 300 + ".pdf",
    "名前.pdf",
    ".hidden.pdf",
    "__MACOSX/._res.pdf",
    "dir/",
    "nul\x00byte.pdf",
    "CON.pdf",
    "plain.pdf",
)

_FIELDS = {
    b"PK\x03\x04": [(8, 2), (14, 4), (18, 4), (22, 4), (26, 2), (28, 2)],
    b"PK\x01\x02": [(10, 2), (16, 4), (20, 4), (24, 4), (28, 2), (30, 2), (42, 4)],
    b"PK\x05\x06": [(8, 2), (10, 2), (12, 4), (16, 4), (20, 2)],
}


def build_archive(members: list[tuple[str, bytes]], *, deflate: bool) -> bytes:
    """A ZIP of ``members`` in order (names stored exactly as given)."""
    buffer = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    with zipfile.ZipFile(buffer, "w", method) as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are one of the hostile shapes
        for name, data in members:
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return buffer.getvalue()


def zip_header_field(draw: Draw, data: bytes) -> bytes:
    """Set one field of a local header, central directory entry or the end record."""
    places = [
        (match.start() + offset, width)
        for signature, fields in _FIELDS.items()
        for match in re.finditer(re.escape(signature), data)
        for offset, width in fields
        if match.start() + offset + width <= len(data)
    ]
    if not places:
        return overwrite_number(draw, data)
    at, width = draw(st.sampled_from(places))
    value = interesting_number(draw, int.from_bytes(data[at : at + width], "little"), 8 * width)
    return data[:at] + value.to_bytes(width, "little") + data[at + width :]


@st.composite
def hostile_archive(draw: Draw, members: st.SearchStrategy[bytes]) -> bytes:
    """0–3 members under drawn names, then 0–2 lying header fields."""
    entries = [
        (draw(st.sampled_from(HOSTILE_NAMES)), draw(members))
        for _ in range(draw(st.integers(0, 3)))
    ]
    data = build_archive(entries, deflate=draw(st.booleans()))
    for _ in range(draw(st.integers(0, 2))):
        data = zip_header_field(draw, data)
    return data


@st.composite
def bomb_archive(draw: Draw, members: st.SearchStrategy[bytes]) -> bytes:
    """1–16 MB of zeros deflated (ratio ~1000:1), maybe behind a member, maybe nested."""
    zeros = bytes(draw(st.integers(1, 16)) * 1024**2)
    entries = [
        (draw(st.sampled_from(HOSTILE_NAMES)), draw(members))
        for _ in range(draw(st.integers(0, 1)))
    ]
    data = build_archive([*entries, (draw(st.sampled_from(HOSTILE_NAMES)), zeros)], deflate=True)
    if draw(st.booleans()):
        data = build_archive([("inner.zip", data)], deflate=True)
    return data
