"""Schemathesis against the server's own ``/openapi.json``: no request it can build gets a 500.

A real server (uvicorn on 127.0.0.1, remote fetching off, no URL map) serves
the schema; Schemathesis generates requests for every operation from it —
valid and invalid parameters, bodies, headers, path segments — and sends
them to that server only (``base_url`` is pinned to it). Generated source
URLs and callbacks point anywhere, but with remote fetching off the server
refuses them without opening a connection, so nothing leaves loopback.

Bounded and deterministic: ``derandomize=True`` and a fixed example count per
operation (``PDFBINDER_SCHEMATHESIS_EXAMPLES``, default 25). Each operation's
generated requests are seeded with the hostile ones of ``tests.support.hostile``
(deep nesting, a 400 KB query string), which must get a 4xx in the error shape.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, example, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err

from pdfbinder.compat.settings import Settings
from tests.support.compat import ThreadServer
from tests.support.hostile import Operation, hostile_cases

RESULTS = Path(__file__).resolve().parents[2] / ".benchmarks"
EXAMPLES = int(os.environ.get("PDFBINDER_SCHEMATHESIS_EXAMPLES", "25"))
STATUSES: Counter[int] = Counter()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServer]:
    settings_ = Settings(
        data_dir=tmp_path_factory.mktemp("schemathesis"),
        workers=2,
        allow_remote=False,
        sync_timeout=20,
    )
    with ThreadServer(settings_) as running:
        yield running


@pytest.fixture(scope="module")
def api_schema(live: ThreadServer) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{live.url}/openapi.json")


def operations(schema: schemathesis.BaseSchema) -> list[Operation]:
    """Every operation in ``schema``; one it cannot read fails the test with its reason."""
    found = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        found.append(result.ok())
    return found


def test_no_generated_request_gets_a_server_error(
    api_schema: schemathesis.BaseSchema, live: ThreadServer
) -> None:
    """Every operation, ``EXAMPLES`` generated requests each.

    Driven through each operation's Hypothesis strategy rather than schemathesis'
    pytest integration, which reaches into pytest internals that pytest 9.2 removed.
    """
    for operation in operations(api_schema):
        seeds = hostile_cases(operation).values()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        def no_server_error(case: schemathesis.Case[Operation]) -> None:
            response = case.call_and_validate(
                base_url=live.url, checks=[not_a_server_error], timeout=30
            )
            STATUSES[response.status_code] += 1
            assert response.status_code < 500, (case.operation.label, response.text)

        for seed in seeds:
            no_server_error = example(case=seed)(no_server_error)
        no_server_error()


def test_hostile_requests_get_a_4xx_in_the_error_shape_on_every_route(
    api_schema: schemathesis.BaseSchema, live: ThreadServer
) -> None:
    """Routes that read parameters refuse them; the few that read none (health,
    capabilities) answer as always. No route fails with a 5xx or a reset connection."""
    answered: Counter[str] = Counter()
    for operation in operations(api_schema):
        for name, case in hostile_cases(operation).items():
            response = case.call(base_url=live.url, timeout=60)
            where = f"{name} → {operation.label}: {response.status_code} {response.text[:120]}"
            if name == "400kb-query":
                assert response.status_code == 414, where
            if response.status_code == 200:
                assert not operation.query, where  # only routes without parameters
                continue
            assert 400 <= response.status_code < 500, where
            body = response.json()
            assert body["error"] is True and body["status"] == response.status_code, where
            assert isinstance(body["message"], str) and body["message"], where
            answered[name] += 1
    assert min(answered.values()) >= 30, answered  # every parameter-taking route, twice (/v1)


def test_every_route_was_exercised_without_a_server_error(
    api_schema: schemathesis.BaseSchema,
) -> None:
    """Runs after the generated requests (file order): what they got, over all operations."""
    routes = {(operation.method.upper(), operation.path) for operation in operations(api_schema)}
    assert {
        ("POST", "/pdf/merge"),
        ("GET", "/job/check"),
        ("PUT", "/upload/{token}/{name}"),
        ("GET", "/files/{file_id}/{name}"),
    } <= routes
    summary: dict[str, Any] = {
        "operations": len(routes),
        "requests": sum(STATUSES.values()),
        "statuses": {str(code): count for code, count in sorted(STATUSES.items())},
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "schemathesis.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"schemathesis: {summary}")
    assert summary["requests"] >= len(routes)
    assert not any(code >= 500 for code in STATUSES), STATUSES
