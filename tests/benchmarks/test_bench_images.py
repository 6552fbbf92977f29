"""Image→PDF speed and memory: pdfbinder beside img2pdf (both engines) and Pillow's PDF writer.

Every peer converts the same generated set in the same run; each benchmark
group is one input set. Smoke mode uses tiny sets and checks each peer's
page count (and pdfbinder's output with qpdf); full mode
(``PDFBINDER_BENCH=full --benchmark-enable``) prints the ratio table and
asserts the speed targets of the README's benchmark table against img2pdf measured
in the same run.
"""

from __future__ import annotations

import contextlib
import io
import random
from collections.abc import Callable, Iterator
from pathlib import Path

import img2pdf
import pikepdf
import pytest
from PIL import Image, ImageDraw
from pytest_benchmark.fixture import BenchmarkFixture

from pdfbinder.engine import images_to_pdf
from tests.support.bench import FULL, RatioTable, peak_rss_mb
from tests.support.qpdf import qpdf_check

TABLE = RatioTable("images")


@pytest.fixture(scope="module", autouse=True)
def _publish_table() -> Iterator[None]:
    yield
    TABLE.publish()


def _photo(size: tuple[int, int], seed: int) -> Image.Image:
    """Photo-like content: smooth gradients plus sensor-like noise (JPEG-realistic sizes)."""
    gradient = Image.linear_gradient("L").resize(size)
    noise = Image.effect_noise(size, 12 + seed % 7)
    return Image.merge("RGB", [gradient, noise, gradient.rotate(180)])


def _screenshot(size: tuple[int, int], seed: int) -> Image.Image:
    """Screenshot-like content: flat panels, lines of 'text', a few colours."""
    rng = random.Random(seed)
    image = Image.new("RGB", size, (246, 246, 246))
    draw = ImageDraw.Draw(image)
    width, height = size
    draw.rectangle((0, 0, width, 40), fill=(40, 60, 90))
    for y in range(60, height - 20, 22):
        x = 20 + rng.randrange(0, 60)
        while x < width - 120:
            word = rng.randrange(20, 110)
            draw.rectangle((x, y, x + word, y + 12), fill=(30, 30, 30))
            x += word + 8
    return image


def _make_set(folder: Path, name: str) -> list[Path]:
    """Generate one benchmark input set (cached per session folder)."""
    count, size = {
        "jpeg-12mp": (20, (4000, 3000)) if FULL else (3, (160, 120)),
        "png-1080p-screenshot": (20, (1920, 1080)) if FULL else (3, (192, 108)),
        "png-rgba": (10, (1920, 1080)) if FULL else (2, (96, 54)),
        "png-16bit-gray": (10, (1920, 1080)) if FULL else (2, (96, 54)),
        "tiff-lzw-multipage": (5, (1920, 1080)) if FULL else (2, (96, 54)),
    }[name]
    target = folder / name
    if target.exists():
        return sorted(target.iterdir())
    target.mkdir(parents=True)
    paths = []
    for number in range(count):
        if name == "jpeg-12mp":
            path = target / f"{number:03d}.jpg"
            _photo(size, number).save(path, quality=88)
        elif name == "png-1080p-screenshot":
            path = target / f"{number:03d}.png"
            _screenshot(size, number).save(path)
        elif name == "png-rgba":
            path = target / f"{number:03d}.png"
            image = _screenshot(size, number).convert("RGBA")
            image.putalpha(Image.linear_gradient("L").resize(size))
            image.save(path)
        elif name == "png-16bit-gray":
            path = target / f"{number:03d}.png"
            _photo(size, number).convert("L").convert("I").point(lambda v: v * 257).convert(
                "I;16"
            ).save(path)
        else:
            path = target / f"{number:03d}.tif"
            pages = [_screenshot(size, number * 4 + page) for page in range(4)]
            pages[0].save(path, save_all=True, append_images=pages[1:], compression="tiff_lzw")
        paths.append(path)
    return paths


@pytest.fixture(scope="session")
def image_sets(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], list[Path]]:
    folder = tmp_path_factory.mktemp("image-sets")
    return lambda name: _make_set(folder, name)


