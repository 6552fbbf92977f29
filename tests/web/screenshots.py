"""The README's screenshots of the web page, taken by the same headless Chromium as the tests.

``python -m tests.web.screenshots [FOLDER]`` starts ``pdfbinder serve``, drops a
few scans and a PDF on the page, merges them and saves ``desktop.png`` and
``phone.png`` (default folder: ``docs/screenshots``), reduced to a small palette.
"""

from __future__ import annotations

import io
import sys
import tempfile
from pathlib import Path

import pikepdf
from PIL import Image, ImageDraw

from tests.support.compat import ServeProcess
from tests.support.web import DESKTOP, PHONE, Browser

REPO = Path(__file__).resolve().parents[2]
DEFAULT_FOLDER = REPO / "docs" / "screenshots"


def scan(seed: int) -> bytes:
    """A JPEG that looks like a scanned page of text (grey lines on off-white)."""
    page = Image.new("RGB", (600, 820), (250, 249, 245))
    draw = ImageDraw.Draw(page)
    draw.rectangle((60, 60, 330, 84), fill=(60, 60, 70))
    for line in range(22):
        width = 420 + ((seed * 37 + line * 53) % 60)
        top = 130 + line * 28
        draw.rectangle((60, top, 60 + width, top + 9), fill=(150, 150, 160))
    buffer = io.BytesIO()
    page.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def report_pdf(pages: int) -> bytes:
    """A PDF whose pages carry a title bar and lines of 'text'."""
    pdf = pikepdf.new()
    for number in range(pages):
        pdf.add_blank_page(page_size=(595, 842))
        bars = ["0.12 0.31 0.47 rg 60 740 300 24 re f", "0.6 0.6 0.65 rg"]
        bars += [
            f"60 {700 - line * 22} {440 - (line * 31 + number * 7) % 90} 8 re f"
            for line in range(26)
        ]
        pdf.pages[number].Contents = pdf.make_stream("\n".join(bars).encode())
    buffer = io.BytesIO()
    pdf.save(buffer)
    return buffer.getvalue()


def small_png(path: Path) -> None:
    """Re-save a screenshot with an adaptive 128-colour palette (a flat UI loses nothing)."""
    with Image.open(path) as shot:
        reduced = shot.convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT)
    reduced.save(path, optimize=True)


def take_screenshots(browser: Browser, server_url: str, folder: Path, inputs: Path) -> list[Path]:
    """Fill the page as a person would, run a merge, and save both widths."""
    files = {
        "contract.pdf": report_pdf(4),
        "scan 2.jpg": scan(2),
        "scan 10.jpg": scan(10),
        "scan 1.jpg": scan(1),
    }
    for name, data in files.items():
        (inputs / name).write_bytes(data)
    folder.mkdir(parents=True, exist_ok=True)
    saved = []
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        browser.open(server_url, size=size)
        browser.drop([inputs / name for name in files])
        browser.wait_uploaded(len(files))
        browser.driver.find_element("id", "sort-name").click()
        browser.driver.find_element("id", "output-name").clear()
        browser.driver.find_element("id", "output-name").send_keys("contract-with-scans.pdf")
        browser.driver.find_element("id", "bookmarks-nest").click()
        browser.driver.find_element("id", "run").click()
        browser.wait_result()
        browser.driver.execute_script("window.scrollTo(0, 0); document.activeElement.blur();")
        target = folder / f"{label}.png"
        browser.screenshot(target)
        small_png(target)
        saved.append(target)
    return saved


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_FOLDER
    with tempfile.TemporaryDirectory() as work:
        root = Path(work)
        (root / "in").mkdir()
        (root / "downloads").mkdir()
        browser = Browser(root / "downloads")
        try:
            with ServeProcess(root / "data") as server:
                for path in take_screenshots(browser, server.url, folder, root / "in"):
                    print(path)
        finally:
            browser.quit()


if __name__ == "__main__":
    main()
