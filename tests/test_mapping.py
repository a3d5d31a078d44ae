"""The CSVW engine: each table-description feature sinlod reads, and each message it gives."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import uritemplate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sinlod.errors import InputError, SourceLocation
from sinlod.mapping import (
    KeyIndex,
    Problems,
    TableRun,
    Template,
    compile_metadata,
    load_mapping,
    table_key,
)
from sinlod.records import Record, read_records
from sinlod.sourcemap import SourceMap

BASE = "https://example.org/lod/"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS_LABEL = "<http://www.w3.org/2004/02/skos/core#prefLabel>"
DEF = "https://w3id.org/sinlod/def/"
ROLE = "<http://data.europa.eu/m8g/role>"
TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"


def table(*columns: dict[str, Any], **schema: Any) -> dict[str, Any]:
    schema.setdefault("aboutUrl", "id/thing/{id}")
    return {
        "url": "things.csv",
        "tableSchema": {"columns": [{"name": "id", "suppressOutput": True}, *columns], **schema},
    }


def run(
    tmp_path: Path, metadata: dict[str, Any], csv: str, base: str = BASE
) -> tuple[list[str], list[str]]:
    """Map ``csv`` with ``metadata``: (N-Triples lines, error messages)."""
    (mapping,) = compile_metadata(metadata, base, "things.json")
    path = tmp_path / "things.csv"
    path.write_text(csv, encoding="utf-8")
    problems = Problems(100)
    engine = TableRun(mapping, "things.csv", KeyIndex(), problems)
    triples = [f"{t} ." for t in engine.triples(read_records(path, display_name="things.csv"))]
    return triples, [str(e) for e in problems.errors]


def thing(key: str) -> str:
    return f"<{BASE}id/thing/{key}>"


def test_about_url_resolves_against_the_configured_base_and_compact_iris_expand(
    tmp_path: Path,
) -> None:
    meta = table({"name": "name", "propertyUrl": "skos:prefLabel", "lang": "de"})
    triples, errors = run(tmp_path, meta, "id,name\nx,Grüß Gott\n")
    assert errors == []
    assert triples == [f'{thing("x")} {SKOS_LABEL} "Grüß Gott"@de .']


def test_another_base_gives_other_iris(tmp_path: Path) -> None:
    meta = table({"name": "name", "propertyUrl": "skos:prefLabel"})
    triples, _ = run(tmp_path, meta, "id,name\nx,X\n", base="http://localhost:8000/")
    assert triples == [f'<http://localhost:8000/id/thing/x> {SKOS_LABEL} "X" .']


def test_default_property_url_is_the_table_url_with_the_column_name(tmp_path: Path) -> None:
    triples, _ = run(tmp_path, table({"name": "full name"}), "id,full name\nx,X\n")
    assert triples == [f'{thing("x")} <{BASE}things.csv#full%20name> "X" .']


def test_header_matches_titles_in_any_order_and_case(tmp_path: Path) -> None:
    meta = table({"name": "label", "titles": ["Label", "Name"], "propertyUrl": "skos:prefLabel"})
    triples, errors = run(tmp_path, meta, "NAME,id\nX,x\n")
    assert errors == []
    assert triples == [f'{thing("x")} {SKOS_LABEL} "X" .']


@pytest.mark.parametrize(
    "datatype,cell,literal",
    [
        ("sinlod:partialDate", "2019-05-01", f'"2019-05-01"^^<{XSD}date>'),
        ("sinlod:partialDate", "2019-05", f'"2019-05"^^<{XSD}gYearMonth>'),
        ("sinlod:partialDate", "2019", f'"2019"^^<{XSD}gYear>'),
        ("date", "2019-05-01", f'"2019-05-01"^^<{XSD}date>'),
        ({"base": "date", "format": "dd.MM.yyyy"}, "01.05.2019", f'"2019-05-01"^^<{XSD}date>'),
        ({"base": "date", "format": "M/d/yyyy"}, "5/1/2019", f'"2019-05-01"^^<{XSD}date>'),
        ("dateTime", "2019-05-01T10:00:00Z", f'"2019-05-01T10:00:00Z"^^<{XSD}dateTime>'),
        ("gYear", "2019", f'"2019"^^<{XSD}gYear>'),
        ("integer", "+42", f'"42"^^<{XSD}integer>'),
        ("nonNegativeInteger", "0", f'"0"^^<{XSD}nonNegativeInteger>'),
        ({"base": "integer", "format": "#,##0"}, "1,200", f'"1200"^^<{XSD}integer>'),
        ("decimal", "12.50", f'"12.50"^^<{XSD}decimal>'),
        (
            {"base": "decimal", "format": {"groupChar": ".", "decimalChar": ","}},
            "1.234,5",
            f'"1234.5"^^<{XSD}decimal>',
        ),
        ("number", "1e3", f'"1e3"^^<{XSD}double>'),
        ("boolean", "1", f'"true"^^<{XSD}boolean>'),
        ({"base": "boolean", "format": "ja|nein"}, "nein", f'"false"^^<{XSD}boolean>'),
        ("anyURI", "https://example.org/a", f'"https://example.org/a"^^<{XSD}anyURI>'),
        ("string", " kept as is ", '" kept as is "'),
        ({"base": "string", "format": "[A-Z]{3}"}, "EUR", '"EUR"'),
        ("xsd:token", "t", f'"t"^^<{XSD}token>'),
    ],
)
def test_datatypes(tmp_path: Path, datatype: Any, cell: str, literal: str) -> None:
    meta = table({"name": "v", "propertyUrl": "rdf:value", "datatype": datatype})
    triples, errors = run(tmp_path, meta, f'id,v\nx,"{cell}"\n')
    assert errors == []
    assert triples == [
        f"{thing('x')} <http://www.w3.org/1999/02/22-rdf-syntax-ns#value> {literal} ."
    ]


@pytest.mark.parametrize(
    "datatype,cell,message",
    [
        ("sinlod:partialDate", "next spring", "expected a date (YYYY-MM-DD, YYYY-MM or YYYY)"),
        ("sinlod:partialDate", "2019-02-30", "expected a date (YYYY-MM-DD, YYYY-MM or YYYY)"),
        ("date", "2019-5-1", "expected a date (YYYY-MM-DD)"),
        ({"base": "date", "format": "dd.MM.yyyy"}, "2019-05-01", "expected a date (dd.MM.yyyy)"),
        ("dateTime", "2019-05-01", "expected a date and time (YYYY-MM-DDThh:mm:ss)"),
        ("gYear", "19", "expected a year (YYYY)"),
        ("integer", "12a", "expected an integer"),
        ("integer", "١٢", "expected an integer"),
        ("nonNegativeInteger", "-3", "expected a non-negative integer"),
        ("decimal", "12,5", "expected a decimal number"),
        ("number", "many", "expected a number"),
        ("boolean", "yes", "expected true or false (or 1 or 0)"),
        ({"base": "boolean", "format": "ja|nein"}, "yes", "expected ja or nein"),
        ("anyURI", "www.example.org", "expected an absolute IRI (https://...)"),
        ({"base": "string", "format": "[A-Z]{3}"}, "Euro", "expected text matching [A-Z]{3}"),
    ],
)
def test_bad_values_name_the_cell_the_expectation_and_the_value(
    tmp_path: Path, datatype: Any, cell: str, message: str
) -> None:
    meta = table({"name": "v", "propertyUrl": "rdf:value", "datatype": datatype})
    triples, errors = run(tmp_path, meta, f'id,v\nx,"{cell}"\n')
    assert triples == []
    assert errors == [f'things.csv:2 column "v": {message}, got "{cell}"']


def test_every_bad_cell_is_reported_not_just_the_first(tmp_path: Path) -> None:
    meta = table(
        {"name": "start", "propertyUrl": "sinlod:startDate", "datatype": "sinlod:partialDate"},
        {"name": "n", "propertyUrl": "rdf:value", "datatype": "integer"},
    )
    _, errors = run(tmp_path, meta, "id,start,n\na,soon,1\nb,2019,x\nc,later,y\n")
    assert errors == [
        'things.csv:2 column "start": expected a date (YYYY-MM-DD, YYYY-MM or YYYY), got "soon"',
        'things.csv:3 column "n": expected an integer, got "x"',
        'things.csv:4 column "start": expected a date (YYYY-MM-DD, YYYY-MM or YYYY), got "later"',
        'things.csv:4 column "n": expected an integer, got "y"',
    ]


def test_separator_gives_one_triple_per_item_for_literals_and_value_urls(tmp_path: Path) -> None:
    meta = table(
        {"name": "kw", "propertyUrl": "schema:keywords", "separator": ";"},
        {"name": "role", "propertyUrl": "m8g:role", "valueUrl": "roles:{role}", "separator": ";"},
    )
    triples, errors = run(tmp_path, meta, "id,kw,role\nx,a; b;,coordinator;partner\n")
    assert errors == []
    assert triples == [
        f'{thing("x")} <https://schema.org/keywords> "a" .',
        f'{thing("x")} <https://schema.org/keywords> "b" .',
        f"{thing('x')} {ROLE} <{DEF}roles/coordinator> .",
        f"{thing('x')} {ROLE} <{DEF}roles/partner> .",
    ]


def test_value_url_percent_encodes_cell_values(tmp_path: Path) -> None:
    meta = table(
        {"name": "place", "propertyUrl": "sinlod:location", "valueUrl": "id/place/{place}"}
    )
    triples, _ = run(tmp_path, meta, "id,place\nx,São Paulo/SP\n")
    assert triples == [f"{thing('x')} <{DEF}location> <{BASE}id/place/S%C3%A3o%20Paulo%2FSP> ."]


def test_required_null_and_default(tmp_path: Path) -> None:
    meta = table(
        {"name": "name", "propertyUrl": "skos:prefLabel", "required": True},
        {"name": "n", "propertyUrl": "rdf:value", "datatype": "integer", "null": ["n/a", "-"]},
        {"name": "status", "propertyUrl": "sinlod:status", "valueUrl": "sinlod:s/{status}",
         "default": "ongoing"},
    )  # fmt: skip
    triples, errors = run(tmp_path, meta, "id,name,n,status\nx,,n/a,\ny,Y,-,done\n")
    assert errors == [
        'things.csv:2 column "name": expected a value (the column is required), got nothing'
    ]
    assert triples == [
        f"{thing('x')} <{DEF}status> <{DEF}s/ongoing> .",
        f'{thing("y")} {SKOS_LABEL} "Y" .',
        f"{thing('y')} <{DEF}status> <{DEF}s/done> .",
    ]


def test_virtual_columns_suppressed_columns_and_column_about_url(tmp_path: Path) -> None:
    meta = table(
        {"name": "parent", "aboutUrl": "id/thing/{parent}", "propertyUrl": "dct:hasPart",
         "valueUrl": "id/thing/{id}"},
        {"name": "secret", "propertyUrl": "rdf:value", "suppressOutput": True},
        {"name": "type", "virtual": True, "propertyUrl": "rdf:type", "valueUrl": "sinlod:Thing"},
        {"name": "note", "virtual": True, "propertyUrl": "rdfs:comment", "default": "generated"},
    )  # fmt: skip
    triples, errors = run(tmp_path, meta, "id,parent,secret\nx,p,hidden\n")
    assert errors == []
    assert triples == [
        f"{thing('p')} <http://purl.org/dc/terms/hasPart> {thing('x')} .",
        f"{thing('x')} {TYPE} <{DEF}Thing> .",
        f'{thing("x")} <http://www.w3.org/2000/01/rdf-schema#comment> "generated" .',
    ]


def test_suppressed_table_gives_no_triples_but_its_keys(tmp_path: Path) -> None:
    meta = table({"name": "name", "propertyUrl": "skos:prefLabel"})
    meta["suppressOutput"] = True
    triples, errors = run(tmp_path, meta, "id,name\nx,X\n")
    assert (triples, errors) == ([], [])


def test_duplicate_primary_key(tmp_path: Path) -> None:
    meta = table({"name": "name", "propertyUrl": "skos:prefLabel"}, primaryKey="id")
    _, errors = run(tmp_path, meta, "id,name\nx,A\ny,B\nx,C\n")
    assert errors == [
        'things.csv:4 column "id": expected a unique id, got "x" again (first at things.csv:2)'
    ]


def test_missing_key_for_about_url(tmp_path: Path) -> None:
    meta = table({"name": "name", "propertyUrl": "skos:prefLabel"})
    triples, errors = run(tmp_path, meta, "id,name\n,A\n")
    assert triples == []
    assert errors == [
        'things.csv:2 column "id": expected a value (aboutUrl "id/thing/{id}" needs it), '
        "got nothing"
    ]


def test_header_column_unknown_and_mapping_column_missing(tmp_path: Path) -> None:
    meta = table({"name": "name", "propertyUrl": "skos:prefLabel"}, {"name": "start"})
    _, errors = run(tmp_path, meta, "id,name,colour\nx,X,red\ny,Y,blue\n")
    assert errors == [
        'things.csv:1 column "colour": unknown to the mapping things.json '
        "(its columns: id, name, start)",
        'things.csv:1: expected a column "start" (the mapping things.json declares it), '
        "the header has: id, name, colour",
    ]


def test_raw_iri_column_must_hold_an_absolute_iri(tmp_path: Path) -> None:
    meta = table({"name": "homepage", "propertyUrl": "foaf:homepage", "valueUrl": "{+homepage}"})
    triples, errors = run(
        tmp_path, meta, "id,homepage\nx,https://a.example/\ny,www.b.example\nz,https://[bad\n"
    )
    assert triples == [f"{thing('x')} <http://xmlns.com/foaf/0.1/homepage> <https://a.example/> ."]
    assert errors == [
        'things.csv:3 column "homepage": expected an absolute IRI (https://...), '
        'got "www.b.example"',
        'things.csv:4 column "homepage": expected an IRI, got "https://[bad"',
    ]


def test_source_map_remembers_the_cell_of_each_triple(tmp_path: Path) -> None:
    (mapping,) = compile_metadata(
        table({"name": "name", "propertyUrl": "skos:prefLabel"}), BASE, "m"
    )
    path = tmp_path / "things.csv"
    path.write_text("id,name\nx,X\n", encoding="utf-8")
    source_map = SourceMap()
    list(TableRun(mapping, "r/things.csv", KeyIndex(), Problems(), source_map=source_map)
         .triples(read_records(path, display_name="r/things.csv")))  # fmt: skip
    (where,) = source_map.locate(thing("x"), SKOS_LABEL, '"X"')
    assert str(where) == 'r/things.csv:2 column "name"'


@pytest.mark.parametrize(
    "metadata,message",
    [
        ({"tableSchema": {}}, 'm.json: a table description needs a "url" naming its records'),
        (
            {"url": "t.csv", "tableSchema": {"columns": [{"name": "a"}]}},
            'm.json table t.csv: no aboutUrl for column "a"; sinlod mints an IRI for every row '
            '(e.g. "aboutUrl": "id/project/{id}") and makes no blank nodes',
        ),
        (
            table({"name": "d", "datatype": "dat"}),
            'm.json table things.csv column "d": unknown datatype "dat"',
        ),
        (
            table({"name": "d", "valueUrl": "id/{nope}"}),
            'm.json table things.csv: valueUrl "id/{nope}" uses {nope}, which is not a column',
        ),
        (
            table({"name": "d", "valueUrl": "id/{d"}),
            'm.json table things.csv column "d": valueUrl is not a valid URI template: '
            "unbalanced braces in URI template 'id/{d'",
        ),
        (
            table({"name": "d", "lang": "not a tag"}),
            'm.json table things.csv column "d": "lang" is not a language tag: "not a tag"',
        ),
        (
            table({"name": "d"}, primaryKey="key"),
            'm.json table things.csv: primaryKey names column "key", which is not in the table',
        ),
    ],
)
def test_mapping_errors(metadata: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError) as info:
        compile_metadata(metadata, BASE, "m.json")
    assert str(info.value) == message


def test_load_mapping_reports_json_syntax_with_line(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text('{\n  "url": "x.csv",\n  oops\n}', encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_mapping(path, BASE, "m.json")
    assert str(info.value) == (
        "m.json:3: mapping is not valid JSON (column 3): "
        "Expecting property name enclosed in double quotes"
    )


def test_table_group_inherits_properties() -> None:
    group = {
        "aboutUrl": "id/x/{id}",
        "tables": [
            {"url": "a.csv", "tableSchema": {"columns": [{"name": "id"}]}},
            {
                "url": "sub/b.csv",
                "tableSchema": {"aboutUrl": "id/b/{id}", "columns": [{"name": "id"}]},
            },
        ],
    }
    a, b = compile_metadata(group, BASE, "g.json")
    assert (a.name, b.name) == ("a", "b")
    assert a.about is not None and a.about.expand({"id": "1"}) == BASE + "id/x/1"
    assert b.about is not None and b.about.expand({"id": "1"}) == BASE + "id/b/1"


def test_table_key() -> None:
    assert table_key("../records/practice-cases.csv") == "practice-cases"


values = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.lists(st.text(min_size=1, max_size=5), min_size=1, max_size=3),
)


@given(
    template=st.sampled_from(["id/x/{a}", "{+a}", "x{#a}", "id/{a}/{b}", "{a}?q={+b}", "{a}{b}"]),
    a=values,
    b=values,
)
def test_template_fast_path_agrees_with_uritemplate(template: str, a: Any, b: Any) -> None:
    """Simple expressions are expanded without uritemplate; the result must be the same.

    The templates start with an absolute IRI so that no relative resolution is involved.
    """
    template = "https://e.org/" + template
    variables = {k: v for k, v in {"a": a, "b": b}.items() if v is not None}
    expected = uritemplate.URITemplate(template).expand(variables)
    assert Template(template, "https://base.example/").expand({"a": a, "b": b}) == expected


def test_template_falls_back_to_uritemplate_for_other_operators() -> None:
    t = Template("id/search{?q,lang}", BASE)
    assert t.variables == ("q", "lang")
    assert t.expand({"q": "a b", "lang": None}) == BASE + "id/search?q=a%20b"


def test_mapping_json_roundtrip_of_the_fixture_mappings() -> None:
    folder = Path(__file__).parent / "fixtures" / "mappings"
    names = sorted(t.name for p in folder.glob("*.json") for t in load_mapping(p, BASE))
    assert names == ["involvements", "organisations", "projects"]
    json.loads((folder / "projects.csv-metadata.json").read_text(encoding="utf-8"))
    assert ox.NamedNode(BASE)  # the base used throughout is a valid IRI


def test_doctests() -> None:
    import doctest

    import sinlod.mapping.datatypes
    import sinlod.mapping.engine
    import sinlod.mapping.tables
    import sinlod.mapping.templates

    for module in (
        sinlod.mapping.datatypes,
        sinlod.mapping.engine,
        sinlod.mapping.tables,
        sinlod.mapping.templates,
    ):
        assert doctest.testmod(module).failed == 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=12,
)
keys = st.sampled_from(
    ["url", "tableSchema", "columns", "name", "titles", "aboutUrl", "propertyUrl", "valueUrl",
     "datatype", "lang", "null", "default", "separator", "required", "virtual", "primaryKey",
     "foreignKeys", "tables", "format", "base", "reference", "columnReference", "resource"]
)  # fmt: skip
metadata = st.recursive(
    st.none() | st.booleans() | st.text(max_size=12) | st.just("id/{id}") | st.just("string"),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(keys, children, max_size=5),
    max_leaves=25,
)


@given(doc=st.dictionaries(keys, metadata | json_values, max_size=6))
def test_arbitrary_metadata_gives_a_mapping_or_an_input_error(doc: dict[str, Any]) -> None:
    try:
        compile_metadata(doc, BASE, "m.json")
    except InputError:
        pass


column_props = st.dictionaries(
    st.sampled_from(
        ["name", "titles", "aboutUrl", "propertyUrl", "valueUrl", "datatype", "lang", "null",
         "default", "separator", "required", "virtual", "suppressOutput"]
    ),
    metadata | json_values,
    max_size=5,
)  # fmt: skip


@given(
    columns=st.lists(column_props, max_size=3),
    primary=metadata | json_values,
    foreign=metadata | json_values,
)
def test_arbitrary_column_descriptions_give_a_mapping_or_an_input_error(
    columns: list[Any], primary: Any, foreign: Any
) -> None:
    schema = {"aboutUrl": "id/{id}", "columns": [{"name": "id"}, *columns]}
    schema.update({"primaryKey": primary, "foreignKeys": foreign})
    try:
        compile_metadata({"url": "t.csv", "tableSchema": schema}, BASE, "m.json")
    except InputError:
        pass


datatypes = st.sampled_from(
    ["string", "integer", "decimal", "number", "boolean", "date", "dateTime", "gYear", "anyURI",
     "sinlod:partialDate", "nonNegativeInteger", "xsd:token", "json"]
)  # fmt: skip
formats = st.none() | st.text(max_size=8) | st.sampled_from(["dd.MM.yyyy", "yes|no", "#,##0"])
good_props = st.fixed_dictionaries(
    {},
    optional={
        "datatype": datatypes
        | st.builds(lambda b, f: {"base": b, "format": f}, datatypes, formats),
        "valueUrl": st.sampled_from(["{+a}", "id/{a}", "x:{b}", "{#b}", "id/{a}{?b}"]),
        "separator": st.sampled_from([";", "|", " "]),
        "null": st.sampled_from(["", "-", ["n/a", ""]]),
        "default": st.text(max_size=4),
        "required": st.booleans(),
        "lang": st.sampled_from(["en", "de-AT"]),
        "suppressOutput": st.booleans(),
        "aboutUrl": st.sampled_from(["id/{a}", "id/{b}/x"]),
    },
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    props=st.lists(good_props | column_props, min_size=2, max_size=2),
    cells=st.lists(st.lists(st.text(max_size=6), min_size=3, max_size=3), max_size=3),
)
def test_arbitrary_descriptions_and_cells_never_crash_the_engine(
    tmp_path: Path, props: list[dict[str, Any]], cells: list[list[str]]
) -> None:
    columns = [{**p, "name": name} for p, name in zip(props, ["a", "b"], strict=True)]
    for c in columns:
        c.pop("titles", None)
        c.pop("virtual", None)
    meta = {
        "url": "t.csv",
        "tableSchema": {"aboutUrl": "id/{id}", "columns": [{"name": "id"}, *columns]},
    }
    try:
        (mapping,) = compile_metadata(meta, BASE, "m.json")
    except InputError:
        return
    records = [
        Record(
            dict(zip(["id", "a", "b"], row, strict=True)),
            SourceLocation("t.csv", i + 2),
            ("id", "a", "b"),
        )
        for i, row in enumerate(cells)
    ]
    problems = Problems(1000)
    for triple in TableRun(mapping, "t.csv", KeyIndex(), problems).triples(records):
        assert isinstance(triple, ox.Triple)