# img2pdf.convert returns the PDF as bytes in memory, so every peer is timed the same way:
# the whole PDF built in memory and returned ("pdfbinder" writes to a BytesIO). The
# "pdfbinder-path" line adds what a CLI user pays on top: a real file, written to a
# temporary name and renamed into place (returns None: the test reads the file after).
def _pdfbinder(paths: list[Path], output: Path) -> bytes:
    buffer = io.BytesIO()
    images_to_pdf(paths, buffer)
    return buffer.getvalue()


def _pdfbinder_path(paths: list[Path], output: Path) -> None:
    images_to_pdf(paths, output)


def _img2pdf(engine: img2pdf.Engine) -> Callable[[list[Path], Path], bytes]:
    def run(paths: list[Path], output: Path) -> bytes:
        result = img2pdf.convert([str(p) for p in paths], engine=engine)
        assert isinstance(result, bytes)
        return result

    return run


# Not like-for-like on the lossless sets: Pillow's PDF writer re-encodes RGB pages
# (the TIFF set's) as JPEG, losing detail, which is why it wins there.
def _pillow(paths: list[Path], output: Path) -> bytes:
    with contextlib.ExitStack() as stack:  # closed when Pillow refuses a set, too
        images = [stack.enter_context(Image.open(p)) for p in paths]
        buffer = io.BytesIO()
        images[0].save(buffer, "PDF", save_all=True, append_images=images[1:])
    return buffer.getvalue()


# pdfbinder last, so each set's peers are timed before its ratios are checked.
PEERS: dict[str, Callable[[list[Path], Path], bytes | None]] = {
    "img2pdf-internal": _img2pdf(img2pdf.Engine.internal),
    "img2pdf-pikepdf": _img2pdf(img2pdf.Engine.pikepdf),
    "pillow": _pillow,
    "pdfbinder-path": _pdfbinder_path,
    "pdfbinder": _pdfbinder,
}
SETS = ["jpeg-12mp", "png-1080p-screenshot", "png-rgba", "png-16bit-gray", "tiff-lzw-multipage"]
# Pillow's PDF writer has no 16-bit mode: it refuses, which the test asserts.
REFUSED = {("pillow", "png-16bit-gray")}
# The targets: img2pdf's (internal engine) time / pdfbinder's, both in memory.
TARGET_SPEEDUPS = {
    "jpeg-12mp": 1.0,
    "png-1080p-screenshot": 10.0,
    "png-16bit-gray": 10.0,
    "png-rgba": 2.0,
    # 20 LZW TIFF pages in at most 0.6× img2pdf's time.
    "tiff-lzw-multipage": 1 / 0.6,
}


def _runs(refused: bool) -> list[pytest.ParameterSet]:
    """(set, peer) pairs, set by set, with or without the peers that refuse the set."""
    return [
        pytest.param(set_name, peer, id=f"{set_name}-{peer}")
        for set_name in SETS
        for peer in PEERS
        if ((peer, set_name) in REFUSED) == refused
    ]


@pytest.mark.parametrize(("set_name", "peer"), _runs(refused=True))
def test_refusing_peers_refuse_cleanly(
    image_sets: Callable[[str], list[Path]], set_name: str, peer: str, tmp_path: Path
) -> None:
    """A peer that cannot convert a set says so (and the table says it refuses)."""
    with pytest.raises((OSError, ValueError)):
        PEERS[peer](image_sets(set_name), tmp_path / "out.pdf")
    TABLE.note(set_name, peer, "refuses")


