"""``sinlod link suggest --service URL`` against a live sinlod server's ``/reconcile``.

The server is real uvicorn on a free port serving the shipped dataset; the CLI is the client a
steward would point at Wikidata's service (tests have no internet, so at sinlod's own). What it
sends is checked against the protocol's query-batch schema by the server's parser; here the
outcomes are checked: a clear match, a flagged ambiguity, nothing for a made-up name, codes
written back with ``--accept``, and a failure that says so when no service answers.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from sinlod.linking.service import _suggestion, shared_namespace
from sinlod.linking.suggest import Query
from sinlod.server.operations.run import bind_socket
from tests.conftest import FIXTURES, run_cli

NUTS = "http://data.europa.eu/nuts/"
NUTS_TYPE = NUTS + "scheme/2021"
STEWARD = FIXTURES / "linking" / "steward"
PLACES = """id,name,country,nuts,body,source
lodz,Lodz,POL,,,register
frankfurt,Frankfurt,DEU,,,register
atlantis,Atlantis,,,,register
essen,Essen,DEU,DEA13,,register
"""


@pytest.fixture
def records(tmp_path: Path) -> Iterator[Path]:
    """A steward's places (some without a NUTS code) with the fixture mappings."""
    folder = tmp_path / "records"
    folder.mkdir()
    shutil.copy(STEWARD / "good" / "sources.csv", folder / "sources.csv")
    (folder / "places.csv").write_text(PLACES, encoding="utf-8")
    yield folder


def suggest(server: str, records: Path, *extra: str) -> list[dict[str, object]]:
    result = run_cli(
        [
            "link",
            "suggest",
            str(records),
            "--mappings",
            str(STEWARD / "mappings"),
            "--service",
            server + "/reconcile",
            "--service-type",
            NUTS_TYPE,
            "--format",
            "json",
            *extra,
        ]
    )
    assert result.exit_code == 0, result.output
    found: list[dict[str, object]] = json.loads(result.stdout)
    return found


def test_suggest_through_a_live_reconciliation_service(shipped_server: str, records: Path) -> None:
    found = {str(s["subject"]).rsplit("/", 1)[-1]: s for s in suggest(shipped_server, records)}
    # essen links into NUTS already, but a sinlod service names its own things: it is asked too
    assert set(found) == {"lodz", "frankfurt", "atlantis", "essen"}
    assert (found["lodz"]["status"], found["lodz"]["target"]) == ("match", NUTS + "code/PL711")
    frankfurt = found["frankfurt"]
    assert frankfurt["status"] == "ambiguous" and frankfurt["target"] is None
    codes = {c["code"] for c in frankfurt["candidates"]}  # type: ignore[attr-defined]
    assert {"DE712", "DE403"} <= codes
    assert found["atlantis"]["status"] == "none"


def test_accept_writes_codes_into_the_records(shipped_server: str, records: Path) -> None:
    run_cli_output = suggest(shipped_server, records, "--accept", "95", "--column", "nuts")
    assert any(s["status"] == "match" for s in run_cli_output)
    with (records / "places.csv").open(encoding="utf-8", newline="") as f:
        rows = {row["id"]: row for row in csv.DictReader(f)}
    assert rows["lodz"]["nuts"] == "PL711"
    assert rows["frankfurt"]["nuts"] == ""  # ambiguous: left for the steward
    assert rows["essen"]["nuts"] == "DEA13"  # filled cells are never overwritten


def test_no_service_listening_is_an_error(records: Path) -> None:
    sock = bind_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    sock.close()  # a free port nobody listens on
    result = run_cli(
        [
            "link",
            "suggest",
            str(records),
            "--mappings",
            str(STEWARD / "mappings"),
            "--service",
            f"http://127.0.0.1:{port}/reconcile",
        ]
    )
    assert result.exit_code == 2
    assert f"cannot reach reconciliation service http://127.0.0.1:{port}/reconcile" in (
        result.output
    )


def test_a_page_that_is_not_a_service_is_an_error(shipped_server: str, records: Path) -> None:
    result = run_cli(
        [
            "link",
            "suggest",
            str(records),
            "--mappings",
            str(STEWARD / "mappings"),
            "--service",
            shipped_server + "/healthz",
        ]
    )
    assert result.exit_code == 2
    assert "is not a reconciliation service" in result.output


WIKIDATA = "http://www.wikidata.org/entity/"


def test_answers_with_local_ids_become_iris_and_codes() -> None:
    """Wikidata's service answers ids local to its identifierSpace ("Q64"), sinlod full IRIs:
    both become the target IRI, and ``--accept`` writes the part after the shared namespace."""
    query = Query("https://w3id.org/sinlod/id/place/berlin", ("Berlin",))
    answer = [
        {"id": "Q64", "name": "Berlin", "score": 100, "match": True},
        {"id": "Q821244", "name": "Berlin", "score": 71.5, "match": False},
    ]
    got = _suggestion(query, answer, WIKIDATA, 90.0)
    assert (got.status, got.target_iri, got.score) == ("match", WIKIDATA + "Q64", 100.0)
    assert shared_namespace([got]) == WIKIDATA
    unsure = _suggestion(query, [{**a, "match": False} for a in answer], WIKIDATA, 70.0)
    assert unsure.status == "ambiguous"  # the service did not say match: a person decides
    assert [c.code for c in unsure.candidates] == ["Q64", "Q821244"]
    nothing = _suggestion(query, [{"id": "Q1", "name": "x", "score": "high"}], WIKIDATA, 90.0)
    assert (nothing.status, nothing.candidates[0].score) == ("none", 0.0)
    nuts = _suggestion(
        query, [{"id": NUTS + "code/DE300", "name": "Berlin", "score": 100, "match": True}],
        "https://w3id.org/sinlod/id/", 90.0,
    )  # fmt: skip
    assert (nuts.target_iri, nuts.candidates[0].code) == (NUTS + "code/DE300", "DE300")
    assert shared_namespace([nuts]) == NUTS + "code/"
