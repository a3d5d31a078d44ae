"""The shipped dataset (data/): it converts, validates, links only to snapshot codes, and answers
the competency questions it was built for with exactly the facts the seed documents state.

The SPARQL questions run over the converted quads in an in-memory Oxigraph store (one named graph
per record file, queried as their union), together with the reference snapshots of
data/reference/ in a graph of their own.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from decimal import Decimal

import pyoxigraph as ox
import pytest

from sinlod.config import PROJECT_ROOT, Settings
from sinlod.convert import Conversion, convert
from sinlod.validate import Report, validate

DATA = PROJECT_ROOT / "data"
RECORDS = DATA / "records"
MAPPINGS = DATA / "mappings"
REFERENCE = DATA / "reference"
#: The five seed documents, described (file, language, title, SHA-256); the texts are not shipped.
SOURCES = DATA / "sources.csv"
ID = "https://w3id.org/sinlod/id/"
REFERENCE_GRAPH = ox.NamedNode("urn:sinlod:test:reference")

PREFIXES = """
PREFIX sinlod: <https://w3id.org/sinlod/def/>
PREFIX roles: <https://w3id.org/sinlod/def/roles/>
PREFIX status: <https://w3id.org/sinlod/def/project-status/>
PREFIX eventtypes: <https://w3id.org/sinlod/def/event-types/>
PREFIX project: <https://w3id.org/sinlod/id/project/>
PREFIX organisation: <https://w3id.org/sinlod/id/organisation/>
PREFIX event: <https://w3id.org/sinlod/id/event/>
PREFIX network: <https://w3id.org/sinlod/id/network/>
PREFIX place: <https://w3id.org/sinlod/id/place/>
PREFIX grant: <https://w3id.org/sinlod/id/grant/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX m8g: <http://data.europa.eu/m8g/>
PREFIX schema: <https://schema.org/>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
"""


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings.load(env={}, store_path=tmp_path_factory.mktemp("store"))


@pytest.fixture(scope="module")
def conversion(settings: Settings) -> Conversion:
    return convert([RECORDS], settings)


@pytest.fixture(scope="module")
def report(conversion: Conversion, settings: Settings) -> Report:
    return validate(conversion, settings)


@pytest.fixture(scope="module")
def store(conversion: Conversion) -> ox.Store:
    store = ox.Store()
    store.extend(conversion.quads())
    for path in sorted(REFERENCE.glob("*.ttl")):
        store.load(path=str(path), format=ox.RdfFormat.TURTLE, to_graph=REFERENCE_GRAPH)
    return store


def rows(store: ox.Store, query: str) -> list[tuple[str | None, ...]]:
    """Solutions as tuples of plain values: IRIs under id/ shortened to ``type/key``."""
    solutions = store.query(PREFIXES + query, use_default_graph_as_union=True)
    assert isinstance(solutions, ox.QuerySolutions)
    return [tuple(_plain(term) for term in solution) for solution in solutions]


def _plain(term: ox.NamedNode | ox.Literal | ox.BlankNode | None) -> str | None:
    if term is None:
        return None
    return term.value.removeprefix(ID)


def ask(store: ox.Store, query: str) -> bool:
    result = store.query(PREFIXES + query, use_default_graph_as_union=True)
    assert isinstance(result, ox.QueryBoolean)
    return bool(result)


def csv_keys(table: str) -> Iterator[str]:
    lines = (RECORDS / f"{table}.csv").read_text(encoding="utf-8").splitlines()[1:]
    return (line.split(",", 1)[0] for line in lines if line)


# -- convert and validate --------------------------------------------------------------------


def test_every_record_file_has_its_mapping_and_back() -> None:
    records = {p.stem for p in RECORDS.glob("*.csv")}
    mappings = {p.name.removesuffix(".csv-metadata.json") for p in MAPPINGS.glob("*.json")}
    assert records == mappings
    assert len(records) == 14


def test_converts_with_zero_errors_and_one_graph_per_file(conversion: Conversion) -> None:
    graphs = {str(q.graph_name).strip("<>").rsplit("/", 1)[-1] for q in conversion.quads()}
    assert graphs == {p.stem for p in RECORDS.glob("*.csv")}
    assert conversion.triple_count() > 1400


def test_converting_twice_gives_identical_quads(conversion: Conversion, settings: Settings) -> None:
    again = convert([RECORDS], settings)
    assert set(again.quads()) == set(conversion.quads())


@pytest.mark.parametrize(
    ("table", "type_"),
    [
        ("documents", "document"),
        ("places", "place"),
        ("organisations", "organisation"),
        ("people", "person"),
        ("networks", "network"),
        ("projects", "project"),
        ("programmes", "programme"),
        ("grants", "grant"),
        ("events", "event"),
        ("involvements", "involvement"),
        ("memberships", "membership"),
        ("practice-cases", "practice-case"),
        ("quantities", "quantity"),
    ],
)
def test_every_row_becomes_a_typed_resource(store: ox.Store, table: str, type_: str) -> None:
    query = f'SELECT DISTINCT ?s {{ ?s a ?c FILTER STRSTARTS(STR(?s), "{ID}{type_}/") }}'
    typed = {s for (s,) in rows(store, query)}
    assert typed == {f"{type_}/{key}" for key in csv_keys(table)}


def test_validates_against_shapes_and_ontology_with_zero_violations(report: Report) -> None:
    violations = [f for f in report.findings if f.severity == "Violation"]
    assert violations == []
    assert report.conforms


# -- sources ---------------------------------------------------------------------------------


def test_every_fact_has_a_source_document(store: ox.Store) -> None:
    """Every described resource except the source documents names a dct:source document."""
    unsourced = rows(
        store,
        """SELECT DISTINCT ?s {
             GRAPH ?g { ?s a ?c }
             FILTER (?g != <urn:sinlod:test:reference>)
             FILTER NOT EXISTS { ?s dct:source ?d }
             FILTER NOT EXISTS {
               ?s a sinlod:Document . { ?s dct:identifier ?file } UNION { ?s foaf:page ?url } }
           }""",
    )
    assert unsourced == []
    dangling = rows(
        store, "SELECT DISTINCT ?d { ?s dct:source ?d FILTER NOT EXISTS { ?d a sinlod:Document } }"
    )
    assert dangling == []


def test_each_seed_is_one_document_named_by_its_file(store: ox.Store) -> None:
    seeds = rows(store, "SELECT ?d ?file ?lang { ?d dct:identifier ?file ; dct:language ?lang }")
    language = "http://publications.europa.eu/resource/authority/language/"
    assert sorted(seeds) == [
        ("document/seed-000", "000_2937fe9aa0d727c9.txt", language + "ENG"),
        ("document/seed-001", "001_960dae39768d93a1.txt", language + "NLD"),
        ("document/seed-002", "002_a63c92e0568ee040.txt", language + "NLD"),
        ("document/seed-003", "003_0aeac98cd8d5014d.txt", language + "ENG"),
        ("document/seed-004", "004_e2d423c07c1c8528.txt", language + "ENG"),
    ]
    manifest = _sources()
    assert {(file, language + row["language"]) for file, row in manifest.items()} == {
        (file, lang) for _, file, lang in seeds
    }


def _sources() -> dict[str, dict[str, str]]:
    with SOURCES.open(encoding="utf-8", newline="") as f:
        return {row["file"]: row for row in csv.DictReader(f)}


def test_the_source_manifest_describes_five_distinct_documents() -> None:
    manifest = _sources()
    assert len(manifest) == 5
    assert all(re.fullmatch(r"\d{3}_[0-9a-f]{16}\.txt", file) for file in manifest)
    assert all(re.fullmatch(r"[0-9a-f]{64}", row["sha256"]) for row in manifest.values())
    assert len({row["sha256"] for row in manifest.values()}) == 5
    assert {row["language"] for row in manifest.values()} == {"ENG", "NLD"}


def test_each_seed_document_carries_the_title_of_its_source(store: ox.Store) -> None:
    """The title the manifest gives, in the document's language, is the document's dct:title."""
    titles = rows(
        store,
        "SELECT ?file ?title (LANG(?title) AS ?l) { ?d dct:identifier ?file ; dct:title ?title }",
    )
    tag = {"ENG": "en", "NLD": "nl"}
    assert sorted(titles) == sorted(
        (file, row["title"], tag[row["language"]]) for file, row in _sources().items()
    )


def test_external_facts_cite_a_document_with_its_url(store: ox.Store) -> None:
    """The CORDIS facts on SIC's grant come from the CORDIS page, named by its URL."""
    assert rows(
        store,
        """SELECT ?url { grant:h2020-693883 dct:source ?d . ?d foaf:page ?url
                         FILTER CONTAINS(STR(?url), "cordis") }""",
    ) == [("https://cordis.europa.eu/project/id/693883",)]


