"""The complete reference tables: generated as committed, every code in, checked on every
validate and publish at the cell that holds it, and their labels shown on pages (issue 12)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from sinlod.config import PROJECT_ROOT, Settings
from sinlod.linking import load_tables
from sinlod.linking.check import closest
from sinlod.server import create_app
from sinlod.validate import validate
from tests.conftest import FIXTURES, run_cli

REFERENCE = PROJECT_ROOT / "data" / "reference"
STEWARD = FIXTURES / "linking" / "steward"
MAPPINGS = str(STEWARD / "mappings")
NUTS = "http://data.europa.eu/nuts/"
AUTHORITY = "http://publications.europa.eu/resource/authority/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
GRAPH = "https://w3id.org/sinlod/graph/places"
GRAPH_N = ox.NamedNode(GRAPH)


def test_committed_tables_are_what_make_reference_writes(tmp_path: Path) -> None:
    from sinlod.reference.build import write

    files = write(tmp_path)
    committed = sorted(p.name for p in REFERENCE.iterdir() if p.name != "README.md")
    assert sorted(files) == committed
    for name, text in files.items():
        assert (REFERENCE / name).read_text(encoding="utf-8") == text, f"{name} differs"


def test_tables_hold_every_code_and_nothing_else() -> None:
    tables = load_tables(REFERENCE)
    assert tables.from_index
    counts = {scheme: len(codes) for scheme, codes in tables.members.items()}
    assert counts == {
        NUTS + "scheme/2021": 1527,
        NUTS + "scheme/2024": 1528,
        AUTHORITY + "country": 249,
        AUTHORITY + "language": 7923,
        AUTHORITY + "corporate-body": 8,
    }
    for code in ("DEA32", "ES511", "PL711", "DEA13", "NL332", "BE", "HR050"):
        assert NUTS + "code/" + code in tables.members[NUTS + "scheme/2021"], code
    assert NUTS + "code/NL361" in tables.members[NUTS + "scheme/2024"]
    assert NUTS + "code/NL361" not in tables.members[NUTS + "scheme/2021"]
    for missing in ("DEZZZ", "DEZ", "UKM82", "TR321"):
        assert tables.schemes_of(NUTS + "code/" + missing) == [], missing
    assert tables.schemes_of(AUTHORITY + "country/DNK") == [AUTHORITY + "country"]
    assert tables.schemes_of(AUTHORITY + "country/XXX") == []
    assert AUTHORITY + "language/NLD" in tables.members[AUTHORITY + "language"]
    assert AUTHORITY + "corporate-body/COM" in tables.members[AUTHORITY + "corporate-body"]


def test_labels_in_the_eu_languages_and_nuts_hierarchy() -> None:
    tables = load_tables(REFERENCE)
    assert tables.label(AUTHORITY + "country/DNK") == "Denmark"
    assert tables.label(AUTHORITY + "country/DNK", "de") == "Dänemark"
    assert tables.label(AUTHORITY + "country/DNK", "nl") == "Denemarken"
    assert tables.label(AUTHORITY + "country/DNK", "fr") == "Danemark"
    assert tables.label(AUTHORITY + "language/NLD", "de") == "Niederländisch"
    assert tables.label(NUTS + "code/DEA13") == "Essen, Kreisfreie Stadt"
    assert tables.label(NUTS + "code/PL711") == "Miasto Łódź"
    store = ox.Store()
    store.load(path=str(REFERENCE / "nuts-2021.ttl"), format=ox.RdfFormat.TURTLE)
    chain = [
        s["p"].value.rsplit("/", 1)[1]
        for s in store.query(
            f"SELECT ?p WHERE {{ <{NUTS}code/PL711> <{SKOS}broader>+ ?p }} ORDER BY DESC(?p)"
        )  # type: ignore[union-attr]
    ]
    assert chain == ["PL71", "PL7", "PL"]
    assert store.query(f"ASK {{ <{NUTS}code/PL> <{SKOS}topConceptOf> <{NUTS}scheme/2021> }}")
    latin = store.query(f'ASK {{ <{NUTS}code/BG311> <{SKOS}altLabel> "Vidin"@bg-Latn }}')
    assert latin


def test_an_edited_table_is_not_judged_by_a_stale_index(tmp_path: Path) -> None:
    shutil.copytree(REFERENCE, tmp_path / "reference")
    country = tmp_path / "reference" / "country.ttl"
    country.write_text(
        country.read_text(encoding="utf-8")
        + f"c:XXX a skos:Concept ; skos:inScheme <{AUTHORITY}country> .\n",
        encoding="utf-8",
    )
    tables = load_tables(tmp_path / "reference")
    assert not tables.from_index
    assert AUTHORITY + "country/XXX" in tables.members[AUTHORITY + "country"]
    assert len(tables.members[AUTHORITY + "country"]) == 250


def test_closest_codes_share_the_longest_prefix() -> None:
    assert closest("DEA3X", ["DEA32", "DEA33", "DE", "FRA32", "DEB31", "DEA31"]) == [
        "DEA31",
        "DEA32",
        "DEA33",
    ]
    assert closest("QQQ", ["DEU", "NLD"]) == []


def test_a_stewards_real_codes_validate() -> None:
    result = run_cli(["validate", str(STEWARD / "good"), "--mappings", MAPPINGS])
    assert result.exit_code == 0, result.output
    assert result.output == "0 violations, 0 warnings, 0 infos\n"


def test_unknown_codes_fail_at_their_cells_with_the_fix() -> None:
    bad = STEWARD / "bad"
    result = run_cli(["validate", str(bad), "--mappings", MAPPINGS])
    assert result.exit_code == 1
    places, sources = f"{bad}/places.csv", f"{bad}/sources.csv"
    expected = [
        f'{places}:2 column "country": Violation: XXX is not a code of the EU country table'
        " (got country:XXX)",
        f'{places}:2 column "nuts": Violation: DEZZZ is a NUTS Extra-Regio code (territory outside'
        " any region), not a region a place lies in (got nuts:DEZZZ)",
        f'{places}:3 column "country": Violation: got `DE`, expected an ISO 3166-1 alpha-3 code:'
        " `DEU` (got country:DE)",
        f'{places}:3 column "nuts": Violation: DEA3X is not a code of NUTS 2021; did you mean'
        " DEA31, DEA32, DEA33? (got nuts:DEA3X)",
        f'{places}:4 column "nuts": Violation: NL361 is a NUTS 2024 code, but sinlod:nutsRegion'
        " links NUTS 2021 codes; in NUTS 2021 this region is NL332 (got nuts:NL361)",
        f'{places}:5 column "country": Violation: got `EL`, expected an ISO 3166-1 alpha-3 code:'
        " `GRC` (got country:EL)",
        f'{places}:6 column "body": Violation: XYZ is not a code of the EU corporate-body table'
        " (got corporate-body:XYZ)",
        f'{sources}:2 column "language": Violation: got `dut`, expected an ISO 639-3 code'
        " (ISO 639-2/T): `NLD` (got <http://publications.europa.eu/resource/authority/language/dut>)",
    ]
    lines = [line.strip() for line in result.output.splitlines() if "Violation" in line]
    assert lines == expected
    assert result.output.endswith("8 violations, 0 warnings, 0 infos\n")


def test_the_shape_pattern_finding_gives_way_to_the_code_check(settings: Settings) -> None:
    """`DE` breaks the country IRI pattern too; one finding per cell, the one with the fix."""
    report = validate(
        [STEWARD / "bad"],
        settings,
        mapping_files=sorted((STEWARD / "mappings").glob("*.json")),
    )
    typo = [f for f in report.findings if f.focus.endswith("/place/typo")]
    assert [(f.path.rsplit("/", 1)[1] if f.path else None, f.constraint) for f in typo] == [
        ("country", "sinlod:InReferenceTable"),
        ("nutsRegion", "sinlod:InReferenceTable"),
    ]


def test_shipped_links_are_codes_of_their_tables(settings: Settings) -> None:
    """Every place's NUTS link is a NUTS 2021 code, every country link a country code, and
    validate runs that check (no violation)."""
    from sinlod.inputs import read_inputs

    quads, _ = read_inputs([PROJECT_ROOT / "data" / "records"], settings)
    tables = load_tables(REFERENCE)
    nuts_2021 = tables.members[NUTS + "scheme/2021"]
    links = {
        (q.predicate.value.rsplit("/", 1)[1], q.object.value)
        for q in quads
        if isinstance(q.object, ox.NamedNode)
        and q.predicate.value.endswith(("/nutsRegion", "/country"))
    }
    nuts = {o for p, o in links if p == "nutsRegion"}
    countries = {o for p, o in links if p == "country"}
    assert len(nuts) == 22 and nuts <= nuts_2021  # distinct codes (Essen and Altenessen: DEA13)
    assert countries and countries <= tables.members[AUTHORITY + "country"]
    report = validate([PROJECT_ROOT / "data" / "records"], settings)
    assert report.counts()["Violation"] == 0


@pytest.mark.anyio
async def test_publish_refuses_unknown_codes_and_pages_show_labels(
    settings: Settings, tmp_path: Path
) -> None:
    config = tmp_path / "sinlod.toml"
    config.write_text(f'mappings_dir = "{MAPPINGS}"\nstore_path = "{settings.store_path}"\n')
    refused = run_cli(["--config", str(config), "publish", str(STEWARD / "bad")])
    assert refused.exit_code == 1
    assert "DEA3X is not a code of NUTS 2021; did you mean DEA31, DEA32, DEA33?" in refused.output
    done = run_cli(["--config", str(config), "publish", str(STEWARD / "good")])
    assert done.exit_code == 0, done.output
    app = create_app(dataclasses.replace(settings, update_token="t0ken"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            html = {"Accept": "text/html"}
            en = await client.get("/doc/place/denmark", headers=html)
            de = await client.get("/doc/place/denmark", headers={**html, "Accept-Language": "de"})
            essen = await client.get("/doc/place/essen", headers=html)
            # the server's write gate runs the same check
            auth = {"Authorization": "Bearer t0ken"}
            bad = await client.post("/sparql", data=_insert("DEZZZ"), headers=auth)
            good = await client.post("/sparql", data=_insert("DEA32"), headers=auth)
    assert bad.status_code == 422 and "DEZZZ is a NUTS Extra-Regio code" in bad.text
    assert good.status_code == 204, good.text
    assert en.status_code == 200
    assert "Denmark" in en.text and "country:DNK" not in en.text
    assert "Dänemark" in de.text
    assert "Essen, Kreisfreie Stadt" in essen.text and "nuts:DEA13" not in essen.text


def test_catalogue_names_its_countries_from_the_tables() -> None:
    from sinlod.catalog import Urls, catalog_triples

    store = ox.Store()
    reference = ox.NamedNode("https://w3id.org/sinlod/graph/reference")
    store.load(path=str(REFERENCE / "country.ttl"), format=ox.RdfFormat.TURTLE, to_graph=reference)
    org = ox.NamedNode("https://w3id.org/sinlod/id/organisation/dti")
    for code in ("DNK", "XKX"):  # XKX: not in the tables, named by its code
        link = ox.NamedNode(AUTHORITY + "country/" + code)
        store.add(ox.Quad(org, ox.NamedNode("https://w3id.org/sinlod/def/country"), link, GRAPH_N))
    urls = Urls(public="http://127.0.0.1:8000/", base="https://w3id.org/sinlod/")
    triples = catalog_triples(store, Settings.load(env={}), urls)
    labels = {
        (t.subject.value.rsplit("/", 1)[1], t.object.language, t.object.value)
        for t in triples
        if t.predicate.value == SKOS + "prefLabel"
        and t.subject.value.startswith(AUTHORITY + "country/")
        and isinstance(t.object, ox.Literal)
    }
    assert {("DNK", "en", "Denmark"), ("DNK", "de", "Dänemark"), ("XKX", "en", "XKX")} <= labels
    assert ("DNK", "en", "DNK") not in labels


def _insert(code: str) -> dict[str, str]:
    """A new place in the published steward graph, linked to NUTS ``code``."""
    place = f"<https://w3id.org/sinlod/id/place/p-{code.lower()}>"
    triples = (
        f"{place} a <https://w3id.org/sinlod/def/Place> ;"
        f' <{SKOS}prefLabel> "A place"@en ;'
        " <http://purl.org/dc/terms/source> <https://w3id.org/sinlod/id/document/register> ;"
        f" <https://w3id.org/sinlod/def/nutsRegion> <{NUTS}code/{code}> ."
    )
    return {"update": f"INSERT DATA {{ GRAPH <{GRAPH}> {{ {triples} }} }}"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
