"""Every PDF.co route, at ``/`` and under ``/v1``: parse → call the service → shape.

Parameters are read by :mod:`~pdfbinder.compat.protocol` from every request
shape real clients use, so the routes take only the ``Request``; the
parameters are declared in the OpenAPI description for documentation.
"""

from __future__ import annotations

import functools
import hmac
import inspect
import mimetypes
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from typing import Any, BinaryIO

import anyio
import anyio.to_thread
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from .errors import ApiError
from .files.base import FileInfo, FileStore, iter_chunks
from .previews import DEFAULT_SIDE, MAX_SIDE, MIN_SIDE, preview_stored_file
from .protocol import (
    MOUNT_PREFIXES,
    Params,
    job_answer,
    job_options,
    original_name,
    output_name,
    read_params,
    success,
)
from .service import JobRequest, Service
from .sources import FetchAuth
from .uploads import key_fingerprint

_PARAMETER_DOCS: dict[str, str] = {
    "url": "Source URLs, comma-separated (or a JSON array): our file URLs, http(s) URLs, "
    "filetoken://, optionally prefixed cache:.",
    "name": "Output file name; only what follows the last / or \\ is kept.",
    "async": "true: answer at once with jobId and the future url; poll /job/check.",
    "callback": "With async: URL that receives the final job JSON by POST.",
    "expiration": "Minutes the output link stays valid (default 60).",
    "password": "Password of encrypted input PDFs.",
    "httpusername": "Basic-auth user name for fetching http(s) sources.",
    "httppassword": "Basic-auth password for fetching http(s) sources.",
    "profiles": "Extra options as an object or a loosely written JSON string (see the README's "
    "profiles table): GenerateBookmarks, RenameMatchingFieldsDuringMerge, zipIncludeFilter, "
    "zipExcludeFilter, outputDataFormat, DataEncryption*/DataDecryption*, std_params; "
    "extensions PageSize, Fit, Margin, AutoOrient.",
    "jobid": "The job id returned by an async request (any letter case).",
    "force": "true: report an unknown job id as unknown rather than working.",
    "file": "The file: base64 or data: URI (upload/base64), a file URL (delete).",
    "contenttype": "Content type of the file to upload (accepted, not needed).",
    "x-api-key": "API key, when the server requires one (also accepted as a header).",
    "size": f"Longest side of the thumbnail in pixels, {MIN_SIDE}-{MAX_SIDE} "
    f"(default {DEFAULT_SIDE}).",
}
_JOB_PARAMETERS = (
    "url",
    "name",
    "async",
    "callback",
    "expiration",
    "httpusername",
    "httppassword",
    "profiles",
    "x-api-key",
)


def documented(*names: str) -> dict[str, Any]:
    """OpenAPI parameter entries for ``names`` (optional strings in the query or body)."""
    return {
        "parameters": [
            {
                "name": name,
                "in": "query",
                "required": False,
                "schema": {"type": "string"},
                "description": _PARAMETER_DOCS[name],
            }
            for name in names
        ]
    }