def test_dutch_text_gives_dutch_labels(store: ox.Store) -> None:
    labels = rows(
        store,
        """SELECT ?label (LANG(?label) AS ?lang) {
             project:rresi skos:prefLabel ?label }""",
    )
    assert labels == [("Resilient Regional Ecosystems for Social Impact", "nl")]
    drift_team = rows(
        store,
        """SELECT DISTINCT (LANG(?label) AS ?lang) {
             ?m org:organization organisation:drift ; org:member ?p . ?p skos:prefLabel ?label }""",
    )
    assert drift_team == [("nl",)]


# -- competency questions --------------------------------------------------------------------


def test_who_coordinates_sic(store: ox.Store) -> None:
    assert rows(
        store,
        """SELECT ?org ?name {
             ?i sinlod:involvedIn project:sic ; m8g:role roles:coordinator ;
                m8g:hasParticipant ?org . ?org skos:prefLabel ?name }""",
    ) == [("organisation/aeidl", "AEIDL")]


def test_which_networks_each_sic_partner_facilitates(store: ox.Store) -> None:
    facilitated = rows(
        store,
        """SELECT ?org ?network {
             ?i sinlod:involvedIn project:sic ; m8g:role roles:partner ; m8g:hasParticipant ?org .
             ?m org:member ?org ; org:role roles:network-facilitator ; org:organization ?network .
             ?network dct:isPartOf project:sic }""",
    )
    assert sorted(facilitated) == [
        ("organisation/aeidl", "network/sic-social-economy-network"),
        ("organisation/dti", "network/sic-community-sharing-economy-network"),
        ("organisation/dti", "network/sic-corporate-social-innovation-network"),
        ("organisation/dti", "network/sic-inclusive-development-network"),
        ("organisation/nesta", "network/sic-dsi-network"),
        ("organisation/sinnergiak", "network/sic-public-sector-innovators-network"),
        ("organisation/unibo", "network/sic-cities-regions-network"),
        ("organisation/young-foundation", "network/sic-community-intermediaries-network"),
    ]


