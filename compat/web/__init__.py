"""The page for people at ``/``: drop files, arrange them, convert or merge, download.

Plain HTML, CSS and JavaScript modules in ``static/``, shipped inside the
package and served from it; the page talks to the public API only (plus the
thumbnail route), so it needs nothing from any other origin. Every answer
carries a Content-Security-Policy that allows this origin alone, plus
``blob:`` images: the page shows picked images from memory before upload.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI
from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).resolve().parent / "static"
ASSETS_PREFIX = "/web"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Assets have no content hash in their names: revalidate (cheap, ETag) every time.
    "Cache-Control": "no-cache",
}


class _PageAssets(StaticFiles):
    """The page's files, each with the security headers."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers.update(SECURITY_HEADERS)
        return response


def add_web_page(app: FastAPI) -> None:
    """Serve the page at ``/`` and its files under ``/web``."""

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers=SECURITY_HEADERS)

    app.mount(ASSETS_PREFIX, _PageAssets(directory=STATIC_DIR), name="web")
