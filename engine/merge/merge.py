"""Merging PDFs: every page, bookmark, link, form field and page label of every input.

Design (chosen by measurement, see tests/benchmarks/test_bench_merge.py): qpdf's
per-page ``addPage`` (what ``pages.extend`` and ``Job --pages`` do) costs far
more than copying the objects. So each input goes through three steps. *Prepare*:
the input is rewritten in memory — inherited page attributes pushed down (by qpdf,
on open), destination names namespaced, colliding field names renamed, references
rewritten — and its selected pages, outline, fields, named destinations and
document info are bundled in one dictionary. *Copy*: that bundle goes into the
output in *one* ``copy_foreign`` call. *Graft*: the copied parts are attached to
the output's page tree, name tree, outline, form and page labels. qpdf's copier
maps every reference among them (a link's destination, a bookmark's page, a
widget's /P) to the copied object, so links and bookmarks land on their own
document's pages by construction; a reference to a page left out by a page range
becomes null and is dropped. Pages are marked with a private /Type while being
copied because qpdf refuses to copy objects it recognises as pages outside
``addPage`` (and nulls the /Pages nodes a page's /Parent leads to, so the source
page tree stays behind). Each input is closed right after its copy (qpdf keeps
what it needs), so thousands of inputs do not exhaust file handles. The first
input's document info, XMP and opening destination (/OpenAction) become the
output's. The page tree is written flat at the end, identical resource streams
are stored once, and the result is saved with
object streams (optionally linearized) through an atomic output.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from dataclasses import fields as dataclass_fields
from typing import TYPE_CHECKING

import pikepdf
from pikepdf import Array, Dictionary, Name

from ..attachments import attachment_description, unique_key
from ..errors import CorruptInput, EngineError, InvalidOption, UnsupportedInput
from ..images import DEFAULT_MAX_PIXELS
from ..inputs import NamedSource, Source, display_name, input_label, read_whole
from ..library_warnings import capture_library_warnings, distinct
from ..lookup import lookup
from ..office.detect import DocumentType, document_type
from ..output import Destination, atomic_output
from ..provenance import InputDigest, digest_bytes, digest_source
from ..report import ProgressCallback, Report
from ..teardown import finished
from .archives import (
    ArchiveLimits,
    MemberFilter,
    archive_members,
    kind_of,
)
from .dedupe import StreamDeduplicator
from .forms import (
    FIELD_POLICIES,
    FieldNamespace,
    FieldPolicy,
    FormBuilder,
    SourceForm,
    prepare_source_form,
)
from .labels import LabelBuilder, SourceLabels
from .names import (
    DestinationNamespace,
    InputDestinations,
    destination_lost,
    drop_lost_destination,
    namespace_destinations,
    points_nowhere,
)
from .outline import (
    OUTLINE_POLICIES,
    Bookmark,
    OutlineBuilder,
    OutlinePolicy,
    bookmark_tree,
    item_destination,
    prepare_source_outline,
)
from .pageranges import PageRangeError, parse_page_ranges
from .pdfopen import OpenedPdf, head_bytes, open_pdf, qpdf_message

if TYPE_CHECKING:
    from ..office.pool import OfficePool

_COPYING_MARK = Name("/PdfbinderPageBeingCopied")
_PAGE_SIZE_KEYS = ("/MediaBox", "/CropBox", "/Rotate", "/UserUnit")
"""What makes a page look the size it does: a padding page takes these from its neighbour."""
_LETTER = (0, 0, 612, 792)
_OBJECT_NUMBER = re.compile(r"\bobject (\d+) \d+\b")
_OUTPUT_OBJECT = re.compile(r"^[^:]*?\bobject \d+ \d+\S*:\s*")
"""How qpdf starts a message about one object of the output ("empty PDF, stream object 5 0: ")."""
_INFO_FIELDS = {
    "title": "/Title",
    "author": "/Author",
    "subject": "/Subject",
    "keywords": "/Keywords",
}
_XMP_FIELDS = {
    "title": "dc:title",
    "author": "dc:creator",
    "subject": "dc:description",
    "keywords": "pdf:Keywords",
}


@dataclass(frozen=True)
class PdfInput:
    """One merge input: a PDF source, with an optional name, page range and password.

    ``pages`` uses qpdf's grammar (``1-3,7,z``, ``r1``, ``5-1``); None means all.
    ``password`` overrides the password given for the whole merge (``""``: none).
    ``member`` names the ZIP member this input is, when it came out of an archive.
    """

    source: Source | NamedSource
    name: str | None = None
    pages: str | None = None
    password: str | None = None
    member: str | None = None

    @property
    def named_source(self) -> Source | NamedSource:
        """The source wrapped with its display name, when one was given."""
        if self.name is None:
            return self.source
        raw = self.source.source if isinstance(self.source, NamedSource) else self.source
        return NamedSource(raw, self.name)


@dataclass
class MergeReport(Report):
    """What a merge produced: pages, renamed form fields and repaired inputs.

    ``renamed_fields`` maps ``"input N (name): old"`` to the field's new name.
    ``repairs`` lists every repair; ``warnings`` has one line per repaired input.
    """

    renamed_fields: dict[str, str] = field(default_factory=dict)
    repairs: list[str] = field(default_factory=list)


@dataclass
class MergePlan(MergeReport):
    """What a merge would produce, found by running it without writing (:func:`plan_merge`).

    ``bookmarks`` is the output's bookmark tree. ``unconverted`` names the
    Office documents LibreOffice would convert: a plan does not start it, so
    their pages are not in ``page_count`` or the bookmarks.
    """

    bookmarks: list[Bookmark] = field(default_factory=list)
    unconverted: list[str] = field(default_factory=list)


InputGroup = tuple[int, PdfInput, Callable[[], Iterator[PdfInput]]]
"""One caller-given input: its 0-based position, the input itself and the PDFs it expands to."""


def _as_pdf_input(item: Source | NamedSource | PdfInput) -> PdfInput:
    return item if isinstance(item, PdfInput) else PdfInput(item)


def _first_line(message: object) -> str:
    lines = str(message).strip().splitlines()
    return lines[0] if lines else ""


def merge_pdfs(
    inputs: Iterable[Source | NamedSource | PdfInput],
    output: Destination,
    *,
    password: str | None = None,
    outline: str = "keep",
    bookmark_titles: str = "document",
    fields: str = "rename",
    linearize: bool = False,
    pad_to_even: bool = False,
    collate: bool = False,
    on_progress: ProgressCallback | None = None,
    attach_sources: bool = False,
    title: str | None = None,
    author: str | None = None,
    subject: str | None = None,
    keywords: str | None = None,
) -> MergeReport:
    """Merge PDF ``inputs`` in order into ``output``, keeping everything each input had.

    ``outline`` is ``keep``, ``nest`` (one bookmark per input holding its
    outline, titled by the input's document title, or by its file name with
    ``bookmark_titles="file"``) or ``drop``. ``fields`` says what becomes of
    same-named form fields of different inputs: ``rename`` (the later one) or
    ``join`` (one field, one value). ``attach_sources`` embeds each input file
    as it is in the output (see :mod:`pdfbinder.engine.attachments`).

    For double-sided printing and scanning: ``pad_to_even`` adds a blank page,
    the size of the input's last page, after every input with an odd page count,
    so that each input starts on a front side. ``collate`` takes page 1 of every
    input, then page 2 and so on (qpdf's ``--collate``); inputs that run out are
    passed over. Fronts and backs scanned as two files, the backs last to first,
    are ``[fronts, PdfInput(backs, pages="z-1")]``. Bookmarks, links and named
    destinations keep pointing at their own pages wherever collation puts them;
    the bookmarks stay in input order. The two cannot be combined.

    Raises an :class:`EngineError` naming the input that could not be merged;
    a path ``output`` is then left untouched.
    """
    items = [_as_pdf_input(item) for item in inputs]
    groups: list[InputGroup] = [
        (index, item, _single_input(item)) for index, item in enumerate(items)
    ]
    return merge_groups(
        groups,
        output,
        password=password,
        outline=outline,
        bookmark_titles=bookmark_titles,
        fields=fields,
        linearize=linearize,
        pad_to_even=pad_to_even,
        collate=collate,
        on_progress=on_progress,
        attach_sources=attach_sources,
        info={"title": title, "author": author, "subject": subject, "keywords": keywords},
    )


def _single_input(item: PdfInput) -> Callable[[], Iterator[PdfInput]]:
    return lambda: iter((item,))


def merge_any(
    inputs: Iterable[Source | NamedSource | PdfInput],
    output: Destination,
    *,
    password: str | None = None,
    outline: str = "keep",
    bookmark_titles: str = "document",
    fields: str = "rename",
    linearize: bool = False,
    pad_to_even: bool = False,
    collate: bool = False,
    on_progress: ProgressCallback | None = None,
    attach_sources: bool = False,
    limits: ArchiveLimits = ArchiveLimits(),
    members: MemberFilter = MemberFilter(),
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    office: OfficePool | Callable[[], OfficePool] | None = None,
    title: str | None = None,
    author: str | None = None,
    subject: str | None = None,
    keywords: str | None = None,
) -> MergeReport:
    """Merge PDFs, images, Office documents and ZIP archives of them, in order, into one PDF.

    Kinds are detected from content. Images go through ``images_to_pdf``
    (lossless, each refused above ``max_pixels`` as in ``images_to_pdf``);
    Office and text documents (see :mod:`pdfbinder.engine.office.detect`) are
    converted by LibreOffice in ``office``'s processes, each within ``limits``
    before conversion. ``office`` may also be a function making a pool: it is
    called at the first document, and the pool it makes is closed at the end of
    the call, as is the one-process pool made without any ``office``; ZIP members are
    merged in archive order under the policy in :mod:`.archives`, those
    ``members`` admits. The other options are :func:`merge_pdfs`'s; an
    archive counts as one input for ``pad_to_even`` and ``collate``. Anything
    else is refused with :class:`UnsupportedInput` naming the file.
    """
    items = [_as_pdf_input(item) for item in inputs]
    context = _ExpandContext(limits, members, max_pixels, password, office)
    groups: list[InputGroup] = [
        (index, item, (lambda item=item, index=index: context.expand(item, index)))  # type: ignore[misc]
        for index, item in enumerate(items)
    ]
    try:
        report = merge_groups(
            groups,
            output,
            password=password,
            outline=outline,
            bookmark_titles=bookmark_titles,
            fields=fields,
            linearize=linearize,
            pad_to_even=pad_to_even,
            collate=collate,
            on_progress=on_progress,
            attach_sources=attach_sources,
            info={"title": title, "author": author, "subject": subject, "keywords": keywords},
            digests=context.digests,
        )
    finally:
        context.close()
    report.warnings.extend(context.warnings)
    return report


def plan_merge(
    inputs: Iterable[tuple[int, Source | NamedSource | PdfInput]],
    *,
    any_kind: bool,
    password: str | None = None,
    outline: str = "keep",
    bookmark_titles: str = "document",
    fields: str = "rename",
    pad_to_even: bool = False,
    collate: bool = False,
    limits: ArchiveLimits = ArchiveLimits(),
    members: MemberFilter = MemberFilter(),
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
) -> MergePlan:
    """What :func:`merge_any` (``any_kind``) or :func:`merge_pdfs` would make, without writing.

    The merge runs as it would (inputs opened, repaired, fields renamed,
    bookmarks grafted, images converted in memory) up to the point where the
    output is saved. Each input comes with its position in the caller's list,
    so inputs left out keep the others' names in the report. Office documents
    are not converted (see :class:`MergePlan`).
    """
    items = [(index, _as_pdf_input(item)) for index, item in inputs]
    context = _ExpandContext(limits, members, max_pixels, password, None, dry_run=True)
    groups: list[InputGroup] = [
        (index, item, (lambda item=item, index=index: context.expand(item, index)))  # type: ignore[misc]
        if any_kind
        else (index, item, _single_input(item))
        for index, item in items
    ]
    report = merge_groups(
        groups,
        None,
        password=password,
        outline=outline,
        bookmark_titles=bookmark_titles,
        fields=fields,
        linearize=False,
        on_progress=None,
        info={},
        digests=context.digests,
        pad_to_even=pad_to_even,
        collate=collate,
        unconverted=context.unconverted,
    )
    assert isinstance(report, MergePlan)
    report.warnings.extend(context.warnings)
    report.unconverted = context.unconverted
    return report


class _ExpandContext:
    """What turning ``merge_any`` inputs into PDFs needs, and the pool it may have started.

    In a ``dry_run`` no Office document is converted: each is listed in
    ``unconverted`` instead.
    """

    def __init__(
        self,
        limits: ArchiveLimits,
        members: MemberFilter,
        max_pixels: int | None,
        password: str | None,
        office: OfficePool | Callable[[], OfficePool] | None,
        *,
        dry_run: bool = False,
    ) -> None:
        self.limits = limits
        self.members = members
        self.max_pixels = max_pixels
        self.password = password
        self.dry_run = dry_run
        self.warnings: list[str] = []
        self.digests: dict[int, InputDigest] = {}
        """Digests of inputs converted from images, taken from the bytes the conversion read."""
        self.unconverted: list[str] = []
        # A pool is not callable; a function making one is.
        self._office = None if callable(office) else office
        self._make_office = office if callable(office) else None
        self._own_office: OfficePool | None = None

    def office(self) -> OfficePool:
        """The caller's pool, or one of our own, made at the first document."""
        if self._office is None:
            self._own_office = self._office = (self._make_office or _one_process_office)()
        return self._office

    def close(self) -> None:
        if self._own_office is not None:
            self._own_office.close()

    def expand(self, item: PdfInput, index: int) -> Iterator[PdfInput]:
        """The PDFs one input stands for: itself, its conversion or its members."""
        source = item.named_source
        name = display_name(source)
        try:
            head = head_bytes(source)
        except OSError as error:
            raise UnsupportedInput(
                f"cannot be read: {error.strerror or error}", index=index, name=name
            ) from error
        kind = kind_of(head)
        document = document_type(source, head, name) if kind in MAYBE_DOCUMENT else None
        if kind != "zip" or document is not None:
            yield from self._expand_single(item, source, kind, document, index)
            return
        for member in archive_members(
            source, index=index, limits=self.limits, member_filter=self.members
        ):
            member_head = head_bytes(member)
            member_kind = kind_of(member_head)
            member_document = (
                document_type(member, member_head, member.name)
                if member_kind in MAYBE_DOCUMENT
                else None
            )
            if member_kind == "zip" and member_document is None:
                raise UnsupportedInput(
                    "is an archive inside an archive; nested archives are not merged",
                    index=index,
                    name=member.name,
                )
            yield from self._expand_single(
                PdfInput(member, password=item.password, member=member.name),
                member,
                member_kind,
                member_document,
                index,
            )

    def _expand_single(
        self,
        item: PdfInput,
        source: Source | NamedSource,
        kind: str,
        document: DocumentType | None,
        index: int,
    ) -> Iterator[PdfInput]:
        name = display_name(source)
        if document is not None and self.dry_run:
            self.unconverted.append(input_label(index, name))
        elif document is not None:
            from ..office.convert import document_to_pdf

            with document_to_pdf(
                self.office(),
                source,
                document,
                index=index,
                name=name,
                password=item.password or self.password,
                limits=self.limits,
            ) as converted:
                # "": the converted PDF needs no password, not even the merge's.
                yield PdfInput(
                    NamedSource(converted, name), pages=item.pages, password="", member=item.member
                )
        elif kind == "pdf":
            yield PdfInput(source, pages=item.pages, password=item.password, member=item.member)
        elif kind == "image":
            from ..images.convert import images_to_pdf  # a PDF-only merge never loads it

            with tempfile.SpooledTemporaryFile(max_size=64 * 1024**2) as converted:
                named = source if isinstance(source, NamedSource) else NamedSource(source, name)
                try:
                    result = images_to_pdf([named], converted, max_pixels=self.max_pixels)  # type: ignore[arg-type]
                except EngineError as error:
                    raise type(error)(error.reason, index=index, name=name) from error
                self.warnings.extend(f"{input_label(index, name)}: {w}" for w in result.warnings)
                if item.member is None:  # the caller's input itself: its bytes were just hashed
                    self.digests[index] = replace(result.provenance.inputs[0], index=index)
                converted.seek(0)
                yield PdfInput(
                    NamedSource(converted, name),  # type: ignore[arg-type]
                    pages=item.pages,
                    password="",
                    member=item.member,
                )
        else:
            raise UnsupportedInput(NOT_MERGEABLE, index=index, name=name)


NOT_MERGEABLE = "is not a PDF, an image, an Office document or a ZIP archive of them"


def _one_process_office() -> OfficePool:
    from ..office.pool import OfficePool  # only merges with a document need it

    return OfficePool(processes=1)


MAYBE_DOCUMENT = ("zip", "office", "unknown")
"""Kinds of content that may be a document: ZIP-based formats, OLE2/RTF, text by name."""


def merge_groups(
    groups: Sequence[InputGroup],
    output: Destination | None,
    *,
    password: str | None,
    outline: str,
    linearize: bool,
    on_progress: ProgressCallback | None,
    info: dict[str, str | None],
    bookmark_titles: str = "document",
    fields: str = "rename",
    attach_sources: bool = False,
    digests: dict[int, InputDigest] | None = None,
    pad_to_even: bool = False,
    collate: bool = False,
    unconverted: Sequence[str] = (),
) -> MergeReport:
    """The merge behind :func:`merge_pdfs` and ``merge_any``: inputs grouped by caller position.

    ``digests`` receives, while an input expands, the digest of an input the
    expansion read whole anyway; the others are hashed here. A group is one
    input for ``pad_to_even`` and ``collate``, however many PDFs it expands to.
    Without an ``output`` nothing is written and the report is a
    :class:`MergePlan`; ``unconverted`` then lists the Office documents the
    plan left out (filled while the inputs expand), and a plan of those alone
    may have no pages.
    """
    _check_choice("outline", outline, OUTLINE_POLICIES)
    _check_choice("bookmark_titles", bookmark_titles, BOOKMARK_TITLES)
    _check_choice("fields", fields, FIELD_POLICIES)
    if pad_to_even and collate:
        raise InvalidOption(
            "pad_to_even and collate cannot be combined: collated pages no longer "
            "follow their input, so there is no input end to pad"
        )
    if not groups:
        raise InvalidOption("nothing to merge: no inputs given")
    merger = _Merger(outline, bookmark_titles == "file", fields)  # type: ignore[arg-type]
    known = digests if digests is not None else {}
    for done, (index, original, expand) in enumerate(groups, start=1):
        first_output_index = merger.page_count
        for item in expand():
            own = item.password
            merger.add(item, index=index, password=password if own is None else own or None)
        merger.end_input(first_output_index, pad_to_even=pad_to_even)
        merger.add_original(original, index, known.get(index), attach=attach_sources)
        if on_progress is not None:
            on_progress(done, len(groups))
    if merger.page_count == 0 and not unconverted:
        raise InvalidOption("nothing to merge: the inputs have no pages")
    if collate:
        merger.collate()
    report = merger.save(output, linearize=linearize, info=info)
    finished(merger)
    return report


BOOKMARK_TITLES = ("document", "file")
"""Per-input bookmark titles under ``nest``: the document's title (else its file name), or
the file name."""


def _check_choice(option: str, value: str, choices: Sequence[str]) -> None:
    if value not in choices:
        raise InvalidOption(f"{option} must be one of {', '.join(choices)}, not {value!r}")


def _annotations(pages: Iterable[pikepdf.Object]) -> Iterator[pikepdf.Object]:
    """The annotation dictionaries on ``pages``."""
    for page in pages:
        annots = lookup(page, "/Annots")
        if isinstance(annots, Array):
            for annot in annots:
                if isinstance(annot, Dictionary):
                    yield annot


def _own_objects(pages: list[pikepdf.Object], pdf: pikepdf.Pdf) -> list[pikepdf.Object]:
    """``pages`` with each repeat of a page replaced by a copy of its own (one place per page)."""
    placed: set[tuple[int, int]] = set()
    result = []
    for page in pages:
        if page.objgen in placed:
            page = pdf.make_indirect(Dictionary(dict(page.items())))
        placed.add(page.objgen)
        result.append(page)
    return result


def _open_destination(pdf: pikepdf.Pdf, destinations: InputDestinations) -> pikepdf.Object | None:
    """Where the first input opens (its /OpenAction), when that is a destination or a GoTo.

    The merged document opens where its first input did. Scripts, launches and
    other opening actions are not carried over: they were written for that
    input alone, not for a document with other files' pages in it.
    """
    action = lookup(pdf.Root, "/OpenAction")
    if isinstance(action, Dictionary) and lookup(action, "/S") == Name.GoTo:
        action = lookup(action, "/D")
    if isinstance(action, Array) and len(action) > 0:
        return action
    return destinations.renamed(action)


def _document_title(pdf: pikepdf.Pdf, fallback: str) -> str:
    """A per-input bookmark's title: the document's own title, else its file name."""
    info = pdf.trailer.get("/Info")
    title = info.get("/Title") if isinstance(info, Dictionary) else None
    text = str(title).strip() if title is not None else ""
    return text or _file_title(fallback)


def _file_title(name: str) -> str:
    """A bookmark title from a file name: its last path part without the extension."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return os.path.splitext(base)[0] or base


@dataclass(frozen=True)
class _PageSelection:
    """The pages of one input a page range picks, in output order."""

    indices: list[int]
    """0-based page numbers, in output order (repeats allowed)."""
    selected: list[pikepdf.Object]
    """The page objects for ``indices``."""
    unique: list[pikepdf.Object]
    """``selected`` without repeats: what is copied."""
    repeats: bool
    partial: bool
    """Some pages are left out (links and fields on them are dropped)."""


def _select_pages(opened: OpenedPdf, ranges: str | None, index: int) -> _PageSelection:
    all_pages: list[pikepdf.Object] = [page.obj for page in opened.pdf.pages]
    try:
        indices = parse_page_ranges(ranges, len(all_pages))
    except PageRangeError as error:
        raise InvalidOption(str(error), index=index, name=opened.name) from error
    selected = all_pages if ranges is None else [all_pages[i] for i in indices]
    repeats = len(set(indices)) < len(indices)
    unique = list({page.objgen: page for page in selected}.values()) if repeats else selected
    return _PageSelection(indices, selected, unique, repeats, len(unique) < len(all_pages))


def _rewrite_pages(
    pages: list[pikepdf.Object], rewrite: Callable[[pikepdf.Object], None] | None, *, collect: bool
) -> set[tuple[int, int]]:
    """Point GoTo actions on ``pages`` and their annotations at the namespaced names.

    Returns the ids of the pages' annotations when ``collect`` (a partial copy of a
    form keeps only the widgets that are on copied pages). Annotations are walked
    only when there is something to do with them.
    """
    annotations: set[tuple[int, int]] = set()
    if rewrite is not None:
        for page in pages:  # page-open and page-close triggers (/AA)
            rewrite(page)
    elif not collect:
        return annotations
    for annot in _annotations(pages):
        if rewrite is not None:
            rewrite(annot)
        if annot.is_indirect:
            annotations.add(annot.objgen)
    return annotations


def _bundle_document_parts(
    bundle: Dictionary, src: pikepdf.Pdf, destinations: InputDestinations
) -> str | None:
    """Add what the output takes from its first input: info, XMP, opening destination.

    Returns why the input's XMP metadata was left out, when it cannot be read.
    """
    opening = _open_destination(src, destinations)
    if opening is not None:
        bundle.OpenAction = opening
    bundle.Info = src.trailer.get("/Info", Dictionary())
    if "/Metadata" not in src.Root:
        return None
    problem = _unreadable_xmp(src)
    if problem is None:
        bundle.Metadata = src.Root.Metadata
    return problem


def _unreadable_xmp(pdf: pikepdf.Pdf) -> str | None:
    """Why ``pdf``'s XMP metadata cannot be decoded and parsed as XMP, or None if it can.

    Saving updates the PDF version recorded in the XMP, which needs it parsed: a
    stream that does not decode stops the save, and XML that is not XMP is
    replaced by an empty packet with a message on stderr. Strict parsing raises
    instead, so either is found here and reported.
    """
    try:
        pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False, strict=True)
    except Exception as error:  # decoding (pikepdf) and XML (lxml) raise many types
        return qpdf_message(pdf, error)
    return None


@dataclass
class _PreparedInput:
    """One input rewritten for the output, and the bundle a single copy takes along."""

    label: str
    index: int
    """The caller's input this is (or was converted or unpacked from)."""
    member: str | None
    selection: _PageSelection
    dest_names: list[str]
    """The namespaced destination names, in the order of the bundle's /Dests."""
    form: SourceForm | None
    labels: SourceLabels
    title: str
    """The input's bookmark title when the outline nests, else empty."""
    first: bool
    """The first input: its document info, XMP and opening destination are the output's."""
    bundle: Dictionary


