"""images_to_pdf: any number of images in, one PDF out, streamed page by page.

Each input is read, split into frames, and each frame's image, content
stream and page object are written before the next input is touched — the
memory high-water mark is one input, not the whole job. The page tree's
object number is reserved first and the tree itself written last.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from ..attachments import attachment_description, unique_key
from ..errors import EngineError, InvalidOption
from ..inputs import NamedSource, Source, display_name, input_label
from ..library_warnings import capture_library_warnings, distinct
from ..output import Destination, atomic_output
from ..provenance import ConcurrentDigest, InputDigest
from ..report import ProgressCallback, Report
from . import DEFAULT_MAX_PIXELS, images
from .embed import write_image
from .layout import PageOptions, place
from .pdfwriter import Name, PdfStreamWriter, PdfValue, Ref

PRODUCER = "pdfbinder"


@dataclass(frozen=True)
class InputSummary:
    """How one input went into the PDF: its name, pages and embedding per page."""

    name: str
    pages: int
    methods: list[str]


@dataclass
class ImagesReport(Report):
    """:class:`Report` plus, per input, how its frames were embedded."""

    inputs: list[InputSummary] = field(default_factory=list)


@dataclass(frozen=True)
class Metadata:
    """The document information dictionary's values."""

    title: str | None = None
    author: str | None = None
    subject: str | None = None
    keywords: str | None = None
    creator: str | None = None
    creation_date: datetime | None = None
    mod_date: datetime | None = None


def images_to_pdf(
    inputs: Iterable[Source | NamedSource],
    output: Destination,
    *,
    page_size: str | None = None,
    fit: str = "into",
    margin: str | float | None = None,
    auto_orient: bool = False,
    title: str | None = None,
    author: str | None = None,
    subject: str | None = None,
    keywords: str | None = None,
    creator: str | None = None,
    creation_date: datetime | None = None,
    mod_date: datetime | None = None,
    deterministic: bool = False,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    on_progress: ProgressCallback | None = None,
    attach_sources: bool = False,
) -> ImagesReport:
    """Write one PDF page per image frame of ``inputs`` to ``output``.

    Without ``page_size`` each page is the image's size at its own DPI (96
    when it has none). ``deterministic`` leaves out the current time and
    derives the file ID from the content, so equal inputs give equal bytes.
    ``max_pixels=None`` lifts the per-frame pixel limit. ``attach_sources``
    embeds each input file as it is in the PDF (see
    :mod:`pdfbinder.engine.attachments`). Raises an
    :class:`EngineError` subclass naming the input on any bad input; a path
    ``output`` is then left untouched.
    """
    options = PageOptions.parse(page_size, fit, margin, auto_orient)
    sources = list(inputs)
    if not sources:
        raise InvalidOption("no input images given")
    if max_pixels is not None and max_pixels <= 0:
        raise InvalidOption(f"invalid max_pixels {max_pixels}: must be positive")
    if creation_date is None and not deterministic:
        creation_date = datetime.now(timezone.utc).replace(microsecond=0)
    metadata = Metadata(
        title, author, subject, keywords, creator, creation_date, mod_date or creation_date
    )
    report = ImagesReport()
    with atomic_output(output) as stream:
        writer = PdfStreamWriter(stream, deterministic=deterministic)
        catalog, pages = writer.reserve(), writer.reserve()
        kids: list[PdfValue] = []
        attached: list[tuple[str, Ref]] = []
        for index, source in enumerate(sources):
            name = display_name(source)
            methods: list[str] = []

            def warn(message: str, index: int = index, name: str = name) -> None:
                report.warnings.append(f"{input_label(index, name)}: {message}")

            first_page = len(kids) + 1
            try:
                with capture_library_warnings() as library:
                    data = images.read_source(source)
                    hashing = ConcurrentDigest(data, index, name)
                    limit = max_pixels or 2**63
                    for plan in images.plan_frames(data, max_pixels=limit, warn=warn):
                        kids.append(_write_page(writer, plan.frame(), options, pages))
                        methods.append(plan.route.method)
            except EngineError as error:
                raise type(error)(error.reason, index=index, name=name) from None
            for message in distinct(library):
                warn(message)
            digest = hashing.result()
            report.provenance.inputs.append(digest)
            report.provenance.add_pages(first_page, index, list(range(1, len(methods) + 1)))
            if attach_sources:
                attached.append(_write_attachment(writer, data, digest))
            del data  # one input at a time is the memory bound
            report.inputs.append(InputSummary(name, len(methods), methods))
            if on_progress is not None:
                on_progress(index + 1, len(sources))
        writer.write_object({"Type": Name("Pages"), "Kids": kids, "Count": len(kids)}, pages)
        catalog_entries: dict[str, PdfValue] = {"Type": Name("Catalog"), "Pages": Ref(pages)}
        if attached:
            catalog_entries["Names"] = {"EmbeddedFiles": _name_tree(attached)}
        writer.write_object(catalog_entries, catalog)
        info = writer.write_object(_info_dictionary(metadata))
        writer.finish(Ref(catalog), info)
    report.page_count = len(kids)
    return report


