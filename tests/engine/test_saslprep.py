"""SASLprep as RFC 4013 section 3 gives its examples."""

from __future__ import annotations

import pytest

from pdfbinder.engine.merge.saslprep import saslprep


@pytest.mark.parametrize(
    ("given", "prepared"),
    [
        ("I\u00adX", "IX"),  # soft hyphen mapped to nothing
        ("user", "user"),
        ("USER", "USER"),  # case is kept
        ("\u00aa", "a"),  # NFKC
        ("\u2168", "IX"),  # NFKC
        ("a\u00a0b", "a b"),  # non-ASCII space mapped to a space
        ("A\u030a", "\u00c5"),  # composed
    ],
)
def test_rfc_4013_examples_and_mappings(given: str, prepared: str) -> None:
    assert saslprep(given) == prepared


@pytest.mark.parametrize("given", ["\u0007", "\u0627\u0031", "a\ue000"])
def test_prohibited_output_and_bidi_violations_are_refused(given: str) -> None:
    with pytest.raises(ValueError):
        saslprep(given)
