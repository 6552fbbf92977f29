"""User-controlled data encryption: whole files through AES in CBC mode, and base64 output.

The vendor's ``profiles`` keys ``DataEncryption…`` (the output) and
``DataDecryption…`` (every input) name an algorithm (``AES128``, ``AES192``,
``AES256``), a key and an initialization vector, both given as text: the
key's characters are its bytes (16, 24 or 32 of them), the IV's are 16. Data
is padded with PKCS #7, the padding of the .NET and Java AES classes the
vendor's own samples use, and of ``openssl enc``. Files are streamed through
the cipher in chunks, so a large input or output never sits in memory twice.
The cipher itself is the ``cryptography`` package's.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import BinaryIO

ALGORITHMS: dict[str, int] = {"AES128": 16, "AES192": 24, "AES256": 32}
"""Algorithm name → key length in bytes."""
IV_BYTES = 16
_CHUNK = 1024 * 1024
_BASE64_CHUNK = 3 * 256 * 1024  # a multiple of 3: base64 of the pieces joins without padding


@dataclass(frozen=True)
class AesKey:
    """An algorithm, key and IV, already checked (see :func:`aes_key`)."""

    algorithm: str
    key: str
    iv: str

    def to_params(self) -> dict[str, str]:
        return {"algorithm": self.algorithm, "key": self.key, "iv": self.iv}

    @classmethod
    def from_params(cls, values: dict[str, str]) -> AesKey:
        return cls(values["algorithm"], values["key"], values["iv"])


class BadAesValue(ValueError):
    """One of the three values is wrong: ``part`` is ``Algorithm``, ``Key`` or ``IV``."""

    def __init__(self, part: str, reason: str) -> None:
        super().__init__(reason)
        self.part = part
        self.reason = reason


class DecryptionFailed(Exception):
    """The data is not what the key and IV encrypted (wrong length or padding)."""


def aes_key(algorithm: str, key: str, iv: str) -> AesKey:
    """Check the three values; :class:`BadAesValue` says which one is wrong and why."""
    name = algorithm.strip().upper()
    if name not in ALGORITHMS:
        raise BadAesValue("Algorithm", f"must be one of {', '.join(ALGORITHMS)}, not {algorithm!r}")
    wanted = ALGORITHMS[name]
    if len(key.encode()) != wanted:
        raise BadAesValue("Key", f"must be {wanted} characters for {name}, not {len(key.encode())}")
    if len(iv.encode()) != IV_BYTES:
        raise BadAesValue("IV", f"must be {IV_BYTES} characters, not {len(iv.encode())}")
    return AesKey(name, key, iv)


def _cipher(key: AesKey):  # type: ignore[no-untyped-def]
    # Imported here: only jobs that ask for encryption pay for loading the cipher backend.
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    return Cipher(algorithms.AES(key.key.encode()), modes.CBC(key.iv.encode()))


def encrypt_stream(source: BinaryIO, target: BinaryIO, key: AesKey) -> None:
    """Write ``source`` (read to its end) to ``target`` encrypted and padded."""
    from cryptography.hazmat.primitives import padding

    encryptor = _cipher(key).encryptor()
    padder = padding.PKCS7(128).padder()
    while chunk := source.read(_CHUNK):
        target.write(encryptor.update(padder.update(chunk)))
    target.write(encryptor.update(padder.finalize()) + encryptor.finalize())


def decrypt_stream(source: BinaryIO, target: BinaryIO, key: AesKey) -> None:
    """Write ``source`` decrypted and unpadded to ``target``; :class:`DecryptionFailed`
    when it is not a whole number of blocks or its padding is not what encryption left."""
    from cryptography.hazmat.primitives import padding

    decryptor = _cipher(key).decryptor()
    unpadder = padding.PKCS7(128).unpadder()
    total = 0
    while chunk := source.read(_CHUNK):
        total += len(chunk)
        target.write(unpadder.update(decryptor.update(chunk)))
    if total == 0 or total % IV_BYTES:
        raise DecryptionFailed(f"{total} bytes is not a whole number of AES blocks")
    try:
        target.write(unpadder.update(decryptor.finalize()) + unpadder.finalize())
    except ValueError:
        raise DecryptionFailed("the padding is wrong (another key or IV?)") from None


def base64_stream(source: BinaryIO, target: BinaryIO) -> None:
    """Write ``source`` as one line of standard base64 (with ``=`` padding) to ``target``."""
    while chunk := source.read(_BASE64_CHUNK):
        target.write(base64.b64encode(chunk))
