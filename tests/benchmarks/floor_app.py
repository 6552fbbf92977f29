"""The floor under the server benchmark: the same job with nothing around it.

A bare ASGI callable, served by the same uvicorn (httptools, uvloop, one process
per CPU) as ``pdfbinder serve``: ``/job`` converts the one image at ``SOURCE`` with
the engine into a new file under ``RESULTS`` and answers a PDF.co-shaped JSON line;
``/health`` answers at once. With ``async=true`` in its query, ``/job`` also answers
a ``jobId``, which ``/job/check`` then reports a success for, and the result is
downloaded from its ``url`` (``/files/<id>/one.pdf``), as a PDF.co client does.
No framework, no parameters, no job records kept past the process, no file store
layout, no access log: whatever the server spends beyond this, its design spends.
``/stored-job`` is the same job with its result committed as the server commits one
(:class:`~pdfbinder.compat.files.local.LocalFileStore`, one store per process under
``RESULTS``): the first rung from this floor towards the server.
Each process writes a file into ``READY`` when it starts serving.
"""

from __future__ import annotations

import json
import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from pdfbinder.compat.clock import utcnow
from pdfbinder.compat.files.local import LocalFileStore
from pdfbinder.engine import NamedSource, images_to_pdf

SOURCE = os.environ.get("FLOOR_SOURCE", "")
RESULTS = os.environ.get("FLOOR_RESULTS", "")
READY = os.environ.get("FLOOR_READY", "")
_FINISHED: set[str] = set()
_JSON = [(b"content-type", b"application/json")]
_STORES: dict[int, LocalFileStore] = {}
_KEPT = timedelta(hours=1)


def _store() -> LocalFileStore:
    """This process's store (a forked process makes its own)."""
    pid = os.getpid()
    if pid not in _STORES:
        _STORES[pid] = LocalFileStore(Path(RESULTS, f"store-{pid}"))
    return _STORES[pid]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            Path(READY, str(os.getpid())).touch()
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    body, headers = b'{"status": "ok"}', _JSON
    path = scope["path"]
    if path in ("/job", "/stored-job"):
        file_id = secrets.token_urlsafe(24)
        if path == "/job":
            with open(os.path.join(RESULTS, file_id), "wb") as result:
                report = images_to_pdf([NamedSource(SOURCE, "one.png")], result)
        else:
            expires_at = utcnow() + _KEPT
            with _store().writer(
                file_id, name="one.pdf", expires_at=expires_at, durable=False
            ) as sink:
                report = images_to_pdf([NamedSource(SOURCE, "one.png")], sink.stream)
        answer: dict[str, Any] = {"pageCount": report.page_count, "error": False, "status": 200}
        host = dict(scope["headers"]).get(b"host", b"").decode()
        answer["url"] = f"http://{host}/files/{file_id}/one.pdf"
        if b"async=true" in scope["query_string"]:
            answer["jobId"] = file_id
            _FINISHED.add(file_id)
        body = json.dumps(answer, separators=(",", ":")).encode()
    elif path == "/job/check":
        job_id = scope["query_string"].decode().partition("jobid=")[2]
        state = "success" if job_id in _FINISHED else "unknown"
        body = json.dumps({"status": state}, separators=(",", ":")).encode()
    elif path.startswith("/files/"):
        with open(os.path.join(RESULTS, path.split("/")[2]), "rb") as result:
            body, headers = result.read(), [(b"content-type", b"application/pdf")]
    headers = [*headers, (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