def service_of(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def base_url(request: Request) -> str:
    """The scheme and host the client used (or the configured public URL)."""
    configured = service_of(request).settings.public_url
    if configured:
        return configured.rstrip("/")
    scope = request.scope
    host = next((value for name, value in scope["headers"] if name == b"host"), None)
    server = scope.get("server")  # a list from some servers: made hashable
    return _base_url(
        scope["scheme"], host, tuple(server) if server else None, scope.get("root_path", "")
    )


@functools.lru_cache(maxsize=256)
def _base_url(
    scheme: str, host: bytes | None, server: tuple[str, int] | None, root_path: str
) -> str:
    """Starlette's base URL for these parts of a request, made once for each host name
    clients use (building it took a tenth of a small job's time)."""
    headers = [(b"host", host)] if host is not None else []
    scope = {"type": "http", "scheme": scheme, "server": server, "root_path": root_path}
    return str(
        Request({**scope, "path": "/", "query_string": b"", "headers": headers}).base_url
    ).rstrip("/")


def owner_of(request: Request) -> str | None:
    owner: str | None = getattr(request.state, "owner", None)
    return owner


def require_api_key(request: Request) -> None:
    """401 unless the ``x-api-key`` header or query parameter is an accepted key.

    With no keys configured (Cloud API Server mode) any key or none is accepted.
    Keys are compared in constant time and never logged.
    """
    given = request.headers.get("x-api-key")
    query = request.scope["query_string"]
    # Parsed only when it could name the key: most requests carry it in a header or not at all.
    if given is None and (b"%" in query or b"api-key" in query.lower()):
        given = next(
            (
                value
                for key, value in request.query_params.multi_items()
                if key.lower() == "x-api-key"
            ),
            None,
        )
    request.state.owner = key_fingerprint(given)
    accepted = service_of(request).settings.api_keys
    if not accepted:
        return
    supplied = (given or "").encode()
    matches = [hmac.compare_digest(supplied, key.encode()) for key in accepted]
    if not given or not any(matches):
        raise ApiError(401, "A valid API key is required (x-api-key header or parameter).")


class PublicRoute(APIRoute):
    """A route whose handler is called directly, then its request's uploads closed.

    Every handler here reads its parameters itself (:func:`~.protocol.read_params`
    takes PDF.co's lenient shapes, which no declared parameter could) and returns a
    response, so FastAPI's per-request work (solving parameters and dependencies,
    serialising a return value) has nothing to do, yet it costs more than some whole
    requests: the handler gets the request and its path parameters, nothing else.
    FastAPI still reads the routes for the OpenAPI schema.

    Starlette spools each multipart file part to a temporary file and leaves closing it
    to the application; unclosed, every upload's file lingers until garbage collection.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint = self.endpoint
        wants_request = _direct_parameters(endpoint, self.path_format, set(self.param_convertors))
        guard = self.guard

        async def guarded(request: Request) -> Response:
            try:
                guard(request)
                arguments = dict(request.path_params)
                if wants_request:
                    arguments["request"] = request
                response: Response = await endpoint(**arguments)
                return response
            finally:
                await request.close()

        return guarded

    @staticmethod
    def guard(request: Request) -> None:
        """Checks made before the handler runs (none for public routes)."""


class ApiRoute(PublicRoute):
    """A :class:`PublicRoute` that requires an API key (see :func:`require_api_key`)."""

    guard = staticmethod(require_api_key)


def _direct_parameters(endpoint: Callable[..., Any], path: str, path_params: set[str]) -> bool:
    """Whether ``endpoint`` takes the request; a :class:`TypeError` at start-up unless it
    is a coroutine function taking nothing but ``request`` and ``path``'s parameters."""
    if not inspect.iscoroutinefunction(endpoint):
        raise TypeError(f"{endpoint.__name__}: route handlers here are coroutine functions")
    names = set(inspect.signature(endpoint).parameters)
    unknown = names - {"request"} - path_params
    if unknown:
        raise TypeError(f"{endpoint.__name__}: parameters {sorted(unknown)} are not in {path}")
    return "request" in names


api = APIRouter(route_class=ApiRoute)
Handler = Callable[[Request], Awaitable[Response]]
public = APIRouter(route_class=PublicRoute)


async def _params(request: Request) -> Params:
    settings = service_of(request).settings
    return await read_params(request, max_part_size=settings.max_file_bytes * 2)


def _fetch_auth(params: Params) -> FetchAuth | None:
    user, password = params.text("httpusername"), params.text("httppassword")
    return FetchAuth(user or "", password or "") if user or password else None


def get_and_post(path: str, **options: Any) -> Callable[[Handler], Handler]:
    """Register ``handler`` for GET and POST as two routes (distinct OpenAPI operation ids)."""

    def register(handler: Handler) -> Handler:
        api.get(path, **options)(handler)
        api.post(path, **options)(handler)
        return handler

    return register


async def _job(request: Request, kind: str) -> JSONResponse:
    params = await _params(request)
    options = job_options(params, kind)  # first: its std_params override the parameters
    service = service_of(request)
    job = JobRequest(
        kind=kind,
        urls=params.urls(),
        name=output_name(params.text("name")),
        asynchronous=params.flag("async"),
        expiration=params.integer("expiration", service.settings.default_expiration),
        callback=params.text("callback"),
        password=params.text("password"),
        auth=_fetch_auth(params),
        options=options,
    )
    asked = (job, owner_of(request), base_url(request))
    # A job from local files is queued here, on the event loop, and a small one is run
    # here: handing it to a thread and back would cost more than that.
    quick = service.start_quick_job(*asked)
    if quick is not None:
        return success(**quick)
    start = functools.partial(service.start_job, *asked)
    if job.asynchronous:
        return success(**await run_in_threadpool(start))
    # The job runs in the request's thread; past the limit the answer goes out on time
    # (445) and the thread goes on with the job, or stops it.
    with anyio.move_on_after(service.settings.sync_timeout):
        return success(**await anyio.to_thread.run_sync(start, abandon_on_cancel=True))
    raise await run_in_threadpool(service.sync_timed_out, job.job_id)


@get_and_post("/pdf/convert/from/image", openapi_extra=documented(*_JOB_PARAMETERS))
async def convert_from_image(request: Request) -> JSONResponse:
    """Images → one PDF, one page per image (per frame), in `url` order."""
    return await _job(request, "convert")


@get_and_post("/pdf/merge", openapi_extra=documented(*_JOB_PARAMETERS, "password"))
async def merge(request: Request) -> JSONResponse:
    """PDFs → one PDF, in `url` order."""
    return await _job(request, "merge")


@get_and_post("/pdf/merge2", openapi_extra=documented(*_JOB_PARAMETERS, "password"))
async def merge2(request: Request) -> JSONResponse:
    """Like merge, but inputs may also be images, Office and text documents (converted by
    LibreOffice) and ZIP archives of any of these."""
    return await _job(request, "merge2")


@get_and_post("/job/check", openapi_extra=documented("jobid", "force", "x-api-key"))
async def job_check(request: Request) -> JSONResponse:
    """State of an async job: working, success, failed, aborted or unknown."""
    params = await _params(request)
    service = service_of(request)
    asked = (params.text("jobid"), params.flag("force"), base_url(request), owner_of(request))
    body = service.check_job_from_memory(*asked)
    if body is None:
        body = await run_in_threadpool(service.check_job, *asked)
    return job_answer(body)


def _file_answer(info: FileInfo, request: Request) -> JSONResponse:
    return success(url=f"{base_url(request)}/files/{info.file_id}/{info.name}", name=info.name)


@api.get(
    "/file/upload/get-presigned-url", openapi_extra=documented("name", "contenttype", "x-api-key")
)
async def presigned_url(request: Request) -> JSONResponse:
    """A one-time PUT upload URL (valid 15 minutes) and the file's final URL."""
    params = await _params(request)
    uploads = service_of(request).uploads
    body = uploads.presign(params.text("name"), owner_of(request), base_url(request))
    return success(**body)


@api.post("/file/upload", openapi_extra=documented("name", "x-api-key"))
async def upload(request: Request) -> JSONResponse:
    """Multipart upload: field `file` (+ optional `name`)."""
    params = await _params(request)
    part = params.files.get("file")
    if not isinstance(part, UploadFile):
        raise ApiError(400, "Missing multipart field 'file'.")
    given = params.text("name") or part.filename
    name = output_name(given, "file")
    info = await run_in_threadpool(
        service_of(request).uploads.store_upload,
        part.file,
        name,
        owner_of(request),
        original=original_name(given),
    )
    return _file_answer(info, request)


@api.post("/file/upload/base64", openapi_extra=documented("file", "name", "x-api-key"))
async def upload_base64(request: Request) -> JSONResponse:
    """Upload base64 data, bare or as a `data:<mime>;base64,` URI."""
    params = await _params(request)
    info = await run_in_threadpool(
        service_of(request).uploads.upload_base64,
        params.text("file"),
        params.text("name"),
        owner_of(request),
    )
    return _file_answer(info, request)


@get_and_post(
    "/file/upload/url",
    openapi_extra=documented("url", "name", "httpusername", "httppassword", "x-api-key"),
)
async def upload_url(request: Request) -> JSONResponse:
    """The server fetches `url` (subject to the remote policy) and stores it."""
    params = await _params(request)
    urls = params.urls()
    info = await run_in_threadpool(
        service_of(request).uploads.upload_from_url,
        urls[0] if urls else None,
        params.text("name"),
        owner_of(request),
        _fetch_auth(params),
    )
    return _file_answer(info, request)


@api.post("/file/delete", openapi_extra=documented("url", "file", "x-api-key"))
async def delete(request: Request) -> JSONResponse:
    """Delete a stored file given as `url` or `file`."""
    params = await _params(request)
    target = params.text("url") or params.text("file")
    await run_in_threadpool(service_of(request).uploads.delete, target, owner_of(request))
    return success()


_THUMBNAIL_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The first page as PNG. Header X-Page-Count: the pages the file makes.",
        "content": {"image/png": {}},
        "headers": {"X-Page-Count": {"schema": {"type": "integer"}}},
    }
}


