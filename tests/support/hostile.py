"""Requests built to break a parser, which every route must refuse with a 4xx in the error shape.

Arrays nested 5,000 deep (a JSON body, a form ``url``, a form ``profiles``)
make recursive parsers give up with RecursionError; a 400 KB query string is
more than the HTTP parser takes in a request line.
"""

from __future__ import annotations

import socket
from typing import Any

import schemathesis

DEEP = "[" * 5000 + "]" * 5000
FORM = "application/x-www-form-urlencoded"
HOSTILE: dict[str, dict[str, Any]] = {
    "deep-json-body": {
        "body": ('{"url": ' + DEEP + "}").encode(),
        "media_type": "application/json",
    },
    "deep-form-url": {"body": {"url": DEEP}, "media_type": FORM},
    "deep-form-profiles": {
        "body": {"url": "https://files.example.test/a.pdf", "profiles": DEEP},
        "media_type": FORM,
    },
    "400kb-query": {"query": {"url": "https://files.example.test/" + "a" * 400_000}},
}

Operation = schemathesis.APIOperation[Any, Any, Any, Any]


def hostile_cases(operation: Operation) -> dict[str, schemathesis.Case[Operation]]:
    """Each hostile request, aimed at ``operation`` (its path parameters filled in)."""
    path = {parameter.name: "x" for parameter in operation.path_parameters}
    return {
        name: operation.Case(path_parameters=path, **request) for name, request in HOSTILE.items()
    }


def raw_request(port: int, head: bytes) -> tuple[int, bytes]:
    """Send ``head`` (a whole request) to 127.0.0.1:``port``; the status and body answered.

    A plain socket: HTTP clients refuse to send a request line this long themselves.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(head)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]
