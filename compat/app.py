"""``create_app(settings)``: the ASGI application of the PDF.co-compatible server.

Wires the routes and the middlewares (access log unless switched off, body limits), maps every
refusal (ours, FastAPI's validation errors, unknown routes, wrong methods)
into the protocol's error shape, and runs the service's life cycle: the
store and job runner open at start-up (recovering interrupted jobs), a
background thread sweeps expired files, and shutdown closes them.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from pdfbinder.engine import __version__

from .cluster import build_service
from .dispatch import RouteTable
from .errors import ApiError
from .middleware import AccessLog, BodyLimit, BodyLimits
from .protocol import error_answer
from .routes import add_routes, declared_routes
from .service import Service
from .settings import Settings
from .web import add_web_page

_log = logging.getLogger("pdfbinder.server")


def _sweep_forever(service: Service, interval: float, stop: threading.Event) -> None:
    while not stop.wait(interval):
        try:
            service.sweep()
        except Exception:  # a sweep failure must not kill the loop; it is retried next time
            _log.exception("sweep failed")


def create_app(
    settings: Settings | None = None,
    *,
    service_factory: Callable[[Settings], Service] = build_service,
) -> FastAPI:
    """The server application; nothing touches the data dir until it starts.

    ``service_factory`` builds the service at start-up (tests give one whose
    job runner they hold at a chosen point).
    """
    config = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service = service_factory(config)
        app.state.service = service
        service.sweep()
        stop = threading.Event()
        sweeper = threading.Thread(
            target=_sweep_forever,
            name="pdfbinder-sweep",
            args=(service, config.sweep_interval, stop),
            daemon=True,
        )
        sweeper.start()
        # What start-up made (modules, routes, the service) lives as long as the server:
        # out of the collector's way, a full collection no longer walks it every time
        # (one took as long as thirty small jobs). Given back at shutdown, for a process
        # that goes on without the server (tests, an application embedding it).
        gc.freeze()
        try:
            yield
        finally:
            stop.set()
            sweeper.join()
            service.close()
            gc.unfreeze()

    app = FastAPI(
        title="pdfbinder",
        summary="PDF.co-compatible API: images → PDF and PDF merge, offline.",
        version=__version__,
        lifespan=lifespan,
    )
    add_routes(app)
    if config.web_ui:
        add_web_page(app)
    _add_error_handlers(app)
    # Innermost: it sees requests after the access log and the body limit have.
    app.add_middleware(
        RouteTable, routes=declared_routes(), exception_handlers=app.exception_handlers
    )
    app.add_middleware(
        BodyLimit,
        limits=BodyLimits(file_bytes=config.max_file_bytes, memory_bytes=config.max_body_bytes),
    )
    if config.access_log:
        app.add_middleware(AccessLog)
    return app


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, error: ApiError) -> JSONResponse:
        return error_answer(error.status, error.message, **error.extra)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        if error.status_code == 404:
            message = f"Not found: {request.url.path}"
        elif error.status_code == 405:
            message = f"Method {request.method} is not allowed for {request.url.path}"
        else:
            message = str(error.detail)
        return error_answer(error.status_code, message)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item.get('loc', ()))}: {item.get('msg', '')}"
            for item in error.errors()
        )
        return error_answer(400, f"Invalid request: {problems}")

    @app.exception_handler(Exception)
    async def internal_error(request: Request, error: Exception) -> JSONResponse:
        _log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_answer(500, "Internal server error; the server log has the details.")
