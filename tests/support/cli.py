"""The ``pdfbinder`` console script of the interpreter running the tests.

Looked up beside ``sys.executable`` rather than on ``PATH``: under
``.venv/bin/python -m pytest`` the venv is not activated, and a ``pdfbinder``
found on ``PATH`` may be another installation of another checkout.
"""

from __future__ import annotations

import sys
from pathlib import Path


def pdfbinder_script() -> str:
    """Path of the console script installed with this interpreter's pdfbinder."""
    script = Path(sys.executable).with_name("pdfbinder")
    assert script.is_file(), (
        f"no pdfbinder console script beside {sys.executable} (pip install -e .)"
    )
    return str(script)
