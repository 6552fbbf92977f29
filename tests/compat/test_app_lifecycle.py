"""What the application does around its requests: start-up and shutdown."""

from __future__ import annotations

import gc
from pathlib import Path

import httpx

from pdfbinder.compat.settings import Settings
from tests.support.compat import ThreadServer


def test_start_up_objects_stay_out_of_the_collector_while_the_server_runs(
    tmp_path: Path,
) -> None:
    with ThreadServer(Settings(data_dir=tmp_path)) as server:
        assert httpx.get(f"{server.url}/health").json() == {"status": "ok"}
        frozen = gc.get_freeze_count()
        assert frozen > 0
    # Given back at shutdown: the process goes on without the server.
    assert gc.get_freeze_count() < frozen
