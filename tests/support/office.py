"""Office and text documents the Office tests make themselves, and a look at what LibreOffice made.

DOCX, XLSX and PPTX come from python-docx, openpyxl and python-pptx (other
producers than LibreOffice, as a user's files would be); ODT, RTF, TXT and
CSV are written out by hand, small enough to read here; the
password-protected DOCX is encrypted by msoffcrypto-tool with Office's own
(agile) encryption.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import time
import zipfile
from pathlib import Path

import pikepdf

from tests.support.environment import private_temp_environment

ODF_TEXT = "application/vnd.oasis.opendocument.text"
_CONTROL_SECONDS = 300  # a cold LibreOffice on a busy two-core machine takes its time
LEGACY_TEXTS = {
    "letter.doc": ["Legacy Word heading Written in Word 97 format."],
    "ledger.xls": ["Legacy Excel cell 1997", "Second sheet 42"],
    "slides.ppt": ["Legacy slide one", "Legacy slide two"],
}
"""The pages' text of each of :func:`legacy_documents`."""


def legacy_documents(folder: Path) -> dict[str, bytes]:
    """A Word 97, an Excel 97 and a PowerPoint 97 file (see :data:`LEGACY_TEXTS`), written by
    LibreOffice itself (``soffice --convert-to``, the three at once, each with its own
    profile) from the DOCX, XLSX and PPTX made here."""
    sources = {
        "letter.docx": make_docx([("Legacy Word heading", "Written in Word 97 format.")]),
        "ledger.xlsx": make_xlsx(
            {"Income": [["Legacy Excel cell"], [1997]], "Costs": [["Second sheet"], [42]]}
        ),
        "slides.pptx": make_pptx(["Legacy slide one", "Legacy slide two"]),
    }
    conversions = []
    for (name, data), target in zip(sources.items(), ("doc", "xls", "ppt"), strict=True):
        (folder / name).write_bytes(data)
        command = [
            "soffice",
            "--headless",
            f"-env:UserInstallation={(folder / f'profile-{target}').as_uri()}",
            "--convert-to",
            target,
            "--outdir",
            str(folder / "out"),
            str(folder / name),
        ]
        conversions.append(
            subprocess.Popen(
                command,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                env=private_temp_environment(folder / f"tmp-{target}"),
            )
        )
    for conversion in conversions:
        _, errors = conversion.communicate(timeout=600)
        assert conversion.returncode == 0, errors
    return {name: (folder / "out" / name).read_bytes() for name in LEGACY_TEXTS}


def make_docx(headings: list[tuple[str, str]], *, page_breaks: bool = False) -> bytes:
    """A DOCX with one level-1 heading and one paragraph per ``(heading, text)`` pair."""
    import docx

    document = docx.Document()
    for number, (heading, text) in enumerate(headings):
        if page_breaks and number:
            document.add_page_break()
        document.add_heading(heading, level=1)
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def make_xlsx(sheets: dict[str, list[list[object]]]) -> bytes:
    """An XLSX with one sheet per entry, each given as rows of cell values."""
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def make_pptx(titles: list[str]) -> bytes:
    """A PPTX with one title slide per title."""
    import pptx

    deck = pptx.Presentation()
    for title in titles:
        slide = deck.slides.add_slide(deck.slide_layouts[0])
        slide.shapes.title.text = title
    buffer = io.BytesIO()
    deck.save(buffer)
    return buffer.getvalue()


def make_odt(
    body_xml: str,
    *,
    extra_namespaces: str = "",
    scripts_xml: str = "",
    parts: dict[str, str] | None = None,
) -> bytes:
    """A minimal OpenDocument text whose ``<office:text>`` holds ``body_xml``.

    ``scripts_xml`` goes into ``<office:scripts>`` (document event bindings); ``parts``
    are more XML members of the package (path → text), listed in its manifest.
    """
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
        ' xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"'
        ' xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"'
        ' xmlns:script="urn:oasis:names:tc:opendocument:xmlns:script:1.0"'
        ' xmlns:dom="http://www.w3.org/2001/xml-events" xmlns:ooo="http://openoffice.org/2004/office"'
        f' xmlns:xlink="http://www.w3.org/1999/xlink" {extra_namespaces} office:version="1.2">'
        f"<office:scripts>{scripts_xml}</office:scripts>"
        f"<office:body><office:text>{body_xml}</office:text></office:body>"
        "</office:document-content>"
    )
    members = {"content.xml": content, **(parts or {})}
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
        ' manifest:version="1.2">'
        f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{ODF_TEXT}"/>'
        + "".join(
            f'<manifest:file-entry manifest:full-path="{path}" manifest:media-type="text/xml"/>'
            for path in members
        )
        + "</manifest:manifest>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), ODF_TEXT)  # first and stored, as ODF asks
        archive.writestr("META-INF/manifest.xml", manifest)
        for path, text in members.items():
            archive.writestr(path, text)
    return buffer.getvalue()


