"""The drop-in for test suites: swap the PDF.co cloud for a local pdfbinder server.

Two ways in, one mechanism:

* pytest: :mod:`.plugin` (the ``pytest11`` entry point) gives the ``pdfbinder_server`` and
  ``pdfco_mock`` fixtures.
* anything else (unittest, scripts): ``with mock_pdfco() as server: ...`` or ``@mock_pdfco()``.

Also here: the test server with fault injection (:mod:`.testserver`, :mod:`.faults`), request
interception for requests/httpx (:mod:`.intercept`), a server on a background thread
(:mod:`.background`) and the local CA behind ``serve --https`` (:mod:`.tls`).
"""

from .mock import PdfcoMock, mock_pdfco

__all__ = ["PdfcoMock", "mock_pdfco"]
