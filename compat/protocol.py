"""The PDF.co wire format: the one place that knows how requests and answers look.

Real clients send the same logical parameters as a raw query string (URLs not
percent-encoded), form fields, JSON with or without a Content-Type, multipart
fields, or a query string *plus* a body (the body wins). :func:`read_params`
folds all of them into one case-insensitive :class:`Params`; the helpers below
shape every answer so that the HTTP status always equals the body's ``status``.
"""

from __future__ import annotations

import ast
import contextlib
import json
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile

from .errors import ApiError

API_PREFIX = "/v1"
"""Every route is served both at the root and under this prefix; clients use either."""
MOUNT_PREFIXES = ("", API_PREFIX)
SECRET_PARAMS = frozenset({"x-api-key", "password", "httpusername", "httppassword", "callback"})
"""Parameters whose values are masked in logs and records and not kept after a job
(a callback URL may carry ``user:password@``)."""

REMAINING_CREDITS = 1_000_000
"""A local server has no credit account; clients still read this field."""

DEFAULT_OUTPUT_NAME = "result.pdf"
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_NAME_LENGTH = 120


def route_path(path: str) -> str:
    """The route ``path`` addresses, without the :data:`API_PREFIX` (``/v1/pdf/merge`` →
    ``/pdf/merge``)."""
    if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
        return path[len(API_PREFIX) :] or "/"
    return path


class Params:
    """Request parameters by lower-cased name; later sources override earlier ones."""

    def __init__(self, values: dict[str, Any] | None = None) -> None:
        self._values: dict[str, Any] = {}
        self.files: dict[str, UploadFile] = {}
        self.update(values or {})

    def update(self, values: dict[str, Any] | Iterable[tuple[str, Any]]) -> None:
        """Merge ``values`` in, replacing parameters of the same name (any case)."""
        items = values.items() if isinstance(values, dict) else values
        for key, value in items:
            if isinstance(value, UploadFile):
                self.files[key.lower()] = value
            else:
                self._values[key.lower()] = value

    def text(self, name: str) -> str | None:
        """The parameter as a stripped string, or ``None`` when absent or blank."""
        value = self._values.get(name.lower())
        if value is None:
            return None
        if isinstance(value, (dict, list)):
            value = json.dumps(value)
        elif isinstance(value, bool):
            value = "true" if value else "false"
        text = str(value).strip()
        return text or None

    def flag(self, name: str, default: bool = False) -> bool:
        """A lenient boolean: ``true/false``, ``True/False``, ``1/0``, JSON booleans."""
        value = self._values.get(name.lower())
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ApiError(400, f"Parameter '{name}' must be true or false, got {value!r}.")

    def integer(self, name: str, default: int, *, minimum: int = 1) -> int:
        """A whole number of at least ``minimum``; ``default`` when absent."""
        text = self.text(name)
        if text is None:
            return default
        try:
            number = int(float(text))
        except ValueError:
            raise ApiError(400, f"Parameter '{name}' must be a number, got {text!r}.") from None
        if number < minimum:
            raise ApiError(400, f"Parameter '{name}' must be at least {minimum}.")
        return number

    def urls(self, name: str = "url") -> list[str]:
        """Source URLs: comma-separated or a JSON array, trimmed, ``cache:`` stripped."""
        value = self._values.get(name.lower())
        if value is None:
            return []
        if isinstance(value, str) and value.strip().startswith("["):
            with contextlib.suppress(ValueError):  # not JSON after all: split on commas
                value = json.loads(value)
        items = value if isinstance(value, list) else str(value).split(",")
        urls = []
        for item in items:
            url = str(item).strip()
            if url.lower().startswith("cache:"):
                url = url[len("cache:") :].strip()
            if url:
                urls.append(url)
        return urls

    def profiles(self) -> dict[str, Any]:
        """``profiles`` as an object; loosely written JSON is accepted, garbage is 444."""
        value = self._values.get("profiles")
        if value is None or (isinstance(value, str) and not value.strip()):
            return {}
        if isinstance(value, dict):
            return value
        parsed = _parse_loose_object(str(value))
        if parsed is None:
            raise ApiError(444, f"Cannot parse 'profiles': {str(value)[:80]!r} is not an object.")
        return parsed


def _parse_loose_object(text: str) -> dict[str, Any] | None:
    """JSON, then Python-literal syntax (single quotes, True), then without braces."""
    text = text.strip()
    candidates = [text] if text.startswith("{") else [text, "{" + text + "}"]
    for candidate in candidates:
        try:
            parsed = json.loads(candidate)
        except ValueError:
            try:
                parsed = ast.literal_eval(candidate)
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                continue
        if isinstance(parsed, dict):
            return parsed
    return None


def output_name(raw: str | None, default: str = DEFAULT_OUTPUT_NAME) -> str:
    """A safe file name: what follows the last ``/`` or ``\\``, in ``[A-Za-z0-9._-]``.

    The result never contains a path separator, ``&``, ``?``, ``,``, ``#`` or a
    space (it is pasted raw into query strings), and never starts with a dot.
    """
    if not raw:
        return default
    base = re.split(r"[/\\]", raw)[-1]
    cleaned = _UNSAFE_NAME_CHARS.sub("_", base).lstrip(".")
    if len(cleaned) > _MAX_NAME_LENGTH:
        stem, dot, extension = cleaned.rpartition(".")
        keep = _MAX_NAME_LENGTH - len(extension) - 1
        cleaned = stem[:keep] + dot + extension if dot and keep > 0 else cleaned[:_MAX_NAME_LENGTH]
    return cleaned or default


async def read_params(request: Request, *, max_part_size: int = 1024 * 1024) -> Params:
    """Every parameter of ``request``: query string first, then the body over it."""
    params = Params()
    params.update(parse_qsl(request.url.query, keep_blank_values=True))
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("multipart/form-data"):
        form = await request.form(max_part_size=max_part_size)
        params.update(form.multi_items())
        return params
    body = await request.body()
    if body.strip():
        params.update(_parse_body(body, content_type))
    return params


def _parse_body(body: bytes, content_type: str) -> dict[str, Any] | list[tuple[str, str]]:
    """A JSON object (tried first whenever the body starts with ``{``) or form fields."""
    text = body.decode("utf-8", errors="replace").strip()
    if text.startswith("{") or "json" in content_type:
        try:
            decoded = json.loads(text)
        except ValueError:
            raise ApiError(400, "The request body is not valid JSON.") from None
        if not isinstance(decoded, dict):
            raise ApiError(400, "The JSON body must be an object of parameters.")
        return decoded
    if "=" in text:
        return parse_qsl(text, keep_blank_values=True)
    return {}


def success(**fields: Any) -> JSONResponse:
    """A 200 answer carrying ``error: false``, ``status: 200`` and ``remainingCredits``."""
    body = {**fields, "error": False, "status": 200, "remainingCredits": REMAINING_CREDITS}
    return JSONResponse(body, status_code=200)


def job_answer(body: dict[str, Any]) -> JSONResponse:
    """A ``/job/check`` answer: HTTP 200, the job state as the body's ``status``."""
    return JSONResponse(body, status_code=200)


def error_answer(status: int, message: str, **extra: Any) -> JSONResponse:
    """The error shape: ``{"error": true, "status": code, "message": ...}``."""
    body = {"error": True, "status": status, "message": message, **extra}
    return JSONResponse(body, status_code=status)


def timestamp(moment: datetime) -> str:
    """Vendor time format: ISO 8601 with microseconds and an explicit UTC offset."""
    return moment.isoformat(timespec="microseconds")