def test_sic_partner_roles_and_consortium_of_twelve(store: ox.Store) -> None:
    roles = rows(
        store,
        """SELECT ?org ?role {
             ?i sinlod:involvedIn project:sic ; m8g:hasParticipant ?org ; m8g:role ?role .
             ?org a sinlod:Organisation FILTER (?role != roles:partner) }""",
    )
    assert sorted((org, role.rsplit("/", 1)[-1]) for org, role in roles) == [  # type: ignore[union-attr]
        ("organisation/aeidl", "coordinator"),
        ("organisation/drift", "monitoring-and-evaluation"),
        ("organisation/nesta", "policy-coordinator"),
        ("organisation/six", "engagement-and-dissemination-coordinator"),
        ("organisation/tu-dortmund", "research-coordinator"),
        ("organisation/unibo", "learning-coordinator"),
        ("organisation/young-foundation", "experiments-coordinator"),
        ("organisation/zsi", "strategy-coordinator"),
    ]
    (count, members) = rows(
        store,
        """SELECT ?count (COUNT(DISTINCT ?org) AS ?members) {
             network:sic-consortium sinlod:memberCount ?count .
             ?m org:organization network:sic-consortium ; org:member ?org } GROUP BY ?count""",
    )[0]
    assert (count, members) == ("12", "12")


def test_events_in_brussels_in_2018_and_how_many_took_part(store: ox.Store) -> None:
    assert rows(
        store,
        """SELECT ?event ?date ?count {
             ?event a sinlod:Event ; sinlod:location place:brussels ;
                    sinlod:startDate ?date ; sinlod:participantCount ?count
             FILTER (YEAR(?date) = 2018) }""",
    ) == [("event/sic-conference-cities-regions-2018", "2018-04-16", "97")]


