"""Every corpus image handled as its manifest row expects.

The curated subset in tests/data always runs; the full corpus when PDFBINDER_CORPUS names it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pikepdf
import pytest

from pdfbinder.engine import EngineError, images_to_pdf
from tests.support.corpus import Corpus, each_corpus
from tests.support.qpdf import qpdf_check

_FRAMES = re.compile(r"(\d+) frame\(s\)")


@pytest.mark.slow
@pytest.mark.parametrize("corpus", each_corpus())
def test_corpus_images_behave_as_the_manifest_expects(corpus: Corpus, tmp_path: Path) -> None:
    rows = corpus.rows("images")
    assert rows
    failures = []
    output = tmp_path / "out.pdf"
    for row in rows:
        path = corpus.path(row)
        expected = row["expected"]
        try:
            report = images_to_pdf([path], output, deterministic=True)
        except EngineError as error:
            if expected == "ok":
                failures.append(f"{row['path']}: refused: {error}")
            elif not str(error).startswith(f"input 1 ({path.name}): "):
                failures.append(f"{row['path']}: error does not name the file: {error}")
            assert not output.exists()
            continue
        if expected == "clear-error":
            failures.append(f"{row['path']}: converted, but the manifest expects an error")
            continue
        qpdf_check(output)
        with pikepdf.open(output) as pdf:
            pages = len(pdf.pages)
        frames = _FRAMES.search(row["what_it_is"])
        if frames and int(frames.group(1)) != pages:
            failures.append(f"{row['path']}: {pages} pages for {frames.group(1)} frames")
        assert report.page_count == pages
        output.unlink()
    assert not failures, "\n".join(failures)
