"""The floor under the server benchmark: the same job with nothing around it.

A bare ASGI callable, served by the same uvicorn (httptools, uvloop, one process
per CPU) as ``pdfbinder serve``: ``/job`` converts the one image at ``SOURCE`` with
the engine into a new file under ``RESULTS`` and answers a PDF.co-shaped JSON line;
``/health`` answers at once. No framework, no parameters, no job records, no file
store layout, no access log: whatever the server spends beyond this, its design
spends. Each process writes a file into ``READY`` when it starts serving.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

from pdfbinder.engine import NamedSource, images_to_pdf

SOURCE = os.environ.get("FLOOR_SOURCE", "")
RESULTS = os.environ.get("FLOOR_RESULTS", "")
READY = os.environ.get("FLOOR_READY", "")


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            Path(READY, str(os.getpid())).touch()
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    body = b'{"status": "ok"}'
    if scope["path"] == "/job":
        file_id = secrets.token_urlsafe(24)
        with open(os.path.join(RESULTS, file_id), "wb") as result:
            report = images_to_pdf([NamedSource(SOURCE, "one.png")], result)
        answer = {"url": f"/files/{file_id}/one.pdf", "pageCount": report.page_count}
        body = json.dumps({**answer, "error": False, "status": 200}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
