"""The PDF.co wire format: the one place that knows how requests and answers look.

Real clients send the same logical parameters as a raw query string (URLs not
percent-encoded), form fields, JSON with or without a Content-Type, multipart
fields, or a query string *plus* a body (the body wins). :func:`read_params`
folds all of them into one case-insensitive :class:`Params`; the helpers below
shape every answer so that the HTTP status always equals the body's ``status``.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import tokenize
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

import json5
from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile

from pdfbinder.engine import InvalidOption
from pdfbinder.engine.images.layout import FIT_MODES, PageOptions

from .datacrypt import AesKey, BadAesValue, aes_key
from .errors import ApiError

API_PREFIX = "/v1"
"""Every route is served both at the root and under this prefix; clients use either."""
MOUNT_PREFIXES = ("", API_PREFIX)
SECRET_PARAMS = frozenset(
    {"x-api-key", "password", "httpusername", "httppassword", "callback", "profiles", "options"}
)
"""Parameters whose values are masked in logs and records and not kept after a job
(a callback URL may carry ``user:password@``; ``profiles``, and the job's ``options``
made from it, may carry DataEncryptionKey / DataDecryptionKey)."""

REMAINING_CREDITS = 1_000_000
"""A local server has no credit account; clients still read this field."""

DEFAULT_OUTPUT_NAME = "result.pdf"
MAX_NESTING = 32
"""Deepest nesting of brackets accepted in a body or a parameter. Real parameters nest
a few levels; thousands only make a parser recurse until it fails."""
_UNPARSABLE_STATUS = {"profiles": 444}
"""The vendor answers a ``profiles`` value it cannot parse with 444, anything else with 400."""
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_NAME_LENGTH = 120
MAX_PROFILES_CHARS = 64 * 1024
"""A ``profiles`` string longer than this is refused (444) before it is parsed."""


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
        """Merge ``values`` in, replacing parameters of the same name (any case).

        A text value nested deeper than :data:`MAX_NESTING` is refused here, for every
        parameter alike, before any parser recurses into it.
        """
        items = values.items() if isinstance(values, dict) else values
        for key, value in items:
            if isinstance(value, UploadFile):
                self.files[key.lower()] = value
                continue
            if isinstance(value, str) and nesting_depth(value, quotes="\"'") > MAX_NESTING:
                name = key.lower()
                raise ApiError(
                    _UNPARSABLE_STATUS.get(name, 400),
                    f"Cannot parse '{name}': it is nested more than {MAX_NESTING} levels deep.",
                )
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
        parsed = as_flag(value)
        if parsed is None:
            raise ApiError(400, f"Parameter '{name}' must be true or false, got {value!r}.")
        return parsed

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
            with contextlib.suppress(ValueError, RecursionError):  # not JSON: split on commas
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
        parsed = parse_loose_object(str(value))
        if parsed is None:
            raise ApiError(444, f"Cannot parse 'profiles': {str(value)[:80]!r} is not an object.")
        return parsed


def nesting_depth(text: str, *, quotes: str = '"') -> int:
    """How deep ``[`` and ``{`` nest in ``text``, outside strings quoted with ``quotes``."""
    if text.count("[") + text.count("{") <= MAX_NESTING:
        return 0  # cannot be too deep: the common case costs two C-speed counts
    depth = deepest = 0
    quote = ""
    escaped = False
    for char in text:
        if quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = ""
        elif char in quotes:
            quote = char
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(0, depth - 1)
    return deepest


def as_flag(value: Any) -> bool | None:
    """A lenient boolean (``true``, ``"True"``, ``1``, ``"off"``...), or ``None`` if it is none."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def parse_loose_object(text: str) -> dict[str, Any] | None:
    """An object from JSON as the vendor's docs and samples write it, or ``None``.

    JSON5 covers what they send: single quotes, bare ``true/false/null``,
    unquoted keys and trailing commas; the docs also show the braces left out
    (``'Key': 'value', 'Other': 'x'``). Python clients often send ``str()`` of a
    dict, with Python's ``True``/``False``/``None``: those words are read as
    JSON's (outside strings). Nesting deeper than the parser can follow, or
    text over :data:`MAX_PROFILES_CHARS`, is garbage too.
    """
    text = text.strip()
    if len(text) > MAX_PROFILES_CHARS:
        return None
    candidates = [text] if text.startswith("{") else [text, "{" + text + "}"]
    for candidate in candidates:
        for spelling in (candidate, _python_constants_as_json(candidate)):
            if spelling is None:
                continue
            try:
                parsed = json5.loads(spelling)
            except (ValueError, RecursionError):
                continue
            if isinstance(parsed, dict):
                return parsed
    return None


_PYTHON_CONSTANTS = {"True": "true", "False": "false", "None": "null"}
"""Python's constants and JSON's words for them: each pair has the same length, so the
tokens' positions stay right when one is swapped for the other."""


def _python_constants_as_json(text: str) -> str | None:
    """``text`` with Python's bare ``True``/``False``/``None`` spelled as JSON's, or ``None``
    when it has none (or is not made of Python tokens). Python's own tokenizer tells the
    bare words from the same words inside strings."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return None
    words = [token.type == tokenize.NAME and token.string in _PYTHON_CONSTANTS for token in tokens]
    if not any(words):
        return None
    return tokenize.untokenize(
        token._replace(string=_PYTHON_CONSTANTS[token.string]) if word else token
        for token, word in zip(tokens, words, strict=True)
    )


@dataclass(frozen=True)
class JobOptions:
    """What a job's ``profiles`` asks for, checked and typed (the engine gets these as options).

    ``notes`` lists the keys that were accepted but do nothing here (unknown,
    or for another endpoint); the answer's ``message`` reports them.
    """

    generate_bookmarks: bool = False
    rename_matching_fields: bool = True
    zip_include: tuple[str, ...] = ()
    zip_exclude: tuple[str, ...] = ()
    output_base64: bool = False
    encrypt_output: AesKey | None = None
    decrypt_inputs: AesKey | None = None
    page_size: str | None = None
    fit: str = "into"
    margin: str | None = None
    auto_orient: bool = False
    drop_bookmarks: bool = False
    pad_to_even: bool = False
    collate: bool = False
    attach_sources: bool = False
    inputs: tuple[dict[str, str], ...] = ()
    """Per ``url`` item, in order: its own ``pages`` (page range) and ``password``."""
    dry_run: bool = False
    """Answer what the job would do (inputs described, output planned) instead of a file."""
    notes: tuple[str, ...] = ()
    ignored_parameters: tuple[str, ...] = ()
    """Parameters the vendor documents (or its samples send) that this route does not use."""

    @property
    def notice(self) -> str | None:
        """The sentences for the answer's ``message`` (``None`` when everything was used)."""
        sentences = []
        if self.ignored_parameters:
            sentences.append("Ignored parameters: " + "; ".join(self.ignored_parameters) + ".")
        if self.notes:
            sentences.append("Ignored profiles keys: " + "; ".join(self.notes) + ".")
        return " ".join(sentences) or None

    def to_params(self) -> dict[str, Any]:
        """A JSON-ready form for the job spec (defaults left out)."""
        if self is NO_OPTIONS:
            return {}
        values: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if value == item.default:
                continue
            values[item.name] = value.to_params() if isinstance(value, AesKey) else value
        return values

    @classmethod
    def from_params(cls, values: dict[str, Any]) -> JobOptions:
        if not values:
            return NO_OPTIONS
        options = cls()
        for name, value in values.items():
            if name in ("encrypt_output", "decrypt_inputs"):
                value = AesKey.from_params(value)
            elif isinstance(value, list):
                value = tuple(value)
            options = replace(options, **{name: value})
        return options


NO_OPTIONS = JobOptions()
"""A job's options when ``profiles`` asks for nothing: most jobs (shared, it is frozen;
making one costs more than the rest of reading the parameters)."""

_ALL_JOBS = frozenset({"convert", "merge", "merge2"})
_MERGES = frozenset({"merge", "merge2"})
_ROUTES = {
    "convert": "/pdf/convert/from/image",
    "merge": "/pdf/merge",
    "merge2": "/pdf/merge2",
}


Reader = Callable[[str, Any], dict[str, Any]]
"""A profiles key's value → :class:`JobOptions` fields (raising :class:`ApiError` 400)."""


@dataclass(frozen=True)
class _ProfileKey:
    name: str
    """The spelling the vendor's docs use (keys match in any letter case)."""
    jobs: frozenset[str]
    read: Reader


def _bad(key: str, why: str) -> ApiError:
    return ApiError(400, f"profiles key '{key}' {why}.")


def _flag_value(target: str) -> Reader:
    def read(key: str, value: Any) -> dict[str, Any]:
        parsed = as_flag(value)
        if parsed is None:
            raise _bad(key, f"must be true or false, not {value!r}")
        return {target: parsed}

    return read


def _patterns_value(target: str) -> Reader:
    def read(key: str, value: Any) -> dict[str, Any]:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            raise _bad(key, "must be wildcards separated by commas, e.g. '*.pdf,*.jpg'")
        patterns = tuple(item.strip() for item in items if item.strip())
        return {target: patterns}

    return read


def _output_format(key: str, value: Any) -> dict[str, Any]:
    text = str(value).strip().lower()
    if text not in ("base64", ""):
        raise _bad(key, f"must be 'base64', not {value!r}")
    return {"output_base64": text == "base64"}


def _text_value(target: str, check: Callable[[str], object]) -> Reader:
    def read(key: str, value: Any) -> dict[str, Any]:
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise _bad(key, f"must be text, not {value!r}")
        text = str(value).strip()
        try:
            check(text)
        except InvalidOption as error:
            raise _bad(key, f"is wrong: {error.reason}") from None
        return {target: text}

    return read


def _fit_value(key: str, value: Any) -> dict[str, Any]:
    text = str(value).strip().lower()
    if text not in FIT_MODES:
        raise _bad(key, f"must be one of {', '.join(FIT_MODES)}, not {value!r}")
    return {"fit": text}


_INPUT_FIELDS = {"pages": "pages", "password": "password"}


def _inputs_value(key: str, value: Any) -> dict[str, Any]:
    """A list with one object per ``url`` item: ``{"Pages": "1-3,z", "Password": "..."}``."""
    if not isinstance(value, list):
        raise _bad(key, "must be a list with one object per url, e.g. [{'Pages': '1-3'}, {}]")
    chosen = []
    for position, item in enumerate(value, start=1):
        if item is None:
            item = {}
        if not isinstance(item, dict):
            raise _bad(key, f"item {position} must be an object, not {item!r}")
        fields: dict[str, str] = {}
        for name, text in item.items():
            field = _INPUT_FIELDS.get(str(name).lower())
            if field is None:
                raise _bad(key, f"item {position} has {name!r}: only Pages and Password are known")
            if text is None or text == "":
                continue
            if not isinstance(text, str):
                raise _bad(key, f"item {position}'s {name} must be text, not {text!r}")
            fields[field] = text.strip() if field == "pages" else text
        chosen.append(fields)
    return {"inputs": tuple(chosen)}


_AES_PARTS = ("Algorithm", "Key", "IV")
_AES_TARGETS = (("DataEncryption", "encrypt_output"), ("DataDecryption", "decrypt_inputs"))


def _aes_part(prefix: str, part: str) -> Reader:
    def read(key: str, value: Any) -> dict[str, Any]:
        if not isinstance(value, str) or not value:
            raise _bad(key, f"must be text, not {value!r}")
        return {f"{prefix}{part}": value}

    return read


_PROFILE_KEYS: dict[str, _ProfileKey] = {
    entry.name.lower(): entry
    for entry in (
        _ProfileKey("GenerateBookmarks", _MERGES, _flag_value("generate_bookmarks")),
        _ProfileKey(
            "RenameMatchingFieldsDuringMerge", _MERGES, _flag_value("rename_matching_fields")
        ),
        _ProfileKey("zipIncludeFilter", frozenset({"merge2"}), _patterns_value("zip_include")),
        _ProfileKey("zipExcludeFilter", frozenset({"merge2"}), _patterns_value("zip_exclude")),
        _ProfileKey("outputDataFormat", _ALL_JOBS, _output_format),
        *(
            _ProfileKey(f"{prefix}{part}", _ALL_JOBS, _aes_part(prefix, part))
            for prefix in ("DataEncryption", "DataDecryption")
            for part in _AES_PARTS
        ),
        # pdfbinder's own layout options for images → PDF (extensions, not the vendor's).
        _ProfileKey(
            "PageSize",
            frozenset({"convert"}),
            _text_value("page_size", lambda text: PageOptions.parse(text, "into", None, False)),
        ),
        _ProfileKey("Fit", frozenset({"convert"}), _fit_value),
        _ProfileKey(
            "Margin",
            frozenset({"convert"}),
            _text_value("margin", lambda text: PageOptions.parse(None, "into", text, False)),
        ),
        _ProfileKey("AutoOrient", frozenset({"convert"}), _flag_value("auto_orient")),
        # pdfbinder's own merge extensions: no bookmarks at all, options per input, and
        # page order for double-sided printing and scanning.
        _ProfileKey("DropBookmarks", _MERGES, _flag_value("drop_bookmarks")),
        _ProfileKey("Inputs", _MERGES, _inputs_value),
        _ProfileKey("padToEven", _MERGES, _flag_value("pad_to_even")),
        _ProfileKey("collate", _MERGES, _flag_value("collate")),
        # pdfbinder's own: embed the original input files in the output.
        _ProfileKey("attachSources", _ALL_JOBS, _flag_value("attach_sources")),
        # pdfbinder's own preflight: the report of what the job would do, no file.
        _ProfileKey("dryRun", _ALL_JOBS, _flag_value("dry_run")),
    )
}


_NO_PAGES = {
    "convert": "every page of every image is converted",
    "merge": "every page is merged; profiles Inputs gives one input a page range",
    "merge2": "every page is merged; profiles Inputs gives one input a page range",
}
"""Why ``pages`` does nothing on each route: the vendor documents it for images → PDF
without saying what it selects there, and one of its merge samples sends it."""


def job_options(params: Params, kind: str) -> JobOptions:
    """The checked :class:`JobOptions` of a convert/merge request's ``profiles``.

    Documented keys become options (a bad value is a 400 naming the key);
    unknown keys, and keys of another endpoint, are kept as notes for the
    answer's ``message``. ``std_params`` (the vendor's way to pass ordinary
    parameters inside ``profiles``) overrides those parameters in ``params``.
    """
    profile = params.profiles()
    values: dict[str, Any] = {}
    notes: list[str] = []
    for raw_key, value in profile.items():
        key = str(raw_key)
        if key.lower() == "std_params" and isinstance(value, dict):
            params.update({str(name): item for name, item in value.items()})
            continue
        entry = _PROFILE_KEYS.get(key.lower())
        if entry is not None and value is None:
            continue  # null: as if not given
        if entry is None:
            notes.append(f"'{key}' (unknown key)")
        elif kind not in entry.jobs:
            notes.append(f"'{key}' (not used by {_ROUTES.get(kind, kind)})")
        else:
            values |= entry.read(key, value)
    for prefix, target in (
        ("DataEncryption", "encrypt_output"),
        ("DataDecryption", "decrypt_inputs"),
    ):
        parts = {part: values.pop(f"{prefix}{part}", None) for part in _AES_PARTS}
        given = [part for part, value in parts.items() if value is not None]
        if not given:
            continue
        missing = [f"{prefix}{part}" for part in _AES_PARTS if parts[part] is None]
        if missing:
            raise _bad(missing[0], f"is missing: {prefix}{given[0]} needs it")
        try:
            values[target] = aes_key(parts["Algorithm"], parts["Key"], parts["IV"])
        except BadAesValue as error:
            raise _bad(f"{prefix}{error.part}", error.reason) from None
    ignored = []
    if params.text("pages") is not None:
        ignored.append(f"'pages' ({_NO_PAGES[kind]})")
    inputs = values.get("inputs")
    if inputs is not None and len(inputs) != len(params.urls()):
        raise _bad("Inputs", f"has {len(inputs)} items for {len(params.urls())} url items")
    if values.get("drop_bookmarks") and values.get("generate_bookmarks"):
        raise _bad("DropBookmarks", "and GenerateBookmarks cannot both be true")
    if values.get("pad_to_even") and values.get("collate"):
        raise _bad("padToEven", "and collate cannot both be true")
    if not (values or notes or ignored):
        return NO_OPTIONS
    return JobOptions(**values, notes=tuple(notes), ignored_parameters=tuple(ignored))


def original_name(raw: str | None) -> str | None:
    """The name a client gave a file, kept for people to read (bookmark titles, messages).

    Only what follows the last ``/`` or ``\\``, without control or invisible format
    characters (no line breaks, no right-to-left overrides), runs of white space made
    one space, no longer than :func:`output_name` allows; ``None`` when nothing is left.
    Never a path: :func:`output_name` makes the name files are stored and served under.
    """
    if not raw:
        return None
    base = re.split(r"[/\\]", raw)[-1]
    shown = "".join(c for c in base if c.isspace() or not unicodedata.category(c).startswith("C"))
    return _shortened(" ".join(shown.split())) or None


def output_name(raw: str | None, default: str = DEFAULT_OUTPUT_NAME) -> str:
    """A safe file name: what follows the last ``/`` or ``\\``, in ``[A-Za-z0-9._-]``.

    The result never contains a path separator, ``&``, ``?``, ``,``, ``#`` or a
    space (it is pasted raw into query strings), and never starts with a dot.
    """
    if not raw:
        return default
    base = re.split(r"[/\\]", raw)[-1]
    return _shortened(_UNSAFE_NAME_CHARS.sub("_", base).lstrip(".")) or default


def _shortened(name: str) -> str:
    """``name`` cut to :data:`_MAX_NAME_LENGTH` characters, keeping its extension."""
    if len(name) <= _MAX_NAME_LENGTH:
        return name
    stem, dot, extension = name.rpartition(".")
    keep = _MAX_NAME_LENGTH - len(extension) - 1
    return stem[:keep] + dot + extension if dot and keep > 0 else name[:_MAX_NAME_LENGTH]


_BODY_HEADERS = frozenset({b"content-length", b"transfer-encoding"})


async def read_params(request: Request, *, max_part_size: int = 1024 * 1024) -> Params:
    """Every parameter of ``request``: query string first, then the body over it."""
    params = Params()
    # From the scope: building request.url costs more than parsing the query. The HTTP
    # parser lets only ASCII through there, so the decoding is a formality.
    query = request.scope["query_string"].decode("latin-1")
    params.update(parse_qsl(query, keep_blank_values=True))
    if not any(name in _BODY_HEADERS for name, _ in request.scope["headers"]):
        return params  # a request has a body only when its head announces one
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
        if nesting_depth(text) > MAX_NESTING:
            raise ApiError(
                400, f"The request body's JSON is nested more than {MAX_NESTING} levels deep."
            )
        try:
            decoded = json.loads(text)
        except ValueError:
            raise ApiError(400, "The request body is not valid JSON.") from None
        except RecursionError:
            raise ApiError(400, "The request body's JSON is nested too deeply.") from None
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


def error_body(status: int, message: str, **extra: Any) -> dict[str, Any]:
    """The error shape: ``{"error": true, "status": code, "message": ...}``."""
    return {"error": True, "status": status, "message": message, **extra}


def error_answer(status: int, message: str, **extra: Any) -> JSONResponse:
    """An error answer whose HTTP status is the body's ``status``."""
    return JSONResponse(error_body(status, message, **extra), status_code=status)


def timestamp(moment: datetime) -> str:
    """Vendor time format: ISO 8601 with microseconds and an explicit UTC offset."""
    return moment.isoformat(timespec="microseconds")