@get_and_post(
    "/file/thumbnail",
    openapi_extra=documented("url", "size", "password", "x-api-key"),
    responses=_THUMBNAIL_RESPONSES,
    response_class=Response,
)
async def thumbnail(request: Request) -> Response:
    """A PNG of an uploaded PDF's or image's first page, and its page count (pdfbinder's own).

    Only files uploaded to this server, by the same key. A damaged file or a
    wrong password answers with the error a job would give (442, 441).
    """
    params = await _params(request)
    password = params.text("password")
    found = await run_in_threadpool(
        preview_stored_file,
        service_of(request).uploads,
        params.text("url"),
        owner_of(request),
        side=params.integer("size", DEFAULT_SIDE),
        password=password,
    )
    # A file id's bytes never change, so its thumbnail may be kept while the file lives;
    # one opened with a password is not kept at all.
    caching = "no-store" if password else f"private, max-age={min(found.seconds_left, 3600)}"
    headers = {
        "X-Page-Count": str(found.preview.page_count),
        "Cache-Control": caching,
        "Vary": "x-api-key",
    }
    return Response(found.preview.png, media_type="image/png", headers=headers)


def _stream_and_close(stream: BinaryIO) -> Iterator[bytes]:
    with stream:
        yield from iter_chunks(stream)