def _write_page(
    writer: PdfStreamWriter, frame: images.Frame, options: PageOptions, pages: int
) -> Ref:
    image = write_image(writer, frame.image)
    placement = place(frame.image.width, frame.image.height, frame.dpi, frame.orientation, options)
    matrix = " ".join(_number(value) for value in placement.matrix)
    content = writer.write_stream({}, f"q {matrix} cm /Im0 Do Q".encode("ascii"))
    page: dict[str, PdfValue] = {
        "Type": Name("Page"),
        "Parent": Ref(pages),
        "MediaBox": [0, 0, round(placement.page_width, 4), round(placement.page_height, 4)],
        "Resources": {"XObject": {"Im0": image}},
        "Contents": content,
    }
    if placement.user_unit != 1.0:
        page["UserUnit"] = round(placement.user_unit, 6)
    return writer.write_object(page)


def _write_attachment(writer: PdfStreamWriter, data: bytes, digest: InputDigest) -> tuple[str, Ref]:
    """One input embedded as it is: its embedded-file stream and file specification."""
    import hashlib

    stream = writer.write_stream(
        {
            "Type": Name("EmbeddedFile"),
            "Params": {
                "Size": len(data),
                "CheckSum": hashlib.md5(data, usedforsecurity=False).digest(),
            },
        },
        data,
    )
    spec = writer.write_object(
        {
            "Type": Name("Filespec"),
            "F": digest.name,
            "UF": digest.name,
            "Desc": attachment_description(digest),
            "EF": {"F": stream},
            "AFRelationship": Name("Source"),
        }
    )
    return digest.name, spec


def _name_tree(entries: list[tuple[str, Ref]]) -> dict[str, PdfValue]:
    """A one-node name tree over ``entries``: unique keys, sorted as name trees must be."""
    taken: set[str] = set()
    keyed = [(unique_key(name, taken), spec) for name, spec in entries]
    names: list[PdfValue] = []
    for key, spec in sorted(keyed, key=lambda item: item[0].encode("utf-16-be")):
        names.extend((key, spec))
    return {"Names": names}


def _number(value: float) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _info_dictionary(metadata: Metadata) -> dict[str, PdfValue]:
    info: dict[str, PdfValue] = {"Producer": PRODUCER}
    for key, value in (
        ("Title", metadata.title),
        ("Author", metadata.author),
        ("Subject", metadata.subject),
        ("Keywords", metadata.keywords),
        ("Creator", metadata.creator),
    ):
        if value is not None:
            info[key] = value
    if metadata.creation_date is not None:
        info["CreationDate"] = pdf_date(metadata.creation_date)
    if metadata.mod_date is not None:
        info["ModDate"] = pdf_date(metadata.mod_date)
    return info


def pdf_date(moment: datetime) -> str:
    """A PDF date string ``D:YYYYMMDDHHmmSS`` with the offset when ``moment`` has one."""
    text = moment.strftime("D:%Y%m%d%H%M%S")
    offset = moment.utcoffset()
    if offset is None:
        return text
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{text}{sign}{hours:02d}'{minutes:02d}'"
