"""SASLprep (RFC 4013), the normalisation PDF 2.0 asks of AES-256 (R6) passwords.

A writer that follows the standard encrypts with the password after SASLprep;
a user may type the same password in another Unicode form (an "Å" as one
code point or as "A" plus a combining ring, a ligature, a no-break space).
Built on the standard library's ``stringprep`` tables (RFC 3454), with the
password treated as a query: unassigned code points are allowed.
"""

from __future__ import annotations

import stringprep
import unicodedata

_PROHIBITED = (
    stringprep.in_table_c12,  # non-ASCII spaces (mapped to a space first, so none remain)
    stringprep.in_table_c21_c22,  # control characters
    stringprep.in_table_c3,  # private use
    stringprep.in_table_c4,  # non-character code points
    stringprep.in_table_c5,  # surrogates
    stringprep.in_table_c6,  # inappropriate for plain text
    stringprep.in_table_c7,  # inappropriate for canonical representation
    stringprep.in_table_c8,  # change display properties or deprecated
    stringprep.in_table_c9,  # tagging characters
)


def saslprep(text: str) -> str:
    """``text`` prepared by SASLprep; ValueError if it holds a prohibited character."""
    mapped = "".join(
        " " if stringprep.in_table_c12(char) else char
        for char in text
        if not stringprep.in_table_b1(char)
    )
    prepared = unicodedata.normalize("NFKC", mapped)
    for char in prepared:
        if any(prohibited(char) for prohibited in _PROHIBITED):
            raise ValueError(f"SASLprep prohibits U+{ord(char):04X}")
    _check_bidi(prepared)
    return prepared


def _check_bidi(text: str) -> None:
    """RFC 3454 section 6: right-to-left text must be wholly so, at both ends."""
    right_to_left = [stringprep.in_table_d1(char) for char in text]
    if not any(right_to_left):
        return
    if any(stringprep.in_table_d2(char) for char in text):
        raise ValueError("SASLprep: mixes left-to-right and right-to-left characters")
    if not (right_to_left[0] and right_to_left[-1]):
        raise ValueError("SASLprep: right-to-left text must start and end right-to-left")
