"""``/reconcile`` answers the Reconciliation Service API 0.2 (OpenRefine's version) correctly.

The shipped dataset is published into a store on disk (plus a small graph with Łódź and SIMRA,
which the shipped data lacks) and the app is spoken to over HTTP through httpx. Every answer is
validated against the specification's own JSON schemas (``tests/data/reconciliation/``), and the
answers are checked for what a steward relies on: the right code or thing is the match, an
ambiguous name is never one, and constraints narrow or penalise.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pyoxigraph as ox
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator
from referencing import Registry, Resource

from sinlod.config import PROJECT_ROOT, Settings
from sinlod.errors import InputError
from sinlod.linking.reconcile import MAX_BATCH, MAX_LIMIT, parse_batch
from sinlod.publish import publish
from sinlod.server import create_app
from sinlod.store import ReleaseInfo, Store

SCHEMAS = PROJECT_ROOT / "tests" / "data" / "reconciliation"
BASE = "https://w3id.org/sinlod/"
DEF = BASE + "def/"
NUTS = "http://data.europa.eu/nuts/"
NUTS_TYPE = NUTS + "scheme/2021"
COUNTRY = "http://publications.europa.eu/resource/authority/country"
PROJECT = DEF + "Project"
EXTRA = """
@prefix sinlod: <https://w3id.org/sinlod/def/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
<https://w3id.org/sinlod/id/place/lodz> a sinlod:Place ;
    skos:prefLabel "Łódź"@pl , "Lodz"@en ; skos:altLabel "Litzmannstadt"@de .
<https://w3id.org/sinlod/id/project/simra> a sinlod:Project ;
    skos:prefLabel "Social Innovation in Marginalised Rural Areas"@en ;
    sinlod:acronym "SIMRA" .
"""


def _schemas() -> tuple[Registry[Any], dict[str, dict[str, Any]]]:
    loaded = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in SCHEMAS.glob("*.json")}
    registry: Registry[Any] = Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema, default_specification=_draft7()))
        for schema in loaded.values()
    )
    return registry, loaded


def _draft7() -> Any:
    from referencing.jsonschema import DRAFT7

    return DRAFT7


REGISTRY, SCHEMA = _schemas()


def check(name: str, instance: object) -> None:
    """``instance`` is valid under the spec's schema ``name`` (raises with the reason if not)."""
    validator = Draft7Validator(SCHEMA[name], registry=REGISTRY)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
    assert not errors, f"{name}: " + "; ".join(e.message for e in errors[:5])


def test_schemas_catch_a_wrong_answer() -> None:
    """The schemas are really applied: a result without a score is refused."""
    with pytest.raises(AssertionError, match="score"):
        check("reconciliation-result-batch", {"q0": {"result": [{"id": "x", "name": "x"}]}})
    with pytest.raises(AssertionError):
        check("manifest", {"versions": ["0.2"], "name": "x", "identifierSpace": "x"})


@pytest.fixture(scope="module")
def reconcile_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("reconcile") / "store"
    settings = Settings.load(env={}, store_path=path)
    with Store.open(path) as store:
        publish([settings.data_dir / "records"], settings, store, agent="tests")
        extra = [q.triple for q in ox.parse(EXTRA, format=ox.RdfFormat.TURTLE)]
        store.replace_graphs({BASE + "graph/extra": extra}, release=ReleaseInfo(agent="tests"))
    return path


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def client(tmp_path: Path, reconcile_store: Path) -> AsyncIterator[httpx.AsyncClient]:
    store = tmp_path / "store"
    shutil.copytree(reconcile_store, store, symlinks=True)
    app = create_app(Settings.load(env={}, store_path=store))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def reconcile(client: httpx.AsyncClient, batch: dict[str, Any]) -> dict[str, Any]:
    """POST a batch as OpenRefine does (form field ``queries``), checking both directions."""
    check("reconciliation-query-batch", batch)
    response = await client.post("/reconcile", data={"queries": json.dumps(batch)})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    check("reconciliation-result-batch", body)
    assert set(body) == set(batch)
    return body


