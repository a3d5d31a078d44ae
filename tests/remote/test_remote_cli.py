"""The CLI on a remote store, configured by ``SINLOD_*`` variables only: the commands are the
same as on the embedded store (publish, releases, query, diff, rollback, dump, restore, stats)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.remote.servers import Endpoint
from tests.remote.test_remote_backend import ASK_BRUGES, BRUGES, DOCUMENTS, PLACES


@pytest.fixture
def remote_env(endpoint: Endpoint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = endpoint.settings(tmp_path)
    for name in (
        "backend",
        "remote_query_url",
        "remote_update_url",
        "remote_graph_store_url",
        "remote_user",
        "remote_password",
        "remote_auth",
        "remote_namespace",
        "remote_refresh_interval",
    ):
        value = getattr(settings, name)
        if value is not None:
            monkeypatch.setenv(f"SINLOD_{name.upper()}", str(value))
    monkeypatch.setenv("SINLOD_STORE_PATH", str(tmp_path / "no-store-here"))
    monkeypatch.delenv("SINLOD_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)  # no sinlod.toml from the checkout


def test_the_cli_publishes_queries_rolls_back_dumps_and_restores(
    remote_env: None, tmp_path: Path
) -> None:
    records = tmp_path / "records"
    records.mkdir()
    (records / "documents.csv").write_text(DOCUMENTS, encoding="utf-8")
    (records / "places.csv").write_text(PLACES, encoding="utf-8")
    (tmp_path / "bruges.ttl").write_text(BRUGES, encoding="utf-8")

    # --no-ontology: the ontology and reference tables are most of the triples, and
    # test_remote_backend publishes them already
    assert run_cli(["publish", str(records), "-q", "--no-ontology"]).exit_code == 0
    bruges = str(tmp_path / "bruges.ttl")
    assert run_cli(["publish", str(records), bruges, "-q", "--no-ontology"]).exit_code == 0
    listed = run_cli(["releases", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    first, second = [r["id"] for r in json.loads(listed.output)]
    asked = run_cli(["query", ASK_BRUGES, "--format", "json"])
    assert asked.exit_code == 0 and json.loads(asked.output)["boolean"] is True

    diff = run_cli(["diff", "--format", "nq"])
    assert diff.exit_code == 0 and "bruges" in diff.output

    back = run_cli(["rollback", first, "-m", "no bruges"])
    assert back.exit_code == 0, back.output
    asked = run_cli(["query", ASK_BRUGES, "--format", "json"])
    assert json.loads(asked.output)["boolean"] is False

    dump = tmp_path / "backup.nq.gz"
    dumped = run_cli(["dump", "-o", str(dump)])
    assert dumped.exit_code == 0 and dump.stat().st_size > 0
    stats = run_cli(["stats", "--format", "json"])
    assert stats.exit_code == 0, stats.output
    # restoring the dump over the same data changes nothing and says so
    restored = run_cli(["restore", str(dump)])
    assert restored.exit_code == 0, restored.output
    assert "Nothing changed" in restored.output
    after = json.loads(run_cli(["releases", "--format", "json"]).output)
    assert [r["id"] for r in after][:2] == [first, second] and len(after) == 3
