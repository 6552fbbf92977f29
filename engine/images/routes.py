"""How an image frame goes into the PDF: the one place that decides it.

The converter encodes each frame the way :func:`choose_route` says, and
``inspect`` reports the same answer without encoding anything, so what a
preflight promises is what a conversion does. A route either copies the
file's compressed data as it is, or re-encodes the samples losslessly
(Flate), and says why.
"""

from __future__ import annotations

from dataclasses import dataclass

JPEG_COPY = "jpeg-passthrough"
JPX_COPY = "jpx-passthrough"
G4_COPY = "ccitt-g4-passthrough"
PNG_IDAT_COPY = "png-idat-copy"
PNG_ALPHA_SPLIT = "png-alpha-split"
PNG_DECODED = "png-decoded-flate"
DECODED = "flate"


@dataclass(frozen=True)
class Route:
    """How a frame is embedded, and why.

    ``method`` names it as conversion reports do; ``copied``: the file's
    compressed data goes in as it is; ``decoded``: the samples are decoded
    first (else, when not copied, they are recompressed still filtered).
    """

    method: str
    copied: bool
    decoded: bool
    reason: str


def choose_route(
    image_format: str,
    *,
    dct_readable: bool = True,
    animated: bool = False,
    interlaced: bool = False,
    alpha_channel: bool = False,
    palette_transparency: bool = False,
    g4_strip: bool = False,
) -> Route:
    """The route for one frame of an ``image_format`` image with these header facts.

    ``dct_readable``: a JPEG is 8-bit Huffman-coded (baseline or progressive).
    ``g4_strip``: a TIFF is one MSB-first CCITT Group 4 strip.
    """
    if image_format == "JPEG" and dct_readable:
        return Route(JPEG_COPY, True, False, "JPEG data copied unchanged (/DCTDecode)")
    if image_format == "JPEG 2000":
        return Route(JPX_COPY, True, False, "JPEG 2000 codestream copied unchanged (/JPXDecode)")
    if image_format == "PNG" and not animated:
        if interlaced and alpha_channel:
            why = "interlaced PNG: rows decoded into order, alpha split off into a soft mask"
            return Route(PNG_ALPHA_SPLIT, False, True, f"{why}, stored with Flate")
        if interlaced:
            why = "interlaced PNG: rows decoded into order"
            return Route(PNG_DECODED, False, True, f"{why}, stored with Flate")
        if palette_transparency:
            why = "palette with transparency: indices decoded to build the soft mask"
            return Route(PNG_ALPHA_SPLIT, False, True, f"{why}, stored with Flate")
        if alpha_channel:
            why = "alpha channel split off into a soft mask; colour and alpha rows recompressed"
            return Route(PNG_ALPHA_SPLIT, False, False, f"{why}, still PNG-filtered, not decoded")
        why = "PNG image data copied unchanged (/FlateDecode, PNG predictor)"
        return Route(PNG_IDAT_COPY, True, False, why)
    if g4_strip:
        why = "CCITT Group 4 strip copied unchanged (/CCITTFaxDecode)"
        return Route(G4_COPY, True, False, why)
    if image_format == "JPEG":
        why = "arithmetic-coded or 12-bit JPEG, which not every PDF reader decodes"
    elif image_format == "PNG":
        why = "animated PNG, one page per frame"
    else:
        why = f"{image_format} data has no PDF filter that reads it as it is"
    return Route(DECODED, False, True, f"{why}: decoded, stored with Flate, every sample kept")