def top(body: dict[str, Any], key: str) -> dict[str, Any]:
    result: list[dict[str, Any]] = body[key]["result"]
    assert result, f"{key}: no candidates"
    return result[0]


@pytest.mark.anyio
async def test_manifest(client: httpx.AsyncClient) -> None:
    response = await client.get("/reconcile", headers={"Origin": "http://127.0.0.1:3333"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"  # OpenRefine in a browser
    manifest = response.json()
    check("manifest", manifest)
    assert "0.2" in manifest["versions"]
    assert manifest["identifierSpace"] == BASE + "id/"
    types = {t["id"] for t in manifest["defaultTypes"]}
    assert {NUTS_TYPE, COUNTRY, PROJECT} <= types
    for kind in ("entity", "type", "property"):
        service = manifest["suggest"][kind]
        assert service["service_url"] + service["service_path"] == (
            f"http://testserver/reconcile/suggest/{kind}"
        )
    assert manifest["preview"]["url"] == "http://testserver/reconcile/preview?id={{id}}"


@pytest.mark.anyio
async def test_manifest_as_jsonp(client: httpx.AsyncClient) -> None:
    response = await client.get("/reconcile", params={"callback": "jQuery123_456"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/javascript")
    text = response.text
    assert text.startswith("/**/jQuery123_456(") and text.endswith(");")
    check("manifest", json.loads(text[len("/**/jQuery123_456(") : -2]))
    bad = await client.get("/reconcile", params={"callback": "alert(1)//"})
    assert bad.status_code == 400
    assert "alert" not in bad.text.split('"detail"')[0]


@pytest.mark.anyio
async def test_places_and_countries_from_the_reference_tables(client: httpx.AsyncClient) -> None:
    body = await reconcile(
        client,
        {
            "q0": {"query": "Lodz", "type": NUTS_TYPE},
            "q1": {"query": "Denmark", "type": COUNTRY},
            "q2": {"query": "DNK", "type": COUNTRY},
            "q3": {"query": "DEA32", "type": NUTS_TYPE},
            "q4": {"query": "Frankfurt", "type": NUTS_TYPE, "limit": 3},
            # as OpenRefine sends it: one type, type_strict "should"
            "q5": {"query": "Essen", "type": NUTS_TYPE, "type_strict": "should", "limit": 10},
        },
    )
    lodz = top(body, "q0")
    assert (lodz["id"], lodz["match"]) == (NUTS + "code/PL711", True)
    assert lodz["type"] == [{"id": NUTS_TYPE, "name": "NUTS 2021 region"}]
    assert (top(body, "q1")["id"], top(body, "q1")["match"]) == (COUNTRY + "/DNK", True)
    assert top(body, "q2")["id"] == COUNTRY + "/DNK"
    assert (top(body, "q3")["id"], top(body, "q3")["score"]) == (NUTS + "code/DEA32", 100)
    frankfurt = body["q4"]["result"]
    assert not any(r["match"] for r in frankfurt)  # two Frankfurts: the steward decides
    codes = {r["id"].rsplit("/", 1)[-1] for r in frankfurt[:2]}
    assert codes == {"DE712", "DE403"}
    assert len(frankfurt) <= 3
    essen = body["q5"]["result"]
    assert (essen[0]["id"], essen[0]["match"]) == (NUTS + "code/DEA13", True)
    assert all(r["type"][0]["id"] == NUTS_TYPE for r in essen)


@pytest.mark.anyio
async def test_property_constraints_narrow_regions(client: httpx.AsyncClient) -> None:
    body = await reconcile(
        client,
        {
            "de": {
                "query": "Essen",
                "type": NUTS_TYPE,
                "properties": [{"pid": DEF + "country", "v": {"id": COUNTRY + "/DEU"}}],
            },
            "nl": {
                "query": "Essen",
                "type": NUTS_TYPE,
                "properties": [{"pid": DEF + "country", "v": "Netherlands"}],
            },
            "level": {
                "query": "Frankfurt am Main",
                "type": NUTS_TYPE,
                "properties": [{"pid": "nutsLevel", "v": 3}],
            },
        },
    )
    assert (top(body, "de")["id"], top(body, "de")["match"]) == (NUTS + "code/DEA13", True)
    assert all(r["id"].startswith(NUTS + "code/NL") for r in body["nl"]["result"])
    assert top(body, "level")["id"] == NUTS + "code/DE712"


@pytest.mark.anyio
async def test_things_of_the_data_by_type_acronym_and_property(client: httpx.AsyncClient) -> None:
    six = BASE + "id/organisation/six"
    organisation = DEF + "Organisation"
    body = await reconcile(
        client,
        {
            "sic": {"query": "SIC", "type": PROJECT},
            "simra": {"query": "SIMRA", "type": PROJECT},
            "lodz": {"query": "Litzmannstadt", "type": DEF + "Place"},
            "gb": {
                "query": "SIX",
                "type": organisation,
                "properties": [{"pid": DEF + "country", "v": "GBR"}],
            },
            "dk": {
                "query": "SIX",
                "type": organisation,
                "properties": [{"pid": DEF + "country", "v": "Denmark"}],
            },
            "all": {"query": "SIC", "type": [PROJECT, organisation], "type_strict": "all"},
            "wikidata-pid": {
                "query": "SIC",
                "type": PROJECT,
                "properties": [{"pid": "P17", "v": "Q31"}, {"pid": "x> } <y", "v": "z"}],
            },
        },
    )
    sic = top(body, "sic")
    assert (sic["id"], sic["match"]) == (BASE + "id/project/sic", True)
    assert sic["name"] == "Social Innovation Community"
    assert {"id": PROJECT, "name": "project"} in sic["type"]
    assert top(body, "simra")["id"] == BASE + "id/project/simra"
    assert top(body, "lodz")["id"] == BASE + "id/place/lodz"
    gb, dk = top(body, "gb"), next(r for r in body["dk"]["result"] if r["id"] == six)
    assert gb["id"] == six
    assert {"id": f"property:{DEF}country", "value": True} in gb["features"]
    assert {"id": f"property:{DEF}country", "value": False} in dk["features"]
    assert dk["score"] <= gb["score"] - 25 and not dk["match"]
    assert body["all"]["result"] == []  # nothing is both a project and an organisation
    # properties this service does not know (Wikidata's P17, garbage) are ignored, not a 500
    assert top(body, "wikidata-pid")["id"] == BASE + "id/project/sic"


@pytest.mark.anyio
async def test_json_body_and_get_forms(client: httpx.AsyncClient) -> None:
    batch = {"q0": {"query": "Denmark", "type": COUNTRY, "limit": 1}}
    posted = await client.post("/reconcile", json={"queries": batch})
    got = await client.get("/reconcile", params={"queries": json.dumps(batch)})
    for response in (posted, got):
        assert response.status_code == 200, response.text
        check("reconciliation-result-batch", response.json())
        assert [r["id"] for r in response.json()["q0"]["result"]] == [COUNTRY + "/DNK"]


@pytest.mark.anyio
async def test_bounds_and_malformed_batches(client: httpx.AsyncClient) -> None:
    many = {f"q{i}": {"query": "x"} for i in range(MAX_BATCH + 1)}
    too_many = await client.post("/reconcile", data={"queries": json.dumps(many)})
    assert too_many.status_code == 400 and str(MAX_BATCH) in too_many.json()["detail"]
    big = await reconcile(client, {"q": {"query": "Berlin", "limit": 10_000}})
    assert 0 < len(big["q"]["result"]) <= MAX_LIMIT
    for bad in ("not json", "[1, 2]", '{"q": {"quer": "x"}}', '{"q": {"query": "x", "limit": 0}}'):
        response = await client.post("/reconcile", data={"queries": bad})
        assert response.status_code == 400, bad
        assert response.headers["content-type"] == "application/problem+json"
    missing = await client.post("/reconcile", data={"query": "x"})
    assert missing.status_code == 400


@pytest.mark.anyio
async def test_suggest_entities_types_properties(client: httpx.AsyncClient) -> None:
    entities = await client.get("/reconcile/suggest/entity", params={"prefix": "Social Innov"})
    assert entities.status_code == 200
    check("suggest-entities-response", entities.json())
    ids = [r["id"] for r in entities.json()["result"]]
    assert BASE + "id/project/sic" in ids
    lodz = await client.get("/reconcile/suggest/entity", params={"prefix": "lodz"})
    check("suggest-entities-response", lodz.json())
    assert {BASE + "id/place/lodz", NUTS + "code/PL711"} <= {r["id"] for r in lodz.json()["result"]}
    page2 = await client.get(
        "/reconcile/suggest/entity", params={"prefix": "Social Innov", "cursor": 1}
    )
    assert [r["id"] for r in page2.json()["result"]][:3] == ids[1:4]
    types = await client.get("/reconcile/suggest/type", params={"prefix": "proj"})
    check("suggest-types-response", types.json())
    assert {"id": PROJECT, "name": "project"} in types.json()["result"]
    props = await client.get("/reconcile/suggest/property", params={"prefix": "coun"})
    check("suggest-properties-response", props.json())
    assert DEF + "country" in {r["id"] for r in props.json()["result"]}
    assert (
        await client.get("/reconcile/suggest/nothing", params={"prefix": "x"})
    ).status_code == 404


@pytest.mark.anyio
async def test_preview_is_a_framable_card(client: httpx.AsyncClient) -> None:
    response = await client.get("/reconcile/preview", params={"id": BASE + "id/project/sic"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "Social Innovation Community" in response.text
    assert "x-frame-options" not in response.headers  # OpenRefine shows it in an iframe
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert "<script" not in response.text
    code = await client.get("/reconcile/preview", params={"id": NUTS + "code/PL711"})
    assert code.status_code == 200 and "Łódź" in code.text
    unknown = await client.get("/reconcile/preview", params={"id": "<script>alert(1)</script>"})
    assert unknown.status_code == 404  # as JSON, never as HTML that would run it
    assert unknown.headers["content-type"] == "application/problem+json"
    # every other page still refuses to be framed
    assert (await client.get("/reconcile")).headers["x-frame-options"] == "DENY"


@pytest.mark.anyio
async def test_view_redirects_to_the_entity_page(client: httpx.AsyncClient) -> None:
    local = await client.get("/reconcile/view", params={"id": BASE + "id/project/sic"})
    assert (local.status_code, local.headers["location"]) == (
        303,
        "http://testserver/id/project/sic",
    )
    code = await client.get("/reconcile/view", params={"id": NUTS + "code/PL711"})
    assert (code.status_code, code.headers["location"]) == (303, NUTS + "code/PL711")
    elsewhere = await client.get("/reconcile/view", params={"id": "https://evil.example/"})
    assert elsewhere.status_code == 404  # not an open redirect


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
_query_like = st.dictionaries(
    st.sampled_from(["query", "type", "limit", "properties", "type_strict", "other"]),
    _json_values,
    max_size=5,
)


@example({"q": {"query": "x", "limit": float("inf")}})
@example({"q": {"query": "x", "limit": 1e300}})
@example({"q": {"query": " ", "properties": [{"pid": "p", "v": [{"id": 1}]}]}})
@settings(max_examples=300, deadline=None)
@given(st.one_of(_json_values, st.dictionaries(st.text(max_size=5), _query_like, max_size=6)))
def test_any_json_is_a_batch_or_an_input_error(value: object) -> None:
    """The batch parser never fails otherwise: what a client sends is parsed or refused (400)."""
    try:
        batch = parse_batch(value)
    except InputError:
        return
    assert len(batch) <= MAX_BATCH
    for query in batch.values():
        assert 1 <= query.limit <= MAX_LIMIT
        assert query.type_strict in ("any", "should", "all")
        assert all(isinstance(t, str) for t in query.types)
        assert query.text.strip() or query.properties