class _Merger:
    """The output document under construction and what each part has collected."""

    def __init__(self, policy: OutlinePolicy, titles_from_files: bool, fields: FieldPolicy) -> None:
        self.pdf = pikepdf.Pdf.new()
        self.page_tree = self.pdf.Root.Pages
        self.kids: list[pikepdf.Object] = []
        self.outline = OutlineBuilder(self.pdf, policy)
        self.titles_from_files = titles_from_files
        self.forms = FormBuilder(self.pdf, fields)
        self.labels = LabelBuilder()
        self.dest_names = DestinationNamespace()
        self.field_names: FieldNamespace | None = FieldNamespace() if fields == "rename" else None
        self.dests: dict[str, pikepdf.Object] = {}
        self.first_info: pikepdf.Object | None = None
        self.first_metadata: pikepdf.Object | None = None
        self.open_action: pikepdf.Object | None = None
        self.report = MergeReport()
        self.inputs_added = 0
        self.attachment_keys: set[str] = set()
        self.input_spans: list[tuple[int, int]] = []
        """Each caller input's pages, as ``(first, end)`` positions in ``kids``."""
        self.page_labels: list[tuple[SourceLabels, int] | None] = []
        """Each page's input labelling and page number there (``None``: a padding page)."""
        self.repairs: dict[str, list[str]] = {}
        """What qpdf repaired, per input label, in input order."""
        self.object_owners: list[tuple[int, int, str]] = []
        """(first, end) object numbers each input's copy took, with the input's label."""

    @property
    def page_count(self) -> int:
        return len(self.kids)

    def add(self, item: PdfInput, *, index: int, password: str | None) -> None:
        """Copy one input's selected pages and everything attached to them."""
        opened = open_pdf(item.named_source, index=index, password=password)
        try:
            with capture_library_warnings() as library:
                prepared = self._prepare(opened, item.pages, index, item.member)
                first = self._next_object_number()
                copied = self.pdf.copy_foreign(opened.pdf.make_indirect(prepared.bundle))
                self.object_owners.append((first, self._next_object_number(), prepared.label))
                self._graft(prepared, copied)
            self._report_repairs(opened, prepared.label)
            for message in [*opened.notes, *distinct(library)]:
                self.report.warnings.append(f"{prepared.label}: {message}")
        except EngineError:
            raise
        except (pikepdf.PdfError, RuntimeError, ValueError, TypeError, KeyError) as error:
            raise CorruptInput(
                f"could not be copied ({str(error).strip()[:200]})", index=index, name=opened.name
            ) from error
        finally:
            opened.pdf.close()

    def _prepare(
        self, opened: OpenedPdf, ranges: str | None, index: int, member: str | None
    ) -> _PreparedInput:
        """Rewrite the input in memory for the output, and bundle what one copy takes along."""
        src = opened.pdf
        selection = _select_pages(opened, ranges, index)
        self.inputs_added += 1
        destinations = namespace_destinations(src, self.dest_names, self.inputs_added)
        rewrite = destinations.rewrite if destinations.changes_references else None
        has_form = isinstance(lookup(src.Root, "/AcroForm"), Dictionary)
        copied_annotations = _rewrite_pages(
            selection.unique, rewrite, collect=selection.partial and has_form
        )
        outline_root = (
            prepare_source_outline(src, rewrite) if self.outline.policy != "drop" else None
        )
        form = (
            prepare_source_form(
                src, self.field_names, copied_annotations if selection.partial else None
            )
            if has_form
            else None
        )
        for page in selection.unique:
            page.Type = _COPYING_MARK  # /Parent is not followed: qpdf nulls /Pages nodes
        bundle = Dictionary(
            Pages=Array(selection.unique),
            Dests=Array(destinations.targets.values()),
        )
        if outline_root is not None:
            bundle.Outlines = outline_root
        if form is not None:
            bundle.Fields = Array(form.fields)
            bundle.Form = form.settings
        first = self.first_info is None
        label = input_label(index, opened.name)
        if first:
            xmp_problem = _bundle_document_parts(bundle, src, destinations)
            if xmp_problem is not None:
                self.report.warnings.append(
                    f"{label}: its XMP metadata cannot be read ({xmp_problem}); left out"
                )
        title = ""
        if self.outline.policy == "nest":
            title = (
                _file_title(opened.name)
                if self.titles_from_files
                else _document_title(src, opened.name)
            )
        return _PreparedInput(
            label=label,
            index=index,
            member=member,
            selection=selection,
            dest_names=list(destinations.targets),
            form=form,
            labels=SourceLabels(src),
            title=title,
            first=first,
            bundle=bundle,
        )

    def add_original(
        self, original: PdfInput, index: int, digest: InputDigest | None, *, attach: bool
    ) -> None:
        """Record the caller's input ``original`` as it was given, and embed it when ``attach``."""
        source = original.named_source
        name = display_name(source)
        data = read_whole(source) if attach else None
        if digest is None:
            digest = (
                digest_bytes(data, index, name)
                if data is not None
                else digest_source(source, index, name)
            )
        self.report.provenance.inputs.append(digest)
        if data is not None:
            key = unique_key(name, self.attachment_keys)
            self.pdf.attachments[key] = pikepdf.AttachedFileSpec(
                self.pdf,
                data,
                description=attachment_description(digest),
                filename=name,
                relationship=Name.Source,
            )

    def _graft(self, prepared: _PreparedInput, copied: pikepdf.Object) -> None:
        """Attach the copied pages, names, outline, fields and labels to the output."""
        selection = prepared.selection
        lost_names: set[str] = set()
        for name, target in zip(prepared.dest_names, copied.Dests, strict=True):
            if len(target) > 0 and target[0] is None:
                lost_names.add(name)
            else:
                self.dests[name] = target
        lost_if_partial = lost_names if selection.partial else None
        first_output_index = len(self.kids)
        copied_pages = list(copied.Pages)
        if selection.repeats:
            by_source = dict(
                zip((page.objgen for page in selection.unique), copied_pages, strict=True)
            )
            copied_pages = _own_objects(
                [by_source[page.objgen] for page in selection.selected], self.pdf
            )
        self._place(copied_pages, lost_if_partial)
        self.report.provenance.add_pages(
            first_output_index + 1,
            prepared.index,
            [page + 1 for page in selection.indices],
            prepared.member,
        )
        self.labels.add(prepared.labels, selection.indices, first_output_index)
        self.page_labels.extend((prepared.labels, page) for page in selection.indices)
        first_page = self.kids[first_output_index] if selection.selected else None
        self.outline.add(lookup(copied, "/Outlines"), prepared.title, first_page, lost_if_partial)
        form = prepared.form
        if form is not None:
            renamed = self.forms.add(copied.Fields, copied.Form, form.has_xfa)
            for old, new in (form.renamed | renamed).items():
                self.report.renamed_fields[f"{prepared.label}: {old}"] = new
        if prepared.first:
            self._take_document_parts(copied, lost_names)

    def _take_document_parts(self, copied: pikepdf.Object, lost_names: set[str]) -> None:
        """Keep the first input's copied info, XMP and opening destination for the output."""
        opening = lookup(copied, "/OpenAction")
        if opening is not None and not destination_lost(opening, lost_names):
            self.open_action = opening
        # A trailer /Info that is no dictionary (e.g. points at the page tree) copies as
        # null, which drops the key.
        self.first_info = copied.get("/Info", Dictionary())
        self.first_metadata = copied.get("/Metadata")

    def end_input(self, first_output_index: int, *, pad_to_even: bool) -> None:
        """Close one caller input, whose pages start at ``first_output_index``.

        With ``pad_to_even``, an odd page count gets a blank page the size of the
        input's last page, labelled as the page after it; it comes from no
        input, so no provenance run covers it.
        """
        if pad_to_even and (len(self.kids) - first_output_index) % 2:
            last = self.kids[-1]
            blank = Dictionary(Type=Name.Page, Parent=self.page_tree, Resources=Dictionary())
            for key in _PAGE_SIZE_KEYS:
                value = last.get(key)
                if value is not None:
                    blank[key] = Array(value) if isinstance(value, Array) else value
            if "/MediaBox" not in blank:
                blank.MediaBox = Array(_LETTER)
            self.kids.append(self.pdf.make_indirect(blank))
            self.labels.add_next()
            self.page_labels.append(None)
        self.input_spans.append((first_output_index, len(self.kids)))

    def collate(self) -> None:
        """Put the pages in collated order: page 1 of every input, then page 2, and so on.

        Links, bookmarks and destinations point at page objects, so they follow
        their pages; the page labels and the page provenance are recorded again
        in the new order.
        """
        spans = [range(first, end) for first, end in self.input_spans]
        longest = max((len(span) for span in spans), default=0)
        order = [span[row] for row in range(longest) for span in spans if row < len(span)]
        self.kids = [self.kids[position] for position in order]
        self.page_labels = [self.page_labels[position] for position in order]
        self.labels = LabelBuilder.of_pages(self.page_labels)
        self.report.provenance.reorder(order)

    def _next_object_number(self) -> int:
        """The number the output's next new object gets (this probe itself is never written)."""
        probe: int = self.pdf.make_indirect(Dictionary()).objgen[0]
        return probe + 1

    def _report_repairs(self, opened: OpenedPdf, label: str) -> None:
        """What qpdf repaired while opening or reading the input."""
        seen = set(opened.repairs)
        later = [qpdf_message(opened.pdf, w) for w in opened.pdf.get_warnings()]
        for repair in opened.repairs + [w for w in later if w not in seen]:
            self.repairs.setdefault(label, []).append(repair)

    def _owner(self, message: str) -> str:
        """The input whose copied object a qpdf message about the output names, if any."""
        found = _OBJECT_NUMBER.search(message)
        if found is not None:
            number = int(found.group(1))
            for first, end, label in self.object_owners:
                if first <= number < end:
                    return label
        return "output"

    def _summarise_repairs(self) -> None:
        """All repairs in ``repairs``; in ``warnings``, one line per damaged input."""
        for label, repairs in self.repairs.items():
            self.report.repairs.extend(f"{label}: repaired: {repair}" for repair in repairs)
            if len(repairs) == 1:
                self.report.warnings.append(f"{label}: repaired: {repairs[0]}")
            else:
                self.report.warnings.append(
                    f"{label}: repaired {len(repairs)} problems, the first: {repairs[0]} "
                    "(the report's repairs list them all)"
                )

    def _place(self, pages: list[pikepdf.Object], lost_names: set[str] | None) -> None:
        """Append copied pages to the output's page tree.

        ``lost_names`` is given when a page range left pages out: links to them are dropped.
        """
        page_type, page_tree = Name.Page, self.page_tree
        for page in pages:
            page.Type = page_type
            page.Parent = page_tree
        if lost_names is not None:
            for annot in _annotations(pages):
                if points_nowhere(annot, lost_names):
                    drop_lost_destination(annot)
        self.kids.extend(pages)

    def save(
        self, output: Destination | None, *, linearize: bool, info: dict[str, str | None]
    ) -> MergeReport:
        """Finish the catalog and write the output atomically (without ``output``: plan only)."""
        pdf = self.pdf
        root = pdf.Root.Pages
        root.Kids = Array(self.kids)
        root.Count = len(self.kids)
        self.outline.finish()
        self.forms.finish()
        if self.forms.joined_with_other_values:
            names = ", ".join(sorted(set(self.forms.joined_with_other_values)))
            self.report.warnings.append(
                f"joined fields whose inputs showed other values keep the first value: {names}"
            )
        if self.forms.dropped_xfa:
            self.report.warnings.append(
                "XFA form data was dropped; the merged AcroForm fields are kept"
            )
        self.labels.finish(pdf)
        if self.dests:
            tree = pikepdf.NameTree.new(pdf)
            for name, target in self.dests.items():
                tree[name] = target
            pdf.Root.Names = Dictionary(Dests=tree.obj)
        self._write_info(info)
        if self.open_action is not None:
            pdf.Root.OpenAction = Dictionary(S=Name.GoTo, D=self.open_action)
        if output is None:
            self._summarise_repairs()  # those found so far: stream data is read only by saving
            return self._plan()
        if self.inputs_added > 1:  # duplicates this pass targets come from separate inputs
            StreamDeduplicator().pages(self.kids)
        with atomic_output(output) as handle, capture_library_warnings() as library:
            pdf.save(
                handle,
                object_stream_mode=pikepdf.ObjectStreamMode.generate,
                linearize=linearize,
            )
        # Stream data is read from the inputs as it is written: damage found now is
        # reported against the input the object was copied from.
        for warning in pdf.get_warnings():
            message = _first_line(warning)
            owner = self._owner(message)
            if owner == "output":
                self.report.warnings.append(f"output: {message}")
            else:
                self.repairs.setdefault(owner, []).append(_OUTPUT_OBJECT.sub("", message, 1))
        self._summarise_repairs()
        # Widgets an input had outside its /AcroForm stay on their pages, as in the input.
        self.report.warnings.extend(f"output: {message}" for message in distinct(library))
        self.report.page_count = len(self.kids)
        pdf.close()
        return self.report

    def _plan(self) -> MergePlan:
        """The finished document described instead of written."""
        positions = {page.objgen: number for number, page in enumerate(self.kids, start=1)}

        def page_of(item: pikepdf.Object) -> int | None:
            destination = item_destination(item)
            if isinstance(destination, (Name, pikepdf.String)):
                text = str(destination)
                destination = self.dests.get(text, self.dests.get(text.lstrip("/")))
            if isinstance(destination, Dictionary):
                destination = lookup(destination, "/D")
            if isinstance(destination, Array) and len(destination) > 0:
                target = destination[0]
                if isinstance(target, Dictionary) and target.is_indirect:
                    return positions.get(target.objgen)
            return None

        root = lookup(self.pdf.Root, "/Outlines")
        report = self.report
        report.page_count = len(self.kids)
        plan = MergePlan(
            **{part.name: getattr(report, part.name) for part in dataclass_fields(report)},
            bookmarks=bookmark_tree(root, page_of) if isinstance(root, Dictionary) else [],
        )
        self.pdf.close()
        return plan

    def _write_info(self, overrides: dict[str, str | None]) -> None:
        """Document info and XMP come from the first input, overridden by the caller's values."""
        pdf = self.pdf
        if isinstance(self.first_info, Dictionary):
            pdf.trailer.Info = (
                self.first_info
                if self.first_info.is_indirect
                else pdf.make_indirect(self.first_info)
            )
        if self.first_metadata is not None:
            pdf.Root.Metadata = self.first_metadata
        given = {key: value for key, value in overrides.items() if value is not None}
        if not given:
            return
        for key, value in given.items():
            pdf.docinfo[Name(_INFO_FIELDS[key])] = value
        if self.first_metadata is not None:
            with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as xmp:
                for key, value in given.items():
                    xmp[_XMP_FIELDS[key]] = [value] if key == "author" else value