@pytest.mark.parametrize(("set_name", "peer"), _runs(refused=False))
def test_image_sets(
    benchmark: BenchmarkFixture,
    image_sets: Callable[[str], list[Path]],
    set_name: str,
    peer: str,
    tmp_path: Path,
) -> None:
    """Each peer converts the set; pages checked, and in full mode the target ratio too."""
    paths = image_sets(set_name)
    convert = PEERS[peer]
    output = tmp_path / "out.pdf"
    benchmark.group = set_name
    result = benchmark(convert, paths, output)
    TABLE.record(set_name, peer, benchmark)
    if result is None:
        result = output.read_bytes()
    expected_pages = 4 * len(paths) if set_name.startswith("tiff") else len(paths)
    with pikepdf.open(io.BytesIO(result)) as pdf:
        assert len(pdf.pages) == expected_pages
    if peer.startswith("pdfbinder"):
        output.write_bytes(result)
        qpdf_check(output)
    if peer == "pdfbinder" and FULL and not benchmark.disabled and set_name in TARGET_SPEEDUPS:
        speedup = TABLE.ratio(set_name, "img2pdf-internal", "pdfbinder")
        assert speedup >= TARGET_SPEEDUPS[set_name], (
            f"{set_name}: pdfbinder is {speedup:.2f}× img2pdf's speed, "
            f"target ≥ {TARGET_SPEEDUPS[set_name]}×"
        )


_MEMORY_WORKER = """
import sys
from pathlib import Path
{convert}
paths = [Path(p) for p in Path(sys.argv[1]).read_text().splitlines()]
run(paths, Path(sys.argv[2]))
"""
_MEMORY_PEERS = {
    "pdfbinder": "from pdfbinder.engine import images_to_pdf as run",
    "img2pdf-internal": (
        "import img2pdf\n"
        "def run(paths, out):\n"
        "    with open(out, 'wb') as f:\n"
        "        img2pdf.convert([str(p) for p in paths], outputstream=f,"
        " engine=img2pdf.Engine.internal)\n"
    ),
}


MEMORY_INPUTS = 200
GROWTH_SLACK_MB = 16.0
"""Peak memory may grow this much, plus a few times the largest input, from converting one
input to converting all of them: room for the page list and allocator noise, far below
what holding every input at once adds (the count times the input size)."""


@pytest.fixture(scope="module")
def memory_inputs(
    image_sets: Callable[[str], list[Path]], tmp_path_factory: pytest.TempPathFactory
) -> list[Path]:
    """The distinct JPEGs of the memory benchmark: the 12-MP set in full mode; in smoke
    mode one 1600 x 1200 photo (~0.5 MB), big enough that holding 200 at once shows."""
    if FULL:
        return image_sets("jpeg-12mp")
    path = tmp_path_factory.mktemp("memory") / "photo.jpg"
    _photo((1600, 1200), 0).save(path, quality=88)
    return [path]


@pytest.mark.parametrize("peer", list(_MEMORY_PEERS))
def test_peak_memory_for_200_jpegs(memory_inputs: list[Path], peer: str, tmp_path: Path) -> None:
    """200 JPEGs (the distinct ones repeated) into one PDF: pdfbinder's peak memory grows by
    no more than a few inputs' worth over converting one of them, and stays under 300 MB."""
    code = _MEMORY_WORKER.format(convert=_MEMORY_PEERS[peer])

    def peak_for(count: int) -> float:
        listing = tmp_path / f"inputs-{count}.txt"
        listing.write_text(
            "\n".join(str(memory_inputs[i % len(memory_inputs)]) for i in range(count))
        )
        output = tmp_path / f"memory-{count}.pdf"
        megabytes = peak_rss_mb(code, str(listing), str(output))
        with pikepdf.open(output) as pdf:
            assert len(pdf.pages) == count
        output.unlink()
        return megabytes

    one = peak_for(1)
    megabytes = peak_for(MEMORY_INPUTS)
    largest = max(path.stat().st_size for path in memory_inputs) / 2**20
    held = MEMORY_INPUTS * sum(path.stat().st_size for path in memory_inputs) / len(memory_inputs)
    TABLE.note("peak RSS, 200 JPEGs", peer, f"{megabytes:.0f} MB (+{megabytes - one:.0f} over one)")
    if peer == "pdfbinder":
        allowed = GROWTH_SLACK_MB + 4 * largest
        assert megabytes - one < allowed, (
            f"peak RSS grew {megabytes - one:.0f} MB from 1 to {MEMORY_INPUTS} inputs "
            f"(allowed {allowed:.0f} MB; all inputs together are {held / 2**20:.0f} MB)"
        )
        assert megabytes < 300
