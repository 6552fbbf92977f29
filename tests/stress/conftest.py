"""The stress tests drive real ``pdfbinder serve`` processes started by compat_helpers.

``compat_helpers`` lives beside the compat tests (pytest puts a test's own
folder on ``sys.path``, not its neighbours'), so its folder is added here
rather than copying the server-process helper.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "compat"))