def test_who_organised_and_hosted_the_brussels_conference(store: ox.Store) -> None:
    roles = rows(
        store,
        """SELECT ?role ?org ?sameAs {
             ?i sinlod:involvedIn event:sic-conference-cities-regions-2018 ;
                m8g:role ?role ; m8g:hasParticipant ?org .
             ?org a sinlod:Organisation
             FILTER (?role IN (roles:organiser, roles:co-organiser, roles:host))
             OPTIONAL { ?org owl:sameAs ?sameAs } }""",
    )
    assert sorted(roles) == [
        ("https://w3id.org/sinlod/def/roles/co-organiser", "organisation/unibo", None),
        (
            "https://w3id.org/sinlod/def/roles/host",
            "organisation/committee-of-the-regions",
            "http://publications.europa.eu/resource/authority/corporate-body/COR",
        ),
        ("https://w3id.org/sinlod/def/roles/organiser", "organisation/reves", None),
    ]


def test_which_organisations_took_part_in_the_essen_workshop(store: ox.Store) -> None:
    taking_part = rows(
        store,
        """SELECT ?org {
             ?event sinlod:location place:essen ; sinlod:venue organisation:impact-hub-ruhr .
             ?i sinlod:involvedIn ?event ; m8g:role roles:participant ;
                m8g:hasParticipant ?org }""",
    )
    assert sorted(taking_part) == [
        ("organisation/buero-fuer-soziale-innovation",),
        ("organisation/helpteers",),
        ("organisation/s-inn",),
        ("organisation/wirtschaftsfoerderung-dortmund",),
    ]


def test_who_presented_what_at_the_essen_workshop(store: ox.Store) -> None:
    assert sorted(
        rows(
            store,
            """SELECT ?name {
                 ?i sinlod:involvedIn event:sike-workshop-impact-hub-ruhr-2019 ;
                    m8g:role roles:presenter ; m8g:hasParticipant ?p . ?p skos:prefLabel ?name
                 FILTER (LANG(?name) = "en") }""",
        )
    ) == [("Adrian Götting",), ("Sabrina Janz",)]


def test_drift_team_members_and_their_roles(store: ox.Store) -> None:
    team = rows(
        store,
        """SELECT ?name (GROUP_CONCAT(?role; separator=" ") AS ?roles) {
             ?m org:organization organisation:drift ; org:member ?p ; org:role roles:team-member .
             ?p skos:prefLabel ?name .
             ?i sinlod:involvedIn project:sic ; m8g:hasParticipant ?p ; m8g:role ?r
             FILTER (?r != roles:team-member)
             BIND (STRAFTER(STR(?r), "/roles/") AS ?role)
           } GROUP BY ?name""",
    )
    members = rows(
        store,
        """SELECT ?name { ?m org:organization organisation:drift ; org:member ?p .
                          ?p skos:prefLabel ?name }""",
    )
    assert sorted(team) == [
        ("Julia Wittmayer", "project-lead"),
        ("Marijke de Pous", "social-learning-lead"),
    ]
    assert sorted(members) == [
        ("Giorgia Silvestri",),
        ("Julia Wittmayer",),
        ("Marijke de Pous",),
        ("Sophie Buchel",),
    ]


def test_who_funds_sic_with_what_grant_and_amount(store: ox.Store) -> None:
    (funding,) = rows(
        store,
        """SELECT ?funder ?number ?amount ?currency ?programme {
             project:sic sinlod:fundedBy ?grant .
             ?grant sinlod:funder ?funder ; sinlod:grantNumber ?number ; schema:amount ?amount ;
                    sinlod:currency ?currency ; sinlod:fundingProgramme ?programme }""",
    )
    funder, number, amount, currency, programme = funding
    assert (funder, number, currency, programme) == (
        "organisation/european-commission",
        "693883",
        "EUR",
        "programme/horizon-2020",
    )
    assert Decimal(amount or "") == Decimal("2991906.25")
    assert ask(
        store,
        """ASK { organisation:european-commission owl:sameAs
                   <http://publications.europa.eu/resource/authority/corporate-body/COM> }""",
    )


