"""Route handlers are called directly: only coroutines taking the request and path
parameters can be registered, so none is ever called with arguments it cannot take;
the route table finds them by lookup and leaves everything else to FastAPI."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.routing import APIRoute
from starlette.types import Message, Receive, Scope, Send

from pdfbinder.compat.dispatch import RouteTable
from pdfbinder.compat.routes import PublicRoute


def router() -> APIRouter:
    return APIRouter(route_class=PublicRoute)


def test_a_handler_taking_the_request_and_path_parameters_is_accepted() -> None:
    routes = router()

    @routes.get("/files/{file_id}/{name}")
    async def download(file_id: str, name: str, request: Request) -> Response:
        return JSONResponse({"file_id": file_id, "name": name})

    @routes.get("/health")
    async def health() -> Response:
        return JSONResponse({"status": "ok"})

    paths = [route.path for route in routes.routes if isinstance(route, APIRoute)]
    assert paths == ["/files/{file_id}/{name}", "/health"]


def test_a_plain_function_is_refused_at_registration() -> None:
    routes = router()
    with pytest.raises(TypeError, match="coroutine functions"):

        @routes.get("/health")
        def health() -> Response:
            return JSONResponse({"status": "ok"})


def test_a_parameter_that_is_neither_request_nor_in_the_path_is_refused() -> None:
    routes = router()
    with pytest.raises(TypeError, match=r"\['jobid'\] are not in /job/check"):

        @routes.get("/job/check")
        async def check(jobid: str, request: Request) -> Response:
            return JSONResponse({"jobId": jobid})


class _Fallback:
    """The application behind the table: records what reaches it."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.paths.append(scope["path"])
        await PlainTextResponse("fallback", status_code=404)(scope, receive, send)


class _Refused(Exception):
    pass


def _table() -> tuple[RouteTable, _Fallback]:
    routes = router()

    @routes.get("/files/{file_id}/{name}")
    async def download(file_id: str, name: str) -> Response:
        return JSONResponse({"file_id": file_id, "name": name})

    @routes.post("/job/check")
    async def check(request: Request) -> Response:
        return JSONResponse({"jobId": request.query_params["jobid"]})

    @routes.get("/refused")
    async def refused() -> Response:
        raise _Refused("no")

    @routes.get("/broken")
    async def broken() -> Response:
        raise RuntimeError("bug")

    async def refusal(request: Request, error: Exception) -> Response:
        return JSONResponse({"error": True, "status": 403, "message": str(error)}, 403)

    fallback = _Fallback()
    declared = [route for route in routes.routes if isinstance(route, APIRoute)]
    return RouteTable(fallback, declared, {_Refused: refusal}), fallback


def _call(table: RouteTable, method: str, target: str) -> tuple[int, Any]:
    """One request through the table's ASGI interface: its status and decoded body."""
    path, _, query = target.partition("?")
    scope: Scope = {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": [(b"host", b"127.0.0.1")],
        "scheme": "http",
        "server": ("127.0.0.1", 80),
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(table(scope, receive, send))
    body = b"".join(message.get("body", b"") for message in sent[1:])
    is_json = (b"content-type", b"application/json") in sent[0]["headers"]
    return sent[0]["status"], json.loads(body) if is_json else body.decode()


def test_the_route_table_calls_handlers_at_both_mounts_and_passes_on_the_rest() -> None:
    table, fallback = _table()
    assert _call(table, "POST", "/job/check?jobid=J1") == (200, {"jobId": "J1"})
    assert _call(table, "POST", "/v1/job/check?jobid=J2") == (200, {"jobId": "J2"})
    assert _call(table, "GET", "/v1/files/abc/report one.pdf") == (
        200,
        {"file_id": "abc", "name": "report one.pdf"},
    )
    # A wrong method, a trailing slash and an unknown path are FastAPI's to answer.
    for method, path in (("GET", "/job/check"), ("POST", "/job/check/"), ("GET", "/nope")):
        assert _call(table, method, path) == (404, "fallback")
    assert fallback.paths == ["/job/check", "/job/check/", "/nope"]


def test_the_route_table_answers_an_exception_with_the_applications_handler() -> None:
    table, _ = _table()
    status, body = _call(table, "GET", "/refused")
    assert status == 403 and body["message"] == "no"
    # One without a handler goes up to the application's handler of last resort.
    with pytest.raises(RuntimeError, match="bug"):
        _call(table, "GET", "/broken")
