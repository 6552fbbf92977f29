"""Every corpus PDF is merged, or refused by name, as its MANIFEST.tsv row expects.

The curated subset in tests/data always runs; the full corpus when PDFBINDER_CORPUS names it.

Each corpus file is merged with a small generated PDF after it; the output
must open with the sum of the page counts. A SIGALRM guard turns a hang into
a test failure instead of a stuck run (qpdf's test files include pathological
ones).
"""

from __future__ import annotations

import io
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pikepdf
import pytest

from pdfbinder.engine import EngineError, PasswordRequired, merge_pdfs
from tests.support.corpus import Corpus, each_row
from tests.support.merge_samples import text_pdf

PER_FILE_SECONDS = 20


@contextmanager
def _deadline(seconds: int) -> Iterator[None]:
    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="module")
def tail_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return text_pdf(tmp_path_factory.mktemp("corpus") / "tail.pdf", ["appended page"])


def _pages_in(path: Path) -> int | None:
    """The page count the reference library sees, or None when it cannot open the file."""
    try:
        with pikepdf.open(path) as pdf:
            return len(pdf.pages)
    except pikepdf.PdfError:
        return None


@pytest.mark.parametrize(("corpus", "row"), each_row("pdfs"))
def test_corpus_pdf(corpus: Corpus, row: dict[str, str], tail_pdf: Path) -> None:
    path = corpus.path(row)
    expected = row["expected"]
    sink = io.BytesIO()
    outcome: EngineError | None = None
    with _deadline(PER_FILE_SECONDS):
        try:
            report = merge_pdfs([path, tail_pdf], sink)
        except EngineError as error:
            outcome = error
    if expected == "needs-password":
        assert isinstance(outcome, PasswordRequired), outcome
        assert outcome.message.startswith(f"input 1 ({path.name}): ")
        return
    if outcome is not None:
        assert expected == "clear-error", f"{expected} file refused: {outcome.message}"
        assert outcome.message.startswith(f"input 1 ({path.name}): ")
        assert "\n" not in outcome.message
        return
    with pikepdf.open(io.BytesIO(sink.getvalue())) as merged:
        assert len(merged.pages) == report.page_count
        assert b"(appended page)" in merged.pages[-1].obj.Contents.read_bytes()
    if expected == "ok":
        assert report.page_count == (_pages_in(path) or 0) + 1