def test_which_projects_cooperate_with_sike(store: ox.Store) -> None:
    assert rows(
        store,
        """SELECT DISTINCT ?project {
             { project:sike sinlod:cooperatesWith ?project }
             UNION { ?project sinlod:cooperatesWith project:sike } }""",
    ) == [("project/beyond-divides",)]


def test_rresi_consortium_and_its_imprecise_counts(store: ox.Store) -> None:
    members = rows(
        store,
        "SELECT ?org { ?m org:organization network:rresi-consortium ; org:member ?org }",
    )
    assert sorted(members) == [
        ("organisation/efeler-district",),
        ("organisation/euclid-network",),
        ("organisation/gemeente-den-haag",),
        ("organisation/provincie-antwerpen",),
        ("organisation/region-hannover",),
        ("organisation/social-enterprise-nl",),
        ("organisation/stad-aalst",),
    ]
    counts = rows(
        store,
        """SELECT ?property ?min ?text ?practices ?missions {
             project:rresi ?p ?q ; sinlod:goodPracticeCount ?practices ;
                              sinlod:missionCount ?missions .
             ?q a sinlod:Quantity ; schema:minValue ?min ; dct:description ?text
             FILTER (LANG(?text) = "en") BIND (STRAFTER(STR(?p), "/def/") AS ?property) }""",
    )
    assert sorted(counts) == [
        ("countryCount", "11", "more than ten", "15", "3"),
        ("participantCount", "201", "more than 200", "15", "3"),
    ]


def test_announced_and_planned_events_are_planned_with_their_source_and_no_date(
    store: ox.Store,
) -> None:
    """Seed 003 announces the summer school, seed 002 plans three missions: a status, no date."""
    planned = rows(
        store,
        """SELECT ?event ?file {
             ?event a sinlod:Event ; sinlod:status status:planned ; dct:source ?d .
             ?d dct:identifier ?file
             FILTER NOT EXISTS { ?event sinlod:startDate ?start } }""",
    )
    assert sorted(planned) == [
        ("event/rresi-mission-den-haag", "002_a63c92e0568ee040.txt"),
        ("event/rresi-mission-efeler-district", "002_a63c92e0568ee040.txt"),
        ("event/rresi-mission-provincie-antwerpen", "002_a63c92e0568ee040.txt"),
        ("event/sic-summer-school-2018", "003_0aeac98cd8d5014d.txt"),
    ]
    undated_and_not_planned = rows(
        store,
        """SELECT ?event { ?event a sinlod:Event
             FILTER NOT EXISTS { ?event sinlod:startDate ?start }
             FILTER NOT EXISTS { ?event sinlod:status status:planned } }""",
    )
    assert undated_and_not_planned == []


def test_where_the_2018_summer_school_may_take_place(store: ox.Store) -> None:
    """The source says "in San Sebastien or Samsun": two possible places, no location."""
    possible = rows(
        store,
        """SELECT ?place ?project ?name {
             event:sic-summer-school-2018 sinlod:possibleLocation ?place ;
               sinlod:partOfProject ?project ; dct:type eventtypes:summer-school ;
               skos:prefLabel ?name }""",
    )
    assert sorted(possible) == [
        ("place/samsun", "project/sic", "SIC Summer School in San Sebastien or Samsun"),
        ("place/san-sebastian", "project/sic", "SIC Summer School in San Sebastien or Samsun"),
    ]
    assert not ask(
        store,
        """ASK { event:sic-summer-school-2018 ?p ?place
                 FILTER (?p IN (sinlod:location, sinlod:venue, sinlod:startDate)) }""",
    )


def test_rresi_plans_three_missions_to_the_places_the_source_names(store: ox.Store) -> None:
    missions = rows(
        store,
        """SELECT ?place ?name {
             ?event sinlod:partOfProject project:rresi ; dct:type eventtypes:mission ;
                    sinlod:status status:planned ; sinlod:location ?place ;
                    skos:prefLabel ?name FILTER (LANG(?name) = "nl") }""",
    )
    assert sorted(missions) == [
        ("place/den-haag", "sociaal economische missie naar Den Haag"),
        ("place/efeler-district", "sociaal economische missie naar het Efeler-district in Turkije"),
        ("place/provincie-antwerpen", "sociaal economische missie naar provincie Antwerpen"),
    ]
    assert rows(store, "SELECT ?n { project:rresi sinlod:missionCount ?n }") == [("3",)]


