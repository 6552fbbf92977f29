"""What a ``merge_any`` input is (by its bytes, not its name), and ZIP archives opened safely.

Kinds are told apart by magic bytes, so ``scan.pdf`` that is really a PNG is
treated as the PNG it is. DOCX/XLSX/PPTX and OpenDocument files are ZIP
archives underneath; :mod:`pdfbinder.engine.office.detect` tells them from
archives of inputs (and OLE2 and RTF documents, ``office`` here, apart).

Archive policy (documented in the README): members are taken in archive order;
directories, ``__MACOSX/`` resource forks and dotfiles are skipped; archives
inside archives are refused (nesting is how zip bombs multiply); encrypted
members, symbolic links and member names that would escape a folder (``..``,
absolute paths, drive letters, backslashes) are refused as hostile, although
members are never written anywhere by name; the number of members is capped;
a :class:`MemberFilter` keeps only the members whose names match its include
wildcards and none of its exclude wildcards;
the total uncompressed size is capped and every member's
compression ratio is checked both from its header and while it is read, since
headers can lie. Members are extracted into spooled temporary files, so small
ones stay in memory and large ones go to disk.
"""

from __future__ import annotations

import fnmatch
import re
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO, Literal

from ..errors import CorruptInput, TooLarge, UnsupportedInput
from ..images.heif import heif_kind
from ..inputs import NamedSource, Source, display_name, open_binary
from ..office.detect import OLE2_SIGNATURE, RTF_SIGNATURE

if TYPE_CHECKING:
    import zipfile

InputKind = Literal["pdf", "image", "zip", "office", "unknown"]

DEFAULT_MAX_ARCHIVE_BYTES = 2 * 1024**3
DEFAULT_MAX_COMPRESSION_RATIO = 200
DEFAULT_MAX_MEMBERS = 10_000
_SYMLINK_MODE = 0o120000
_FILE_TYPE_BITS = 0o170000
_SPOOL_IN_MEMORY = 16 * 1024**2
_CHUNK = 1024**2

_IMAGE_MAGIC: tuple[tuple[int, bytes], ...] = (
    (0, b"\x89PNG\r\n\x1a\n"),
    (0, b"\xff\xd8\xff"),
    (0, b"GIF87a"),
    (0, b"GIF89a"),
    (0, b"II*\x00"),
    (0, b"MM\x00*"),
    (0, b"BM"),
    (0, b"\x00\x00\x00\x0cjP  \r\n\x87\n"),
    (0, b"\xffO\xffQ"),
    (8, b"WEBP"),
)


def kind_of(head: bytes) -> InputKind:
    """Classify an input by its first kilobyte."""
    # ZIP first: a stored (uncompressed) PDF member puts "%PDF-" in an archive's first kilobyte.
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if b"%PDF-" in head:
        return "pdf"
    if head.startswith(OLE2_SIGNATURE) or head.lstrip(b"\xef\xbb\xbf").startswith(RTF_SIGNATURE):
        return "office"
    if any(head[offset : offset + len(magic)] == magic for offset, magic in _IMAGE_MAGIC):
        if head[8:12] == b"WEBP" and not head.startswith(b"RIFF"):
            return "unknown"
        return "image"
    if heif_kind(head) is not None:
        return "image"
    return "unknown"


@dataclass(frozen=True)
class ArchiveLimits:
    """Caps that keep a hostile archive from filling memory or disk."""

    max_total_bytes: int = DEFAULT_MAX_ARCHIVE_BYTES
    max_ratio: int = DEFAULT_MAX_COMPRESSION_RATIO
    max_members: int = DEFAULT_MAX_MEMBERS


@dataclass(frozen=True)
class MemberFilter:
    """Which ZIP members to merge, by ``*`` / ``?`` wildcards over their names.

    A pattern matches a member's path in the archive or its last part, letter
    case ignored (``*.pdf`` matches ``Scans/A.PDF``). With ``include`` patterns
    only matching members are taken; a member matching an ``exclude`` pattern
    is left out.
    """

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def admits(self, name: str) -> bool:
        candidates = (name, name.rsplit("/", 1)[-1])
        if self.include and not _matches(self.include, candidates):
            return False
        return not (self.exclude and _matches(self.exclude, candidates))


def _matches(patterns: tuple[str, ...], names: tuple[str, ...]) -> bool:
    expression = "|".join(fnmatch.translate(pattern) for pattern in patterns)
    matcher = re.compile(expression, re.IGNORECASE | re.DOTALL)
    return any(matcher.match(name) for name in names)


