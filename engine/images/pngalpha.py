"""Splitting a PNG's alpha channel off without unfiltering a single row.

PNG's row filters work byte by byte, each byte predicted only from the byte
at the same place in the pixel to its left, above, or above-left. Taking
whole byte lanes out of every pixel therefore leaves rows that are still
correctly filtered — with the same filter types — for the pixels that
remain. So the inflated IDAT rows are cut into colour rows and alpha rows,
each keeping its row's filter byte, and each set is stored as a
``/FlateDecode`` stream with ``/Predictor 15``: no Paeth/average arithmetic
is undone and redone, and the encoder's own filter choices keep the output
small.

The rows are inflated, split and deflated a block (about 1 MB) at a time:
the working set stays in cache and no image-sized buffer is ever built, which
is faster than whole-image buffers (figures in the README's benchmark notes).
Inflating every row also proves the stream complete and exactly as long as
the header says.
"""

from __future__ import annotations

from zlib_ng import zlib_ng

from ..errors import CorruptInput
from .png import CHANNELS, InflateError, PngInfo, check_row_filters, split_lanes

_BLOCK_BYTES = 1 << 20


def split_alpha_deflated(info: PngInfo) -> tuple[bytes, bytes]:
    """``(colour rows, alpha rows)`` of a non-interlaced gray+alpha or RGBA PNG, deflated.

    Both are PNG-filtered rows for ``/Predictor 15``; raises :class:`CorruptInput`
    unless the IDAT stream inflates to exactly the header's rows.
    """
    stride = info.row_bytes + 1
    rows_per_block = max(1, _BLOCK_BYTES // stride)
    channels, sample_bytes = CHANNELS[info.color_type], info.bit_depth // 8
    inflater = zlib_ng.decompressobj()
    color_out, alpha_out = _RowDeflater(), _RowDeflater()
    pending: bytes = info.idat_bytes()
    done = 0
    try:
        while done < info.height:
            wanted = min(rows_per_block, info.height - done) * stride
            block = inflater.decompress(pending, wanted)
            pending = inflater.unconsumed_tail
            if len(block) != wanted:
                raise CorruptInput("PNG image data is truncated")
            check_row_filters(block, stride)
            view = memoryview(block)
            pixels = b"".join(
                [view[start + 1 : start + stride] for start in range(0, wanted, stride)]
            )
            color, alpha = split_lanes(pixels, info.width, channels, sample_bytes)
            filters = block[::stride]
            color_out.add(filters, color)
            alpha_out.add(filters, alpha)
            done += wanted // stride
        if inflater.decompress(pending, 1):
            raise CorruptInput("PNG image data is longer than its size says")
    except InflateError as error:
        raise CorruptInput(f"PNG image data is damaged ({error})") from None
    if not inflater.eof:
        raise CorruptInput("PNG image data is truncated")
    return color_out.finish(), alpha_out.finish()


class _RowDeflater:
    """Deflates rows (each led again by its filter type byte) as they arrive.

    zlib's run-length strategy suits filtered rows — mostly small values and
    runs: against levels 1–6 of the default strategy it is about as fast as
    level 1 and nearly as small as level 6 (figures in the README's benchmark
    notes). The level does not matter to Z_RLE.
    """

    def __init__(self) -> None:
        self._compressor = zlib_ng.compressobj(1, zlib_ng.DEFLATED, 15, 9, zlib_ng.Z_RLE)
        self._parts: list[bytes] = []

    def add(self, filters: bytes, samples: bytes) -> None:
        """Deflate one block: row ``i`` is ``filters[i]`` then its share of ``samples``."""
        row = len(samples) // len(filters)
        view = memoryview(samples)
        rows = b"".join(
            [
                part
                for index, start in enumerate(range(0, len(samples), row))
                for part in (filters[index : index + 1], view[start : start + row])
            ]
        )
        self._parts.append(self._compressor.compress(rows))

    def finish(self) -> bytes:
        """The complete zlib stream."""
        self._parts.append(self._compressor.flush())
        return b"".join(self._parts)
