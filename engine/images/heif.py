"""HEIC/HEIF and AVIF: spotting them by their file-type box, and making Pillow able to read them.

Both are ISO base media files whose first box, ``ftyp``, names the brands the
file conforms to. AVIF is read by Pillow's own plugin when Pillow was built
with it; HEIC/HEIF by pillow-heif, the optional ``heif`` extra. Importing
pillow-heif costs far more than the rest of a conversion, so its opener is
registered only once a file with a HEIF signature is seen, never at start-up.
"""

from __future__ import annotations

import functools
import struct
from typing import Literal

from ..errors import UnsupportedInput

HeifKind = Literal["heif", "avif"]

_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_HEVC_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs"})
# Generic image/sequence brands: the compatible brands say which codec is inside.
_GENERIC_BRANDS = frozenset({b"mif1", b"msf1", b"miaf"})
_MAX_FTYP = 4096

INSTALL_HINT = "pip install 'pdfbinder[heif]'"


def heif_kind(head: bytes) -> HeifKind | None:
    """``"avif"`` or ``"heif"`` when ``head`` starts with a HEIF file-type box, else ``None``."""
    if len(head) < 16 or head[4:8] != b"ftyp":
        return None
    (size,) = struct.unpack_from(">I", head)
    end = min(len(head), size if 16 <= size <= _MAX_FTYP else 16)
    major = head[8:12]
    compatible = {head[offset : offset + 4] for offset in range(16, end - 3, 4)}
    if major in _AVIF_BRANDS:
        return "avif"
    if major in _HEVC_BRANDS:
        return "heif"
    if major not in _GENERIC_BRANDS:
        return None
    if compatible & _AVIF_BRANDS and not compatible & _HEVC_BRANDS:
        return "avif"
    return "heif"


def require_decoder(kind: HeifKind) -> None:
    """Make Pillow able to open ``kind``, or refuse the input saying what to install."""
    if kind == "avif" and _pillow_reads_avif():
        return
    if not _register_pillow_heif(kind):
        if kind == "avif":
            raise UnsupportedInput(
                "not an image in a supported format: it is AVIF, and this installation's "
                "Pillow was built without AVIF (Pillow's own wheels have it from 11.2)"
            )
        raise UnsupportedInput(
            "not an image in a supported format: it is HEIC/HEIF, which needs the optional "
            f"HEIF support ({INSTALL_HINT})"
        )


@functools.cache
def _pillow_reads_avif() -> bool:
    from PIL import features

    return bool(features.check("avif"))


@functools.cache
def _register_pillow_heif(kind: HeifKind) -> bool:
    """Register pillow-heif's opener for ``kind`` once; ``False`` when it cannot read it."""
    try:
        import pillow_heif
    except ImportError:
        return False
    if kind == "heif":
        pillow_heif.register_heif_opener()
        return True
    # AVIF left pillow-heif when Pillow took it over; older releases still have it.
    register_avif = getattr(pillow_heif, "register_avif_opener", None)
    if register_avif is None:
        return False
    register_avif()
    return True