def auto_macro_odt(marker: Path) -> bytes:
    """An ODT whose Basic macro, bound to the document's load event, writes ``marker`` and
    replaces the document's text with "Macro ran" (it reads "Written by hand" otherwise)."""
    library = 'xmlns:library="http://openoffice.org/2000/library"'
    module = (
        "Sub OnLoad\n"
        "  Dim handle As Integer\n"
        "  handle = FreeFile\n"
        f'  Open "{marker}.part" For Output As #handle\n'
        '  Print #handle, "macro ran"\n'
        "  Close #handle\n"
        f'  Name "{marker}.part" As "{marker}"\n'  # the whole file appears at once
        '  ThisComponent.getText().setString("Macro ran")\n'
        "End Sub\n"
    )
    return make_odt(
        "<text:p>Written by hand</text:p>",
        scripts_xml=(
            "<office:event-listeners>"
            '<script:event-listener script:language="ooo:script" script:event-name="dom:load"'
            ' xlink:type="simple" xlink:href="vnd.sun.star.script:Standard.AutoRun.OnLoad'
            '?language=Basic&amp;location=document"/>'
            "</office:event-listeners>"
        ),
        parts={
            "Basic/script-lc.xml": (
                f'<?xml version="1.0" encoding="UTF-8"?><library:libraries {library}'
                ' xmlns:xlink="http://www.w3.org/1999/xlink">'
                '<library:library library:name="Standard" library:link="false"/>'
                "</library:libraries>"
            ),
            "Basic/Standard/script-lb.xml": (
                f'<?xml version="1.0" encoding="UTF-8"?><library:library {library}'
                ' library:name="Standard" library:readonly="false"'
                ' library:passwordprotected="false">'
                '<library:element library:name="AutoRun"/></library:library>'
            ),
            "Basic/Standard/AutoRun.xml": (
                '<?xml version="1.0" encoding="UTF-8"?><script:module'
                ' xmlns:script="http://openoffice.org/2000/script" script:name="AutoRun"'
                f' script:language="StarBasic">{module}</script:module>'
            ),
        },
    )


def odt_paragraphs(*paragraphs: str) -> bytes:
    return make_odt("".join(f"<text:p>{paragraph}</text:p>" for paragraph in paragraphs))


