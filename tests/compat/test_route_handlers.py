"""Route handlers are called directly: only coroutines taking the request and path
parameters can be registered, so none is ever called with arguments it cannot take."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute

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
