"""``RouteTable``: the ASGI middleware that sends a request for one of our routes
straight to its handler.

FastAPI's router matches a request route by route, through each included router in
turn (the API is included twice, at ``/`` and ``/v1``), then wraps the handler in
exception handling and exit stacks for dependencies that no route here has. The
later a route is declared, the more that costs: for ``/health`` it was most of the
request. This table finds the handler of a route without path parameters by one
dictionary lookup and tries the compiled patterns of the few with them; the handler
gets the request and its path parameters as :class:`~.routes.PublicRoute` gives them.

What it does not find (a wrong method, a trailing slash, the docs, the web page, any
request to a server mounted under a root path) goes on to FastAPI, which answers it
as before. An exception the application has a handler for is answered by that
handler, as FastAPI would; any other goes up to the application's handler of last
resort.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .protocol import route_path

RouteHandler = Callable[[Request], Coroutine[Any, Any, Response]]
ExceptionHandler = Callable[[Request, Exception], Coroutine[Any, Any, Response]]


@dataclass
class _Index:
    exact: dict[tuple[str, str], RouteHandler] = field(default_factory=dict)
    """(method, path) → handler, for routes without path parameters."""
    patterned: list[tuple[APIRoute, RouteHandler]] = field(default_factory=list)


class RouteTable:
    """ASGI middleware: our routes found by lookup and called directly (module docstring).

    ``routes`` are the routes as declared, mounted at every one of
    :data:`~.protocol.MOUNT_PREFIXES`; ``exception_handlers`` is the application's own
    collection, read at the first request, when every handler has been added.
    """

    def __init__(
        self,
        app: ASGIApp,
        routes: Sequence[APIRoute],
        exception_handlers: dict[Any, Callable[..., Any]],
    ) -> None:
        self.app = app
        self._routes = routes
        self._exception_handlers = exception_handlers
        self._index: _Index | None = None

    def _build(self) -> _Index:
        index = _Index()
        for route in self._routes:
            handler = route.get_route_handler()
            if route.param_convertors:
                index.patterned.append((route, handler))
                continue
            for method in route.methods or ():
                index.exact.setdefault((method, route.path), handler)
        return index

    def _find(self, scope: Scope) -> RouteHandler | None:
        index = self._index
        if index is None:
            index = self._index = self._build()
        if scope.get("root_path"):
            return None  # mounted under a prefix: FastAPI knows how to strip it
        path = route_path(scope["path"])
        method = scope["method"]
        handler = index.exact.get((method, path))
        if handler is not None:
            scope["path_params"] = {}
            return handler
        for route, patterned in index.patterned:
            if method not in (route.methods or ()):
                continue
            found = route.path_regex.match(path)
            if found is None:
                continue
            scope["path_params"] = {
                name: route.param_convertors[name].convert(value)
                for name, value in found.groupdict().items()
            }
            return patterned
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = self._find(scope) if scope["type"] == "http" else None
        if handler is None:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive, send)
        started = False

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            response = await handler(request)
            await response(scope, receive, watched_send)
        except Exception as error:
            answer = self._handler_of(error)
            if answer is None or started:
                raise
            await (await answer(request, error))(scope, receive, send)

    def _handler_of(self, error: Exception) -> ExceptionHandler | None:
        """The application's handler for ``error``, as its exception middleware finds it;
        the handler of last resort (``Exception``) is left to the outermost middleware."""
        for kind in type(error).__mro__:
            if kind is Exception:
                return None
            handler = self._exception_handlers.get(kind)
            if handler is not None:
                return handler
        return None