def test_practice_cases_presented_at_the_brussels_conference(store: ox.Store) -> None:
    cases = rows(
        store,
        """SELECT ?case ?place {
             ?case sinlod:presentedAt event:sic-conference-cities-regions-2018 .
             OPTIONAL { ?case sinlod:location ?place } }""",
    )
    assert len(cases) == 8
    assert ("practice-case/brussels-community-land-trust", "place/brussels") in cases


def test_sic_dates_as_the_seed_states_them_and_cordis_dates_on_the_grant(store: ox.Store) -> None:
    dates = rows(
        store,
        """SELECT ?s ?start (DATATYPE(?start) AS ?type) ?end {
             VALUES ?s { project:sic grant:h2020-693883 }
             ?s sinlod:startDate ?start ; sinlod:endDate ?end }""",
    )
    xsd = "http://www.w3.org/2001/XMLSchema#"
    assert sorted(dates) == [
        ("grant/h2020-693883", "2016-02-01", xsd + "date", "2019-01-31"),
        ("project/sic", "2016-02", xsd + "gYearMonth", "2019-02"),
    ]


# -- links to EU data ------------------------------------------------------------------------


def test_every_nuts_link_is_a_code_of_the_nuts_2021_snapshot(store: ox.Store) -> None:
    links = rows(
        store,
        """SELECT ?place ?code ?inSnapshot {
             ?place sinlod:nutsRegion ?code
             BIND (EXISTS { GRAPH <urn:sinlod:test:reference> {
                 ?code skos:inScheme <http://data.europa.eu/nuts/scheme/2021> ; skos:notation ?n }
             } AS ?inSnapshot) }""",
    )
    assert len(links) == 23  # 20 places in regions + the countries BE, DE, NL (NUTS level 0)
    assert [link for link in links if link[2] != "true"] == []
    assert ("place/essen", "http://data.europa.eu/nuts/code/DEA13", "true") in links


def test_nuts_snapshot_is_a_closed_hierarchy(store: ox.Store) -> None:
    """Every skos:broader of a NUTS code points at a code of the snapshot one level up."""
    assert (
        rows(
            store,
            """SELECT ?code ?parent { GRAPH <urn:sinlod:test:reference> {
             ?code skos:broader ?parent ; skos:inScheme <http://data.europa.eu/nuts/scheme/2021>
             FILTER NOT EXISTS { ?parent skos:inScheme <http://data.europa.eu/nuts/scheme/2021> }
           } }""",
        )
        == []
    )


@pytest.mark.parametrize(
    ("prop", "scheme"),
    [
        ("sinlod:country", "http://publications.europa.eu/resource/authority/country"),
        ("owl:sameAs", "http://publications.europa.eu/resource/authority/corporate-body"),
        ("dct:language", "http://publications.europa.eu/resource/authority/language"),
    ],
)
def test_authority_table_links_are_codes_of_their_snapshot(
    store: ox.Store, prop: str, scheme: str
) -> None:
    linked = rows(
        store,
        f"""SELECT DISTINCT ?code ?inSnapshot {{
              ?s {prop} ?code FILTER STRSTARTS(STR(?code), "{scheme}/")
              BIND (EXISTS {{ GRAPH <urn:sinlod:test:reference> {{
                        ?code skos:inScheme <{scheme}> }} }} AS ?inSnapshot) }}""",
    )
    assert linked
    assert [code for code, present in linked if present != "true"] == []


def test_sic_links_to_its_cordis_project_page(store: ox.Store) -> None:
    assert ask(store, "ASK { project:sic foaf:page <https://cordis.europa.eu/project/id/693883> }")


def test_reference_snapshots_are_documented() -> None:
    readme = (REFERENCE / "README.md").read_text(encoding="utf-8")
    snapshots = sorted(p.name for p in REFERENCE.glob("*.ttl"))
    assert snapshots == [
        "corporate-body.ttl",
        "country.ttl",
        "language.ttl",
        "nuts-2021.ttl",
        "nuts-2024.ttl",
    ]
    for path in REFERENCE.glob("*.ttl"):
        assert f"`{path.name}`" in readme