def open_with_every_macro_allowed(document: Path, profile: Path, marker: Path) -> bool:
    """Whether ``marker`` appears while a headless LibreOffice opens ``document`` as a user
    who allowed every macro (the lowest macro security) would: the control that shows a
    document's macro does run when nothing stops it. LibreOffice is ended either way."""
    settings = profile / "user" / "registrymodifications.xcu"
    settings.parent.mkdir(parents=True)
    settings.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<oor:items xmlns:oor="http://openoffice.org/2001/registry">'
        '<item oor:path="/org.openoffice.Office.Common/Security/Scripting">'
        '<prop oor:name="MacroSecurityLevel" oor:op="fuse"><value>0</value></prop></item>'
        "</oor:items>",
        encoding="utf-8",
    )
    sockets = socket_files()
    office = subprocess.Popen(
        ["soffice", "--headless", f"-env:UserInstallation={profile.as_uri()}", str(document)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=private_temp_environment(profile / "tmp"),
        start_new_session=True,  # its own process group, ended below with every child
    )
    deadline = time.monotonic() + _CONTROL_SECONDS
    try:
        while not marker.exists() and office.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        return marker.exists()
    finally:
        os.killpg(office.pid, signal.SIGKILL)
        office.wait()
        for path in socket_files() - sockets:  # what the killed LibreOffice could not remove
            path.unlink(missing_ok=True)


def socket_files() -> set[Path]:
    """The socket files LibreOffice makes in /tmp (its UNO pipe, its profile's own), which it
    removes only when it exits by itself."""
    return set(Path("/tmp").glob("OSL_PIPE_*"))


def make_rtf(*paragraphs: str) -> bytes:
    body = "".join(f"{paragraph}\\par " for paragraph in paragraphs)
    return ("{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 Helvetica;}}\\f0 " + body + "}").encode("ascii")


def encrypt_docx(data: bytes, password: str) -> bytes:
    """``data`` encrypted as Word does when a document is given an opening password."""
    from msoffcrypto.format.ooxml import OOXMLFile

    encrypted = io.BytesIO()
    OOXMLFile(io.BytesIO(data)).encrypt(password, encrypted)
    return encrypted.getvalue()


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def page_texts(pdf: Path | bytes) -> list[str]:
    """Each page's text, as pdftotext reads it, whitespace collapsed."""
    data = pdf if isinstance(pdf, bytes) else pdf.read_bytes()
    with pikepdf.open(io.BytesIO(data)) as document:
        count = len(document.pages)
    texts = []
    for page in range(1, count + 1):
        done = subprocess.run(
            ["pdftotext", "-f", str(page), "-l", str(page), "-", "-"],
            input=data,
            capture_output=True,
            check=True,
        )
        texts.append(" ".join(done.stdout.decode("utf-8").split()))
    return texts


def outline_titles(pdf: Path | bytes) -> list[str]:
    """The top-level bookmark titles of ``pdf``."""
    source = io.BytesIO(pdf) if isinstance(pdf, bytes) else pdf
    with pikepdf.open(source) as document, document.open_outline() as outline:
        return [item.title for item in outline.root]


def soffice_pids(ancestor: int) -> set[int]:
    """The ``soffice.bin`` processes descending from process ``ancestor`` (read from /proc)."""
    parents: dict[int, int] = {}
    names: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # the process ended meanwhile
            continue
        name_end = stat.rindex(")")
        names[int(entry.name)] = stat[stat.index("(") + 1 : name_end]
        parents[int(entry.name)] = int(stat[name_end + 2 :].split()[1])
    found = set()
    for pid, name in names.items():
        if name != "soffice.bin":
            continue
        parent = parents.get(pid, 0)
        while parent not in (0, 1, ancestor):
            parent = parents.get(parent, 0)
        if parent == ancestor:
            found.add(pid)
    return found


def process_ended(pid: int) -> bool:
    """Whether process ``pid`` has ended: gone, or a zombie. A killed LibreOffice is its
    driver's child; the driver is killed too, and the orphan is left for init to reap,
    which some inits (this VM's among them) do a moment later."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rindex(")") + 2] in "ZX"


def external_image_docx(url: str) -> bytes:
    """A DOCX showing an image that is not in the file but linked from ``url``."""
    data = make_docx([("Linked picture", "The picture below lives elsewhere.")])
    source = zipfile.ZipFile(io.BytesIO(data))
    relationship = (
        '<Relationship Id="rIdRemote" Type="http://schemas.openxmlformats.org/officeDocument/'
        f'2006/relationships/image" Target="{url}" TargetMode="External"/>'
    )
    drawing = (
        '<w:p><w:r><w:drawing><wp:inline xmlns:wp="http://schemas.openxmlformats.org/'
        'drawingml/2006/wordprocessingDrawing"><wp:extent cx="914400" cy="914400"/>'
        '<wp:docPr id="7" name="Remote"/><a:graphic xmlns:a="http://schemas.openxmlformats.org/'
        'drawingml/2006/main"><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/'
        '2006/picture"><pic:pic xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/'
        'picture"><pic:nvPicPr><pic:cNvPr id="7" name="Remote"/><pic:cNvPicPr/></pic:nvPicPr>'
        '<pic:blipFill><a:blip xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships" r:link="rIdRemote"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill>'
        '<pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="914400" cy="914400"/></a:xfrm>'
        '<a:prstGeom prst="rect"/></pic:spPr></pic:pic></a:graphicData></a:graphic>'
        "</wp:inline></w:drawing></w:r></w:p>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            part = source.read(info.filename)
            if info.filename == "word/_rels/document.xml.rels":
                part = part.replace(
                    b"</Relationships>", relationship.encode() + b"</Relationships>"
                )
            elif info.filename == "word/document.xml":
                part = part.replace(b"<w:sectPr", drawing.encode() + b"<w:sectPr", 1)
            archive.writestr(info, part)
    return buffer.getvalue()


def linked_content_odt(base_url: str) -> bytes:
    """An ODT with an image and a section whose contents are links to ``base_url``."""
    return make_odt(
        "<text:p>Linked content below</text:p>"
        '<text:p><draw:frame draw:name="remote" text:anchor-type="as-char" svg:width="2cm"'
        f' svg:height="2cm"><draw:image xlink:href="{base_url}/odt-image.png" xlink:type="simple"'
        ' xlink:show="embed" xlink:actuate="onLoad"/></draw:frame></text:p>'
        '<text:section text:name="remote-section"><text:section-source'
        f' xlink:href="{base_url}/odt-section.odt" xlink:type="simple"/></text:section>'
    )
