"""What Pillow and pikepdf say about an input ends up in the report, never on stderr.

Each test makes the input that makes the library speak, and checks that no
Python warning or log record escapes the engine call (with every warning an
error, as the test suite runs, an escaping warning would also be raised
inside the library).
"""

from __future__ import annotations

import io
import logging
import threading
import warnings
from pathlib import Path

import pytest

from pdfbinder.engine import UnsupportedInput, images_to_pdf, merge_pdfs
from pdfbinder.engine.library_warnings import capture_library_warnings
from tests.support.corpus import CURATED
from tests.support.images import invalid_apng, truncated_tiff
from tests.support.merge_samples import text_pdf


def test_warnings_in_a_capture_are_collected_each_time_and_never_raised() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with capture_library_warnings() as caught:
            for _ in range(2):
                warnings.warn("Truncated File Read", UserWarning, stacklevel=1)
            logging.getLogger("pikepdf._core").error("Pages tree includes non-dictionary object")
    assert caught == ["Truncated File Read"] * 2 + ["Pages tree includes non-dictionary object"]


def test_other_threads_warnings_pass_by_a_capture() -> None:
    outside: list[str] = []
    release, warned = threading.Event(), threading.Event()

    def other_thread() -> None:
        release.wait(10)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            warnings.warn("not the engine's", UserWarning, stacklevel=1)
        outside.extend(str(item.message) for item in seen)
        warned.set()

    thread = threading.Thread(target=other_thread)
    thread.start()
    with capture_library_warnings() as caught:
        release.set()
        assert warned.wait(10)
        warnings.warn("the engine's", UserWarning, stacklevel=1)
    thread.join()
    assert caught == ["the engine's"]
    assert outside == ["not the engine's"]


def test_invalid_apng_converts_with_pillows_word_in_the_report(tmp_path: Path) -> None:
    path = tmp_path / "still.png"
    path.write_bytes(invalid_apng())
    with warnings.catch_warnings(record=True) as escaped:
        warnings.simplefilter("always")
        report = images_to_pdf([path], tmp_path / "out.pdf")
    assert report.page_count == 1
    assert report.warnings == [
        "input 1 (still.png): Invalid APNG, will use default PNG image if possible"
    ]
    assert escaped == []


def test_truncated_tiff_is_one_error_and_nothing_else(tmp_path: Path) -> None:
    path = tmp_path / "cut.tif"
    path.write_bytes(truncated_tiff())
    with warnings.catch_warnings(record=True) as escaped:
        warnings.simplefilter("always")
        with pytest.raises(UnsupportedInput) as refused:
            images_to_pdf([path], tmp_path / "out.pdf")
    assert str(refused.value).startswith("input 1 (cut.tif): ")
    assert escaped == []
    assert not (tmp_path / "out.pdf").exists()


def test_a_password_an_input_did_not_need_is_a_report_warning(tmp_path: Path) -> None:
    plain = text_pdf(tmp_path / "plain.pdf", ["one"])
    with warnings.catch_warnings(record=True) as escaped:
        warnings.simplefilter("always")
        report = merge_pdfs([plain], io.BytesIO(), password="secret")
    assert report.warnings == [
        "input 1 (plain.pdf): is not encrypted; the password given was not needed"
    ]
    assert escaped == []


def test_qpdf_log_lines_about_an_input_are_report_warnings(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A fuzzed file from qpdf's tests: reconstructing it, qpdf logs page-tree errors.
    damaged = CURATED.root / "pdfs" / "qpdf" / "bad-content.pdf"
    with caplog.at_level(logging.DEBUG):
        report = merge_pdfs([damaged], io.BytesIO())
    assert caplog.records == []
    assert (
        "input 1 (bad-content.pdf): Pages tree includes non-dictionary object; ignoring (×5)"
        in report.warnings
    )