def hostile_member(info: zipfile.ZipInfo) -> str | None:
    """Why a member looks crafted to escape or mislead an extractor, or ``None``."""
    name = info.orig_filename
    parts = name.replace("\\", "/").split("/")
    if "\\" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "has an absolute or Windows path as its name"
    if ".." in parts:
        return "has a name that climbs out of the archive (..)"
    if "\x00" in name:
        return "has a NUL byte in its name"
    if (info.external_attr >> 16) & _FILE_TYPE_BITS == _SYMLINK_MODE:
        return "is a symbolic link"
    return None


def _skipped(info: zipfile.ZipInfo) -> bool:
    parts = info.filename.split("/")
    return info.is_dir() or parts[0] == "__MACOSX" or any(p.startswith(".") for p in parts if p)


def check_member_count(count: int, limits: ArchiveLimits, *, index: int, name: str) -> None:
    """Refuse an archive with more members than ``limits`` allow."""
    if count > limits.max_members:
        raise TooLarge(
            f"holds {count} members, over the limit of {limits.max_members}",
            index=index,
            name=name,
        )


def check_member_size(
    info: zipfile.ZipInfo, total: int, limits: ArchiveLimits, *, index: int, name: str
) -> int:
    """The archive's declared size so far with ``info``; :class:`TooLarge` past the limits.

    ``total`` is the declared size of the members before it; ``name`` the archive's.
    """
    if info.file_size > max(info.compress_size, 1) * limits.max_ratio:
        raise TooLarge(
            f"expands {info.file_size // max(info.compress_size, 1)}:1, over the "
            f"{limits.max_ratio}:1 limit (possible zip bomb)",
            index=index,
            name=f"{name}/{info.filename}",
        )
    total += info.file_size
    if total > limits.max_total_bytes:
        raise TooLarge(
            f"archive expands beyond {limits.max_total_bytes} bytes", index=index, name=name
        )
    return total


def archive_members(
    source: Source | NamedSource,
    *,
    index: int,
    limits: ArchiveLimits,
    member_filter: MemberFilter = MemberFilter(),
) -> Iterator[NamedSource]:
    """The members of a ZIP input, in archive order, each as a named spooled file.

    Each yielded member's file is closed once the consumer moves on; the
    consumer must be done with it by then.
    """
    import zipfile  # here: a merge of PDFs alone never needs it, and it costs start-up time

    name = display_name(source)
    total = 0
    with open_binary(source) as handle:
        try:
            archive = zipfile.ZipFile(handle)
        except (zipfile.BadZipFile, OSError, ValueError) as error:  # ValueError: bad UTF-8 name
            raise CorruptInput(
                f"is not a readable ZIP archive ({error})", index=index, name=name
            ) from error
        with archive:
            members = archive.infolist()
            check_member_count(len(members), limits, index=index, name=name)
            for info in members:
                member_name = f"{name}/{info.filename}"
                hostile = hostile_member(info)
                if hostile is not None:
                    raise UnsupportedInput(hostile, index=index, name=member_name)
                if _skipped(info) or not member_filter.admits(info.filename):
                    continue
                if info.flag_bits & 0x1:
                    raise UnsupportedInput(
                        "is an encrypted archive member", index=index, name=member_name
                    )
                total = check_member_size(info, total, limits, index=index, name=name)
                with _extract(
                    archive, info, index=index, name=member_name, limits=limits
                ) as extracted:
                    yield NamedSource(extracted, member_name)


def _extract(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    *,
    index: int,
    name: str,
    limits: ArchiveLimits,
) -> BinaryIO:
    """Copy one member into a spooled temporary file, enforcing the limits on real bytes."""
    import lzma
    import zipfile

    budget = min(limits.max_total_bytes, max(info.compress_size, 1) * limits.max_ratio)
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115 (returned)
    written = 0
    try:
        with archive.open(info) as member:
            while chunk := member.read(_CHUNK):
                written += len(chunk)
                if written > budget:
                    raise TooLarge(
                        "expands beyond its declared size (possible zip bomb)",
                        index=index,
                        name=name,
                    )
                spool.write(chunk)
    except NotImplementedError as error:  # zipfile's answer to an unknown compression method
        spool.close()
        raise UnsupportedInput(f"cannot be extracted ({error})", index=index, name=name) from error
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, lzma.LZMAError, ValueError) as error:
        # zlib/lzma raise their own types on damaged compressed data, not BadZipFile; a
        # local header flagged UTF-8 whose name is not raises UnicodeDecodeError, and offsets
        # pointing before the file a "negative seek" ValueError.
        spool.close()
        raise CorruptInput(f"cannot be extracted ({error})", index=index, name=name) from error
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool  # type: ignore[return-value]
