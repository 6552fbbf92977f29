"""Images → PDF, written by pdfbinder's own streaming PDF writer so memory stays near the
largest single input. :func:`.convert.images_to_pdf` is the entry point."""

DEFAULT_MAX_PIXELS = 89_478_485
"""The default pixel limit per image frame: Pillow's default decompression-bomb threshold,
so both guards agree. Written out, not read from Pillow, so that the inputs which never
reach Pillow (JPEG, PNG, JPEG 2000) and merges do not pay for importing it."""
