"""Preflight: what a conversion or a merge would do with its inputs, with nothing written.

Every input is described from its own structure — an image's frames with
the route the converter will take for each (chosen by the converter's own
:func:`~pdfbinder.engine.images.routes.choose_route`), a PDF's pages,
encryption, repairs, bookmarks, fields and labels, a ZIP's members, an Office
document's type — and a bad input is described, not raised. The plan (page
count, bookmark tree, renamed fields) comes from the engine itself: the
converter's frame planning and page layout for images, and for merges the
merger run to the point of saving (:func:`~pdfbinder.engine.merge.merge.plan_merge`).
LibreOffice is never started: an Office document's pages are left out of the
plan and said to be.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from .errors import CorruptInput, EngineError, InvalidOption, UnsupportedInput
from .images import DEFAULT_MAX_PIXELS
from .inputs import NamedSource, Source, display_name, input_label, unwrap
from .library_warnings import capture_library_warnings, distinct

Operation = Literal["images_to_pdf", "merge_pdfs", "merge_any"]
OPERATIONS: tuple[Operation, ...] = ("images_to_pdf", "merge_pdfs", "merge_any")

_LABEL_STYLES = {
    "/D": "decimal",
    "/r": "lowercase roman",
    "/R": "uppercase roman",
    "/a": "lowercase letters",
    "/A": "uppercase letters",
}


@dataclass
class IccFacts:
    """An embedded ICC profile: its colour space (from its header), description and size."""

    colour_space: str
    description: str | None
    size: int


@dataclass
class FrameFacts:
    """One image frame: what its header says and how it will go into the PDF.

    ``embedding`` is ``"copied"`` (the file's compressed data goes in as it
    is) or ``"re-encoded"`` (losslessly, with Flate; ``decoded`` says whether
    the samples are decoded first); ``method`` and ``reason`` say which way
    and why. ``page_size`` is the page in points.
    """

    width: int
    height: int
    dpi: tuple[float, float]
    dpi_from_file: bool
    orientation: int
    colour: str
    bits: int | None
    alpha: bool
    icc: IccFacts | None
    embedding: str
    decoded: bool
    method: str
    reason: str
    page_size: tuple[float, float]


@dataclass
class ImageFacts:
    """An image input: its format and one entry per frame (page)."""

    format: str
    frames: list[FrameFacts]


@dataclass
class LabelRange:
    """A page-label range: from ``first_page`` (1-based), numbered in ``style`` from ``start``."""

    first_page: int
    style: str | None
    prefix: str | None
    start: int


@dataclass
class PdfFacts:
    """A PDF input.

    ``password`` says what opened it: ``"none"`` (not encrypted), ``"empty"``
    (encrypted, opens without a password), ``"user"`` or ``"owner"`` (the
    password given matched that one). ``repairs`` lists what was repaired
    while reading it (``damaged`` when there is any). ``renamed_fields`` maps
    the fields the merge would rename to their new names.
    """

    pages: int
    selected_pages: int
    version: str
    encrypted: bool
    encryption: str | None
    password: str
    damaged: bool
    repairs: list[str]
    outline_items: int
    fields: list[str]
    renamed_fields: dict[str, str]
    page_labels: list[LabelRange]


@dataclass
class InputFacts:
    """One input as given: its kind, and either its facts or the problem that stops it.

    ``kind`` is ``pdf``, ``image``, ``zip``, ``office`` or ``unknown``.
    ``problem`` is the error the real run would stop with (``problem_kind``
    its class: ``PasswordRequired``, ``CorruptInput``, ...). ``office`` is the
    document type LibreOffice would convert. ``members`` are a ZIP's.
    ``warnings`` are what the converter would warn about (images only: a
    merge's warnings are in its plan).
    """

    index: int
    name: str
    kind: str
    problem: str | None = None
    problem_kind: str | None = None
    image: ImageFacts | None = None
    pdf: PdfFacts | None = None
    office: str | None = None
    members: list[InputFacts] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class Plan:
    """What the output would be: pages, bookmarks, renamed fields.

    ``page_count`` is ``None`` when nothing can be planned (every input is
    refused). ``refused`` holds why the real run would stop (it stops at
    the first of them); the rest of the plan is for the inputs that would
    pass. ``unconverted`` names Office documents, whose pages LibreOffice
    decides: they are not counted. ``page_sizes`` (points) is given for
    ``images_to_pdf``, whose layout options decide them.
    """

    operation: str
    page_count: int | None
    page_sizes: list[tuple[float, float]] = field(default_factory=list)
    bookmarks: list[Any] = field(default_factory=list)
    renamed_fields: dict[str, str] = field(default_factory=dict)
    unconverted: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


@dataclass
class Preflight:
    """Every input described, and the plan for the output."""

    inputs: list[InputFacts]
    plan: Plan

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (tuples as lists)."""
        return asdict(self)


def inspect_inputs(
    inputs: Iterable[Any],
    *,
    operation: Operation = "merge_any",
    password: str | None = None,
    outline: str = "keep",
    bookmark_titles: str = "document",
    fields: str = "rename",
    pad_to_even: bool = False,
    collate: bool = False,
    page_size: str | None = None,
    fit: str = "into",
    margin: str | float | None = None,
    auto_orient: bool = False,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    limits: Any = None,
    members: Any = None,
) -> Preflight:
    """Describe ``inputs`` and plan what ``operation`` would make of them; write nothing.

    ``inputs`` are what the operation takes (sources, named sources, and for
    merges :class:`~pdfbinder.engine.merge.merge.PdfInput` with page ranges and
    passwords). The options are the operation's own: layout options for
    ``images_to_pdf``, the merge options for the two merges; ``limits`` and
    ``members`` (an ``ArchiveLimits`` and a ``MemberFilter``) for ZIPs in
    ``merge_any``. Raises only :class:`InvalidOption` for a bad option.
    """
    if operation not in OPERATIONS:
        raise InvalidOption(f"operation must be one of {', '.join(OPERATIONS)}, not {operation!r}")
    items = list(inputs)
    if not items:
        raise InvalidOption("no inputs given")
    if operation == "images_to_pdf":
        return _plan_images(items, page_size, fit, margin, auto_orient, max_pixels)
    return _plan_merge(
        items,
        operation,
        password=password,
        outline=outline,
        bookmark_titles=bookmark_titles,
        fields=fields,
        pad_to_even=pad_to_even,
        collate=collate,
        max_pixels=max_pixels,
        limits=limits,
        members=members,
    )


def _plan_images(
    items: list[Any],
    page_size: str | None,
    fit: str,
    margin: str | float | None,
    auto_orient: bool,
    max_pixels: int | None,
) -> Preflight:
    from .images.layout import PageOptions

    options = PageOptions.parse(page_size, fit, margin, auto_orient)
    facts = [_image_input(index, item, options, max_pixels) for index, item in enumerate(items)]
    plan = Plan("images_to_pdf", None, refused=_refusals(facts))
    if any(item.image is not None for item in facts):
        frames = [frame for item in facts if item.image is not None for frame in item.image.frames]
        plan.page_count = len(frames)
        plan.page_sizes = [frame.page_size for frame in frames]
    plan.warnings = [warning for item in facts for warning in item.warnings]
    return Preflight(facts, plan)


def _image_input(
    index: int, source: Source | NamedSource, options: Any, max_pixels: int | None
) -> InputFacts:
    """An image input through the converter's own frame planning (nothing encoded)."""
    from .images import images

    name = display_name(source)
    label = input_label(index, name)
    facts = InputFacts(index, name, "image")
    library: list[Any] = []
    try:
        with capture_library_warnings() as library:
            data = images.read_source(source)
            plans = images.plan_frames(
                data,
                max_pixels=max_pixels or 2**63,
                warn=lambda message: facts.warnings.append(f"{label}: {message}"),
            )
            frames = [(plan.image_format, _frame_facts(plan, options)) for plan in plans]
        facts.image = ImageFacts(frames[0][0] if frames else "", [frame for _, frame in frames])
    except EngineError as error:
        _refuse(facts, error)
    facts.warnings.extend(f"{label}: {message}" for message in distinct(library))
    return facts


def _frame_facts(plan: Any, options: Any) -> FrameFacts:
    """One planned frame as the report gives it, its page laid out as the converter will."""
    from .images.layout import place

    placement = place(plan.width, plan.height, plan.dpi, plan.orientation, options)
    return FrameFacts(
        width=plan.width,
        height=plan.height,
        dpi=plan.dpi,
        dpi_from_file=plan.dpi_from_file,
        orientation=plan.orientation,
        colour=plan.colour,
        bits=plan.bits,
        alpha=plan.alpha,
        icc=_icc_facts(plan.icc),
        embedding="copied" if plan.route.copied else "re-encoded",
        decoded=plan.route.decoded,
        method=plan.route.method,
        reason=plan.route.reason,
        page_size=(round(placement.page_width, 4), round(placement.page_height, 4)),
    )


def _icc_facts(profile: bytes | None) -> IccFacts | None:
    if profile is None:
        return None
    space = profile[16:20].decode("ascii", "replace").strip() if len(profile) >= 20 else "?"
    return IccFacts(space, _icc_description(profile), len(profile))


def _icc_description(profile: bytes) -> str | None:
    """The profile's own description, read by Pillow's LittleCMS binding when it has one."""
    try:
        from PIL import ImageCms

        text = ImageCms.ImageCmsProfile(io.BytesIO(profile)).profile.profile_description
    except Exception:  # a damaged profile, or a Pillow built without LittleCMS
        return None
    return text.strip() or None if isinstance(text, str) else None


def _refuse(facts: InputFacts, error: EngineError) -> None:
    """Record ``error`` as the input's problem, named as the real run would name it."""
    label = input_label(facts.index, facts.name)
    facts.problem = error.message if error.index is not None else f"{label}: {error.reason}"
    facts.problem_kind = type(error).__name__


def _refusals(facts: list[InputFacts]) -> list[str]:
    found: list[str] = []
    for item in facts:
        if item.problem is not None:
            found.append(item.problem)
        found.extend(member.problem for member in item.members if member.problem is not None)
    return found


def _plan_merge(
    items: list[Any],
    operation: Operation,
    *,
    password: str | None,
    outline: str,
    bookmark_titles: str,
    fields: str,
    pad_to_even: bool,
    collate: bool,
    max_pixels: int | None,
    limits: Any,
    members: Any,
) -> Preflight:
    from .merge.archives import ArchiveLimits, MemberFilter
    from .merge.merge import PdfInput, plan_merge

    limits = limits if limits is not None else ArchiveLimits()
    members = members if members is not None else MemberFilter()
    pdf_inputs = [item if isinstance(item, PdfInput) else PdfInput(item) for item in items]
    any_kind = operation == "merge_any"
    facts = []
    for index, item in enumerate(pdf_inputs):
        with _rewound(item.source):  # the merge plan reads each input again
            facts.append(_merge_input(index, item, password, any_kind, limits, members, max_pixels))
    plan = Plan(operation, None, refused=_refusals(facts))
    passing = [
        (index, item) for index, item in enumerate(pdf_inputs) if facts[index].problem is None
    ]
    if passing:
        try:
            merged = plan_merge(
                passing,
                any_kind=any_kind,
                password=password,
                outline=outline,
                bookmark_titles=bookmark_titles,
                fields=fields,
                pad_to_even=pad_to_even,
                collate=collate,
                limits=limits,
                members=members,
                max_pixels=max_pixels,
            )
        except EngineError as error:
            plan.refused.append(error.message)
        else:
            plan.page_count = merged.page_count
            plan.bookmarks = [asdict(mark) for mark in merged.bookmarks]
            plan.renamed_fields = merged.renamed_fields
            plan.unconverted = merged.unconverted
            plan.warnings = merged.warnings
            _attach_renames(facts, merged.renamed_fields)
    return Preflight(facts, plan)


@contextmanager
def _rewound(source: Source | NamedSource) -> Iterator[None]:
    """Put a stream source back where it was once it has been read."""
    raw = unwrap(source)
    seek = getattr(raw, "seek", None)
    position = raw.tell() if seek is not None else 0  # type: ignore[union-attr]
    try:
        yield
    finally:
        if seek is not None:
            seek(position)


def _attach_renames(facts: list[InputFacts], renamed: dict[str, str]) -> None:
    """Give each PDF input the renames the merge reported for it (keyed ``label: old``)."""
    for item in [*facts, *(member for top in facts for member in top.members)]:
        if item.pdf is None:
            continue
        prefix = f"{input_label(item.index, item.name)}: "
        item.pdf.renamed_fields = {
            key[len(prefix) :]: new for key, new in renamed.items() if key.startswith(prefix)
        }


def _merge_input(
    index: int,
    item: Any,
    password: str | None,
    any_kind: bool,
    limits: Any,
    members: Any,
    max_pixels: int | None,
) -> InputFacts:
    from .merge.archives import archive_members, kind_of
    from .merge.merge import MAYBE_DOCUMENT, NOT_MERGEABLE, PdfInput
    from .merge.pdfopen import head_bytes
    from .office.detect import document_type

    source = item.named_source
    name = display_name(source)
    own = item.password
    key = password if own is None else own or None
    if not any_kind:
        return _pdf_input(index, source, item.pages, key)
    try:
        head = head_bytes(source)
    except OSError as error:
        facts = InputFacts(index, name, "unknown")
        _refuse(facts, UnsupportedInput(f"cannot be read: {error.strerror or error}"))
        return facts
    kind = kind_of(head)
    document = document_type(source, head, name) if kind in MAYBE_DOCUMENT else None
    if document is not None:
        facts = InputFacts(index, name, "office", office=document.extension)
        if not document.supported:
            reason = f"is {document.label}, a kind of document merge does not convert"
            _refuse(facts, UnsupportedInput(reason))
        return facts
    if kind == "pdf":
        return _pdf_input(index, source, item.pages, key)
    if kind == "image":
        from .images.layout import PageOptions

        return _image_input(index, source, PageOptions(), max_pixels)
    if kind == "zip":
        facts = InputFacts(index, name, "zip")
        try:
            for member in archive_members(
                source, index=index, limits=limits, member_filter=members
            ):
                member_item = PdfInput(member, password=item.password)
                facts.members.append(
                    _merge_input(index, member_item, password, True, limits, members, max_pixels)
                )
        except EngineError as error:
            _refuse(facts, error)
        return facts
    facts = InputFacts(index, name, "unknown")
    _refuse(facts, UnsupportedInput(NOT_MERGEABLE))
    return facts


def _pdf_input(
    index: int, source: Source | NamedSource, pages: str | None, password: str | None
) -> InputFacts:
    """A PDF opened as the merge opens it, then described."""
    import pikepdf

    from .lookup import lookup
    from .merge.forms import field_names
    from .merge.labels import SourceLabels
    from .merge.outline import walk_items
    from .merge.pageranges import PageRangeError, parse_page_ranges
    from .merge.pdfopen import open_pdf

    name = display_name(source)
    facts = InputFacts(index, name, "pdf")
    try:
        opened = open_pdf(source, index=index, password=password)
    except EngineError as error:
        _refuse(facts, error)
        return facts
    pdf = opened.pdf
    try:
        page_total = len(pdf.pages)
        try:
            selected = len(parse_page_ranges(pages, page_total))
        except PageRangeError as error:
            _refuse(facts, InvalidOption(str(error), index=index, name=name))
            selected = 0
        root = lookup(pdf.Root, "/Outlines")
        outline_items = sum(1 for _ in walk_items(root)) if root is not None else 0
        labels = SourceLabels(pdf)
        repairs = list(opened.repairs)
        facts.pdf = PdfFacts(
            pages=page_total,
            selected_pages=selected,
            version=pdf.pdf_version,
            encrypted=pdf.is_encrypted,
            encryption=_encryption(pdf) if pdf.is_encrypted else None,
            password=_password_kind(pdf, password),
            damaged=bool(repairs),
            repairs=repairs,
            outline_items=outline_items,
            fields=field_names(pdf),
            renamed_fields={},
            page_labels=[
                LabelRange(
                    first_page=item.start + 1,
                    style=_LABEL_STYLES.get(item.style[0] or ""),
                    prefix=item.style[1],
                    start=item.first_number,
                )
                for item in labels.ranges
            ],
        )
    except (pikepdf.PdfError, RuntimeError, ValueError, TypeError, KeyError) as error:
        _refuse(facts, CorruptInput(f"could not be read ({str(error).strip()[:200]})"))
    finally:
        pdf.close()
    return facts


def _encryption(pdf: Any) -> str:
    method = str(pdf.encryption.stream_method).rsplit(".", 1)[-1]
    names = {"aesv3": "AES-256", "aes": "AES-128", "rc4": f"RC4-{pdf.encryption.bits}"}
    return names.get(method.lower(), method)


def _password_kind(pdf: Any, password: str | None) -> str:
    if not pdf.is_encrypted:
        return "none"
    if not password:
        return "empty"
    if pdf.owner_password_matched:
        return "owner"
    return "user"
