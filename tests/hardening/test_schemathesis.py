"""Schemathesis against the app's own OpenAPI document: no generated request gets a 5xx.

The schema is read from a live uvicorn serving the fixture store (with a write token, so the
write operations run their full path too). Bounded: at most ``EXAMPLES`` requests per operation,
a few hundred in all, in about ten seconds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from sinlod.config import Settings
from sinlod.server import create_app
from tests.e2e.conftest import running_server

EXAMPLES = 40


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, published_store: Any) -> Iterator[str]:
    import shutil

    store = tmp_path_factory.mktemp("schemathesis") / "store"
    shutil.copytree(published_store, store, symlinks=True)
    config = dataclasses.replace(
        Settings.load(env={}, store_path=store), update_token="tok", shacl_gate=False
    )
    with running_server(create_app(config)) as url:
        yield url


def test_no_generated_request_gets_a_server_error(live: str) -> None:
    """Each operation of the OpenAPI document, ``EXAMPLES`` generated requests each."""
    schema = schemathesis.openapi.from_url(live + "/api/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10, [op.label for op in operations]
    failures: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def run(case: Any) -> None:
            response = case.call(headers={"Authorization": "Bearer tok"}, timeout=30)
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} {case.query} -> {response.status_code}:"
                    f" {response.text[:300]}"
                )

        run()
    assert not failures, "\n".join(failures[:20])