@public.head("/files/{file_id}/{name}", include_in_schema=False)
@public.get("/files/{file_id}/{name}")
async def download(file_id: str, name: str, request: Request) -> Response:
    """Download a stored file or result (no API key needed); 404 when unknown or expired.

    Keyless by protocol: the URL, with its 192-bit random id, is the capability
    (see :mod:`~pdfbinder.compat.tenancy`); a file is served only until it expires.
    A store that offers direct links (S3 with redirects on) answers with a redirect.
    """
    store = service_of(request).store
    # A local file is found and (when small) read here: a hand-off to a thread and back
    # costs more than that.
    if store.local:
        found = _find_download(store, file_id)
    else:
        found = await run_in_threadpool(_find_download, store, file_id)
    if isinstance(found, str):
        return RedirectResponse(found, status_code=302)
    if found is None:
        raise ApiError(404, "File not found or expired.")
    info, content = found
    headers = {
        "Content-Length": str(info.size),
        "Content-Disposition": f'attachment; filename="{info.name}"',
    }
    media_type = mimetypes.guess_type(info.name)[0] or "application/octet-stream"
    if request.method == "HEAD":
        if not isinstance(content, bytes):
            content.close()
        return Response(headers=headers, media_type=media_type)
    if isinstance(content, bytes):
        return Response(content, media_type=media_type, headers=headers)
    return StreamingResponse(_stream_and_close(content), media_type=media_type, headers=headers)


