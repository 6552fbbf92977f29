"""The access log masks what could be secret and keeps the rest as the client wrote it."""

from __future__ import annotations

import pytest

from pdfbinder.compat.middleware import loggable_target


@pytest.mark.parametrize(
    ("query", "logged"),
    [
        ("", ""),
        ("name=a.pdf&url=https://h/a.png", "name=a.pdf&url=https://h/a.png"),
        ("url=https%3A%2F%2Fh%2Fa.png&x-api-key=k1", "url=https%3A%2F%2Fh%2Fa.png&x-api-key=***"),
        (
            "Password=p&HTTPPassword=q&httpusername=u",
            "Password=***&HTTPPassword=***&httpusername=***",
        ),
        # A name written with escapes is the name it decodes to.
        ("x%2Dapi%2Dkey=k2&pass+word=kept", "x%2Dapi%2Dkey=***&pass+word=kept"),
        ("callback=http://u:p@h/&profiles={'DataEncryptionKey':'k'}", "callback=***&profiles=***"),
        ("password=&password", "password=&password"),  # nothing there to mask
    ],
)
def test_secret_parameters_are_masked(query: str, logged: str) -> None:
    assert loggable_target("/pdf/merge", query) == ("/pdf/merge", logged)


def test_an_upload_token_in_the_path_is_masked() -> None:
    assert loggable_target("/v1/upload/tok-123", "")[0] == "/v1/upload/***"
    assert loggable_target("/upload/tok-123", "")[0] == "/upload/***"
