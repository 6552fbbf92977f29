"""PDFs built with pikepdf for the merge tests: outlines, labels, forms, named links, fonts,
and damaged ones (unreadable XMP, wrong stream lengths, undecodable streams)."""

from __future__ import annotations

import io
import random
import re
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name, OutlineItem, String


def _text_page(
    pdf: pikepdf.Pdf, text: str, font: pikepdf.Object, size: tuple[float, float] = (612, 792)
) -> pikepdf.Page:
    width, height = size
    content = pdf.make_stream(f"BT /F1 18 Tf 72 {height - 72} Td ({text}) Tj ET".encode())
    page = pikepdf.Page(
        Dictionary(
            Type=Name.Page,
            MediaBox=Array([0, 0, width, height]),
            Resources=Dictionary(Font=Dictionary(F1=font)),
            Contents=content,
        )
    )
    return page


def helvetica(pdf: pikepdf.Pdf) -> pikepdf.Object:
    """A standard (non-embedded) font resource."""
    return pdf.make_indirect(
        Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica)
    )


def text_pdf(
    path: Path,
    page_texts: list[str],
    *,
    sizes: list[tuple[float, float]] | None = None,
    bookmarks: bool = False,
    label_style: str | None = None,
    label_prefix: str | None = None,
) -> Path:
    """A PDF with one line of text per page, each page ``sizes[i]`` (default Letter).

    ``bookmarks`` adds one bookmark per page titled by its text; ``label_style``
    (``"/r"``, ``"/D"``...) and/or ``label_prefix`` label the pages from 1.
    """
    pdf = pikepdf.Pdf.new()
    font = helvetica(pdf)
    for index, text in enumerate(page_texts):
        size = sizes[index] if sizes is not None else (612, 792)
        pdf.pages.append(_text_page(pdf, text, font, size))
    if bookmarks:
        with pdf.open_outline() as outline:
            outline.root.extend(OutlineItem(text, i) for i, text in enumerate(page_texts))
    if label_style is not None or label_prefix is not None:
        entry = Dictionary()
        if label_style is not None:
            entry.S = Name(label_style)
        if label_prefix is not None:
            entry.P = String(label_prefix)
        pdf.Root.PageLabels = Dictionary(Nums=Array([0, entry]))
    pdf.save(path)
    return path


def _text_field(pdf: pikepdf.Pdf, page: pikepdf.Page, name: str, value: str) -> pikepdf.Object:
    appearance = pdf.make_stream(
        f"/Tx BMC BT /Helv 12 Tf 2 6 Td ({value}) Tj ET EMC".encode(),
        Type=Name.XObject,
        Subtype=Name.Form,
        BBox=Array([0, 0, 200, 24]),
    )
    widget = pdf.make_indirect(
        Dictionary(
            Type=Name.Annot,
            Subtype=Name.Widget,
            FT=Name.Tx,
            T=String(name),
            V=String(value),
            Rect=Array([72, 600, 272, 624]),
            P=page.obj,
            AP=Dictionary(N=appearance),
            F=4,
        )
    )
    page.obj.Annots = Array([*page.obj.get("/Annots", Array()), widget])
    return widget


def _link(pdf: pikepdf.Pdf, page: pikepdf.Page, destination: pikepdf.Object) -> None:
    link = pdf.make_indirect(
        Dictionary(
            Type=Name.Annot,
            Subtype=Name.Link,
            Rect=Array([72, 500, 272, 520]),
            Border=Array([0, 0, 0]),
            Dest=destination,
        )
    )
    page.obj.Annots = Array([*page.obj.get("/Annots", Array()), link])


