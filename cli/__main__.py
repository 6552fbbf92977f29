"""``python -m pdfbinder.cli``: the same command as the ``pdfbinder`` script."""

from .app import main

main()