_READ_WHOLE = 256 * 1024
"""A download up to this size is read in the same thread call that finds it and sent in
one piece; a bigger one streams."""


def _find_download(
    store: FileStore, file_id: str
) -> str | tuple[FileInfo, bytes | BinaryIO] | None:
    """One blocking call for a download: a direct URL to redirect to, the file (its bytes
    when small, else an open stream), or ``None`` when it is not there."""
    direct = store.direct_download_url(file_id)
    if direct is not None:
        return direct
    opened = store.open(file_id)
    if opened is None:
        return None
    info, stream = opened
    if info.size > _READ_WHOLE:
        return info, stream
    with stream:
        return info, stream.read(info.size)  # the size is known: no look for the end


@public.put("/upload/{token}/{name}")
async def presigned_put(token: str, name: str, request: Request) -> Response:
    """Store the raw body (any Content-Type) under a presigned URL; once, within 15 minutes.

    A multipart body with a single `file` part is unwrapped (one generated
    vendor sample uploads that way).
    """
    service = service_of(request)
    upload = service.uploads.presigned_target(token, name)
    if request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        params = await _params(request)
        part = params.files.get("file")
        if not isinstance(part, UploadFile):
            raise ApiError(400, "A multipart upload must carry the file in a part named 'file'.")
        await run_in_threadpool(
            service.uploads.store_upload,
            part.file,
            name,
            upload.owner,
            upload.file_id,
            original=upload.original_name,
        )
    else:
        await service.uploads.store_body(request.stream(), name, upload)
    return Response(status_code=200)


@functools.lru_cache(maxsize=8)
def office_documents(soffice: str | None, on_workers: bool) -> bool:
    """Whether merge2 converts Office documents: LibreOffice is here (looked up once), or
    the jobs run on workers, which have their own."""
    if on_workers:
        return True
    from pdfbinder.engine.office.pool import OfficeUnavailable, find_office

    try:
        find_office(soffice)
    except OfficeUnavailable:
        return False
    return True


@public.get("/capabilities")
async def capabilities(request: Request) -> JSONResponse:
    """What this server offers beyond the protocol, for clients that adapt (pdfbinder's own).

    `apiKeyRequired`: requests need `x-api-key`. `officeDocuments`: merge2 converts
    Office and text documents. `thumbnails`: the route that previews uploaded files.
    `maxFileBytes`, `maxInputsPerJob`: the limits an upload and a job must keep to.
    """
    settings = service_of(request).settings
    return JSONResponse(
        {
            "apiKeyRequired": bool(settings.api_keys),
            "officeDocuments": office_documents(settings.soffice, bool(settings.broker)),
            "thumbnails": "/file/thumbnail",
            "maxFileBytes": settings.max_file_bytes,
            "maxInputsPerJob": settings.max_inputs_per_job,
            "error": False,
            "status": 200,
        }
    )


@public.get("/health")
async def health() -> JSONResponse:
    """Liveness: 200 while the server answers."""
    return JSONResponse({"status": "ok"})


def declared_routes() -> list[APIRoute]:
    """Every route as declared, before it is mounted at each prefix."""
    return [route for route in (*api.routes, *public.routes) if isinstance(route, APIRoute)]


def add_routes(app: FastAPI) -> None:
    """Mount the API at ``/`` and ``/v1``; file URLs too, so ``/v1/files/...`` also works."""
    for prefix in MOUNT_PREFIXES:
        app.include_router(api, prefix=prefix)
        app.include_router(public, prefix=prefix)