def fidelity_pdf(
    path: Path,
    *,
    tag: str,
    pages: int,
    labels: Dictionary,
    field_value: str,
    chap1_page: int,
    legacy_dests: bool = False,
    extra_bookmark: bool = False,
) -> Path:
    """A document with a bookmark per page, page labels, a field ``name``, and a link to ``chap1``.

    With ``extra_bookmark`` the last bookmark gets a child bookmark to the same
    page. The link sits on the first page and goes to the named destination
    ``chap1`` (in the name tree, or in the old /Root /Dests dictionary when
    ``legacy_dests``), which points at page ``chap1_page`` (0-based).
    """
    pdf = pikepdf.Pdf.new()
    font = helvetica(pdf)
    for number in range(pages):
        pdf.pages.append(_text_page(pdf, f"{tag} page {number + 1}", font))
    with pdf.open_outline() as outline:
        for number in range(pages):
            outline.root.append(OutlineItem(f"{tag} bookmark {number + 1}", number))
        if extra_bookmark:
            outline.root[-1].children.append(OutlineItem(f"{tag} detail", pages - 1))
    pdf.Root.PageLabels = pikepdf.NumberTree.new(pdf).obj
    tree = pikepdf.NumberTree(pdf.Root.PageLabels)
    tree[0] = labels
    target = Array([pdf.pages[chap1_page].obj, Name.Fit])
    if legacy_dests:
        pdf.Root.Dests = pdf.make_indirect(Dictionary(chap1=target))
        _link(pdf, pdf.pages[0], Name("/chap1"))
    else:
        names = pikepdf.NameTree.new(pdf)
        names["chap1"] = target
        pdf.Root.Names = Dictionary(Dests=names.obj)
        _link(pdf, pdf.pages[0], String("chap1"))
    widget = _text_field(pdf, pdf.pages[0], "name", field_value)
    pdf.Root.AcroForm = pdf.make_indirect(
        Dictionary(
            Fields=Array([widget]),
            DA=String("/Helv 0 Tf 0 g"),
            DR=Dictionary(Font=Dictionary(Helv=font)),
        )
    )
    pdf.save(path)
    return path


def pair_a_b(folder: Path, *, b_legacy_dests: bool = False) -> tuple[Path, Path]:
    """The issue's pair: A (3 pages, 3 bookmarks, roman labels) and B (2 pages, 3 bookmarks,
    labels B-1, B-2); both have a field ``name`` and a destination ``chap1`` on their last page."""
    a = fidelity_pdf(
        folder / "A.pdf",
        tag="A",
        pages=3,
        labels=Dictionary(S=Name.r),
        field_value="Alice",
        chap1_page=2,
    )
    b = fidelity_pdf(
        folder / "B.pdf",
        tag="B",
        pages=2,
        labels=Dictionary(S=Name.D, P=String("B-")),
        field_value="Bob",
        chap1_page=1,
        legacy_dests=b_legacy_dests,
        extra_bookmark=True,
    )
    return a, b


def shared_assets_pdf(path: Path, *, tag: str, seed: int = 7) -> Path:
    """A page that embeds a 300 kB font program and a 256×256 RGB image (same bytes per seed)."""
    rng = random.Random(seed)
    font_program = rng.randbytes(300_000)
    pixels = rng.randbytes(256 * 256 * 3)
    pdf = pikepdf.Pdf.new()
    program = pdf.make_stream(font_program, Length1=len(font_program))
    descriptor = Dictionary(
        Type=Name.FontDescriptor,
        FontName=Name("/SampleSans"),
        Flags=32,
        FontBBox=Array([0, -200, 1000, 900]),
        ItalicAngle=0,
        Ascent=900,
        Descent=-200,
        CapHeight=700,
        StemV=80,
        FontFile2=program,
    )
    font = pdf.make_indirect(
        Dictionary(
            Type=Name.Font,
            Subtype=Name.TrueType,
            BaseFont=Name("/SampleSans"),
            FirstChar=32,
            LastChar=32,
            Widths=Array([500]),
            FontDescriptor=pdf.make_indirect(descriptor),
        )
    )
    image = pdf.make_stream(
        pixels,
        Type=Name.XObject,
        Subtype=Name.Image,
        Width=256,
        Height=256,
        ColorSpace=Name.DeviceRGB,
        BitsPerComponent=8,
    )
    content = pdf.make_stream(
        f"q 200 0 0 200 72 400 cm /Im1 Do Q BT /F1 12 Tf 72 720 Td ({tag}) Tj ET".encode()
    )
    pdf.pages.append(
        pikepdf.Page(
            Dictionary(
                Type=Name.Page,
                MediaBox=Array([0, 0, 612, 792]),
                Contents=content,
                Resources=Dictionary(Font=Dictionary(F1=font), XObject=Dictionary(Im1=image)),
            )
        )
    )
    pdf.save(path, compress_streams=True)
    return path


def _form_widget(pdf: pikepdf.Pdf, page: pikepdf.Page, **entries: object) -> pikepdf.Object:
    widget = pdf.make_indirect(
        Dictionary(
            Type=Name.Annot, Subtype=Name.Widget, Rect=Array([72, 600, 272, 624]), P=page.obj, F=4
        )
    )
    for key, value in entries.items():
        widget[f"/{key}"] = value
    page.obj.Annots = Array([*page.obj.get("/Annots", Array()), widget])
    return widget


