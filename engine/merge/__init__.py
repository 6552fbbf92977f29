"""PDF merge on pikepdf, keeping outlines, named destinations, forms and labels.
:func:`.merge.merge_pdfs` and :func:`.merge.merge_any` are the entry points."""
