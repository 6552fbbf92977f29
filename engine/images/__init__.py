"""Images → PDF, written by pdfbinder's own streaming PDF writer so memory stays near the
largest single input. :func:`.convert.images_to_pdf` is the entry point."""