def _check_box_states(pdf: pikepdf.Pdf, on: str) -> Dictionary:
    box = Array([0, 0, 20, 20])
    on_stream = pdf.make_stream(b"0 0 20 20 re f", BBox=box, Subtype=Name.Form)
    off_stream = pdf.make_stream(b"", BBox=box, Subtype=Name.Form)
    return Dictionary(N=Dictionary({f"/{on}": on_stream, "/Off": off_stream}))


def form_pdf(path: Path, name_value: str, agreed: bool, *, city_as_check_box: bool = False) -> Path:
    """One page with a text field ``name`` (field and widget in one dictionary), a check box
    ``agree`` and a hierarchy ``address`` with a text child ``city`` (or a check box)."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(300, 700))
    page = pdf.pages[0]
    name = _form_widget(pdf, page, FT=Name.Tx, T=String("name"), V=String(name_value))
    state = Name.Yes if agreed else Name.Off
    states = _check_box_states(pdf, "Yes")
    agree = _form_widget(pdf, page, FT=Name.Btn, T=String("agree"), V=state, AS=state, AP=states)
    address = pdf.make_indirect(Dictionary(T=String("address"), Kids=Array()))
    city_type = Name.Btn if city_as_check_box else Name.Tx
    city = _form_widget(pdf, page, FT=city_type, T=String("city"), V=String(name_value + " town"))
    city.Parent = address
    address.Kids.append(city)
    pdf.Root.AcroForm = pdf.make_indirect(
        Dictionary(Fields=Array([name, agree, address]), DA=String("/Helv 0 Tf 0 g"))
    )
    pdf.save(path)
    return path


def outlined_pdf(path: Path, pages: int, tag: str) -> Path:
    """``pages`` pages, each with its own content stream, and a bookmark every tenth page."""
    pdf = pikepdf.Pdf.new()
    font = pdf.make_indirect(
        Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica)
    )
    resources = pdf.make_indirect(Dictionary(Font=Dictionary(F1=font)))
    for number in range(pages):
        content = pdf.make_stream(f"BT /F1 24 Tf 72 720 Td ({tag} {number + 1}) Tj ET".encode())
        pdf.pages.append(
            pikepdf.Page(
                Dictionary(
                    Type=Name.Page,
                    MediaBox=Array([0, 0, 612, 792]),
                    Resources=resources,
                    Contents=content,
                )
            )
        )
    with pdf.open_outline() as outline:
        for number in range(0, pages, max(1, pages // 10)):
            outline.root.append(OutlineItem(f"{tag} section {number + 1}", number))
    pdf.save(path)
    return path


def xmp_pdf(path: Path, xmp: bytes, *, flate: bool = False) -> Path:
    """A one-page PDF whose /Metadata stream holds ``xmp`` (declared Flate-compressed when
    ``flate``, whether or not it is)."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 200))
    metadata = pikepdf.Stream(pdf, xmp)
    metadata.Type, metadata.Subtype = Name.Metadata, Name.XML
    if flate:
        metadata.Filter = Name.FlateDecode
    pdf.Root.Metadata = metadata
    pdf.save(path, fix_metadata_version=False)
    return path


def wrong_lengths_pdf(path: Path, pages: int) -> Path:
    """``pages`` pages whose content streams all declare a /Length 7 bytes too long, so
    qpdf recovers each one (three repair messages per stream)."""
    pdf = pikepdf.new()
    for number in range(pages):
        pdf.add_blank_page(page_size=(100, 100))
        pdf.pages[-1].Contents = pdf.make_stream(b"0 0 m 10 10 l S %% page %d" % number)
    buffer = io.BytesIO()
    pdf.save(buffer, compress_streams=False, object_stream_mode=pikepdf.ObjectStreamMode.disable)
    damaged = re.sub(
        rb"/Length (\d+)", lambda m: b"/Length %d" % (int(m.group(1)) + 7), buffer.getvalue()
    )
    path.write_bytes(damaged)
    return path


def broken_lzw_pdf(path: Path) -> Path:
    """A page whose content stream claims LZW compression but holds bytes no LZW decoder
    accepts: qpdf only finds out while writing it."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(100, 100))
    contents = pdf.make_stream(b"\x00\x01not-lzw\xff\xfe" * 3)
    contents.Filter = Name.LZWDecode
    pdf.pages[0].Contents = contents
    pdf.save(path)
    return path
