"""Choosing the remote backend by settings, and what a user sees when it is misconfigured."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.remote.servers import free_port


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SINLOD_BACKEND": "cloud"}, "setting 'backend': expected one of embedded, remote"),
        ({"SINLOD_BACKEND": "remote"}, "setting 'remote_query_url' is needed"),
        (
            {
                "SINLOD_BACKEND": "remote",
                "SINLOD_REMOTE_QUERY_URL": "http://127.0.0.1:PORT/sparql",
                "SINLOD_REMOTE_USER": "u",
                "SINLOD_REMOTE_AUTH": "kerberos",
            },
            "setting 'remote_auth': expected basic or digest",
        ),
        (
            {"SINLOD_BACKEND": "remote", "SINLOD_REMOTE_QUERY_URL": "http://127.0.0.1:PORT/q"},
            "remote store http://127.0.0.1:PORT/q cannot be reached",
        ),
    ],
    ids=["unknown-backend", "no-url", "unknown-auth", "unreachable"],
)
def test_a_misconfigured_remote_store_is_a_usage_error_with_a_message(
    env: dict[str, str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = str(free_port())  # nothing listens there
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SINLOD_CONFIG", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value.replace("PORT", port))
    result = run_cli(["releases"])
    assert result.exit_code == 2
    assert message.replace("PORT", port) in result.output
