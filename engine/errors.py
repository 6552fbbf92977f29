"""Every way the engine can refuse an input, as one exception family.

Callers (the CLI, the HTTP facade) map these to exit codes and protocol
errors; they never need to parse a message. Each error names the input it is
about — its position and its file name — because "input 3 (scan.tif) is
truncated" is actionable and "decoder error -2" is not.
"""

from __future__ import annotations

from .inputs import input_label


class EngineError(Exception):
    """Base of every error the engine raises on purpose.

    ``index`` is the 0-based position of the offending input in the call (or
    ``None`` when the error is not about one input); ``name`` is its display
    name; ``reason`` is a short human sentence without the input prefix.
    """

    def __init__(self, reason: str, *, index: int | None = None, name: str | None = None) -> None:
        self.reason = reason
        self.index = index
        self.name = name
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """One line: which input, then why."""
        if self.index is None and self.name is None:
            return self.reason
        if self.index is None:
            return f"{self.name}: {self.reason}"
        return f"{input_label(self.index, self.name)}: {self.reason}"

    def __str__(self) -> str:
        return self.message


class CorruptInput(EngineError):
    """The input claims a known format but its data is damaged or truncated."""


class UnsupportedInput(EngineError):
    """The input is not a format this operation accepts (or is empty)."""


class PasswordRequired(EngineError):
    """The input PDF is encrypted with a user password and none was given."""


class WrongPassword(EngineError):
    """The input PDF is encrypted and the given password does not open it."""


class TooLarge(EngineError):
    """The input exceeds a configured limit (pixels, pages, bytes)."""


class InvalidOption(EngineError):
    """An option value is malformed (bad page size, bad page range, ...)."""
