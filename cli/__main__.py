"""``python -m pdfbinder.cli``: the same command as the ``pdfbinder`` script."""

from . import main

main()
