"""``sinlod mapping infer`` on steward-style sheets (issue 15): Dutch and German headers,
dd/mm/yyyy and dd.MM.yyyy dates, an Excel serial date, "1.250.000" budgets, alpha-2 countries and
addresses without https://. The proposed mapping must convert and validate the sheet as it is."""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sinlod.config import Settings
from sinlod.convert import convert
from sinlod.errors import InputError
from sinlod.mapping import compile_metadata
from sinlod.mapping.infer import Model, infer_mapping, match_headers
from tests.conftest import FIXTURES, run_cli

STEWARD = FIXTURES / "steward"
ID = "https://w3id.org/sinlod/id/"
DEF = "https://w3id.org/sinlod/def/"
COUNTRY = "http://publications.europa.eu/resource/authority/country/"
XSD = "http://www.w3.org/2001/XMLSchema#"


@pytest.fixture(scope="module")
def model() -> Model:
    s = Settings.load(env={})
    return Model(s.mappings_dir, s.ontology_file, s.shape_files())


def infer_to(tmp_path: Path, sheet: Path, *args: str) -> tuple[Path, str]:
    out = tmp_path / f"{sheet.stem}.json"
    result = run_cli(["mapping", "infer", str(sheet), "-o", str(out), *args])
    assert result.exit_code == 0, result.output
    return out, result.stderr


def values(quads: list[ox.Quad], subject: str, prop: str) -> list[str]:
    return sorted(
        str(q.object.value)
        for q in quads
        if q.subject.value == subject and q.predicate.value == prop
    )


def test_the_dutch_workbook_maps_the_obvious_columns_without_help(tmp_path: Path) -> None:
    mapping, report = infer_to(tmp_path, STEWARD / "projecten.xlsx")
    assert report.splitlines()[:7] == [
        "table: projects",
        '  "Projectnaam" -> projects.name_nl (100)',
        '  "Startdatum" -> projects.start (100)',
        '  "Einddatum" -> projects.end (100)',
        '  "Land" -> projects.country (100)',
        '  "Website" -> projects.page (100)',
        '  "Budget (EUR)" -> grants.amount (100)',
    ]
    assert "not matched" in report and '"Contactpersoon"' in report and '"Opmerkingen"' in report
    columns = {
        c.get("titles"): c for c in json.loads(mapping.read_text())["tableSchema"]["columns"]
    }
    assert columns["Startdatum"]["datatype"] == {
        "base": "date",
        "format": "dd/MM/yyyy",
        "sinlod:excelSerial": True,
    }
    assert columns["Budget (EUR)"]["datatype"]["format"] == {"groupChar": ".", "decimalChar": ","}
    assert columns["Land"]["sinlod:normalise"] == ["trim", "upper", "country-alpha3"]
    assert columns["Contactpersoon"]["suppressOutput"] is True


def test_the_proposed_mapping_converts_the_workbook_as_it_is(tmp_path: Path) -> None:
    mapping, _ = infer_to(tmp_path, STEWARD / "projecten.xlsx")
    settings = Settings.load(env={})
    quads = list(convert([STEWARD / "projecten.xlsx"], settings, mapping_files=[mapping]).quads())
    project = ID + "project/samen-sterk-utrecht"
    assert values(quads, project, DEF + "startDate") == ["2024-01-01"]  # an Excel serial
    assert values(quads, project, DEF + "endDate") == ["2026-12-31"]
    assert values(quads, project, DEF + "country") == [COUNTRY + "NLD"]  # " nl " in the sheet
    assert values(quads, ID + "grant/samen-sterk-utrecht", "https://schema.org/amount") == [
        "2000000.50"
    ]
    assert values(quads, ID + "grant/samen-sterk-utrecht", DEF + "currency") == ["EUR"]
    assert values(quads, project, DEF + "fundedBy") == [ID + "grant/samen-sterk-utrecht"]
    gent = ID + "project/wijkwerkplaats-gent"
    assert values(quads, gent, "http://xmlns.com/foaf/0.1/page") == [
        "https://www.wijkwerkplaats.example.be"
    ]
    assert values(quads, gent, "http://www.w3.org/2004/02/skos/core#prefLabel") == [
        "Wijkwerkplaats Gent"
    ]


@pytest.mark.parametrize("sheet", ["projecten.xlsx", "projekte.csv", "projects-en.csv"])
def test_the_sheet_validates_with_its_proposed_mapping(tmp_path: Path, sheet: str) -> None:
    mapping, _ = infer_to(tmp_path, STEWARD / sheet)
    result = run_cli(["validate", "-q", str(STEWARD / sheet), "--mapping", str(mapping)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "0 violations, 0 warnings, 0 infos"


def test_the_german_csv_gets_dd_mm_yyyy_with_dots_and_german_labels(tmp_path: Path) -> None:
    mapping, report = infer_to(tmp_path, STEWARD / "projekte.csv", "--table", "project")
    assert '"Projektname" -> projects.name_de (100)' in report
    assert '"Fördersumme" -> grants.amount (100)' in report
    columns = {
        c.get("titles"): c for c in json.loads(mapping.read_text())["tableSchema"]["columns"]
    }
    assert columns["Beginn"]["datatype"] == {"base": "date", "format": "dd.MM.yyyy"}
    assert columns["Webseite"]["sinlod:normalise"] == ["trim", "web-address"]
    quads = list(
        convert([STEWARD / "projekte.csv"], Settings.load(env={}), mapping_files=[mapping]).quads()
    )
    grant = ID + "grant/grenzenlos-lernen"
    assert values(quads, grant, "https://schema.org/amount") == ["2400000.50"]
    assert values(quads, ID + "project/reparaturcafe-ruhr", DEF + "country") == [COUNTRY + "DEU"]


def test_english_headers_with_language_suffixes(model: Model) -> None:
    headers = ["Name (EN)", "naam_nl", "Start date", "End date", "Homepage", "Country", "Budget"]
    matched = {m.header: m.column.key for m in match_headers(headers, model.columns("projects"))}
    assert matched == {
        "Name (EN)": "name_en",
        "naam_nl": "name_nl",
        "Start date": "start",
        "End date": "end",
        "Homepage": "page",
        "Country": "country",
        "Budget": "amount",
    }


def test_a_sheet_without_any_key_is_refused_with_the_reason(tmp_path: Path, model: Model) -> None:
    sheet = tmp_path / "dates.csv"
    sheet.write_text("Startdatum,Einddatum\n01/02/2020,03/04/2021\n", encoding="utf-8")
    with pytest.raises(InputError, match="no column gives each row a key"):
        infer_mapping(sheet, model, table="projects")


def test_a_workbook_with_several_sheets_needs_sheet(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["naam"])
    book.create_sheet("Tweede").append(["naam"])
    path = tmp_path / "two.xlsx"
    book.save(path)
    result = run_cli(["mapping", "infer", str(path)])
    assert result.exit_code == 2
    assert "the workbook has sheets Sheet, Tweede; use --sheet" in result.stderr


def test_the_english_csv_with_commas_for_thousands(tmp_path: Path) -> None:
    mapping, report = infer_to(tmp_path, STEWARD / "projects-en.csv")
    assert '"Total budget (€)" -> grants.amount (100)' in report
    assert report.splitlines()[-2:] == [
        '  "Notes": text',
        'note: each row\'s key is made from "name_en" (sinlod:valueFrom)',
    ]
    sheet = STEWARD / "projects-en.csv"
    quads = list(convert([sheet], Settings.load(env={}), mapping_files=[mapping]).quads())
    grant = ID + "grant/neighbourhood-energy-co-op"
    assert values(quads, grant, "https://schema.org/amount") == ["1250000.00"]
    assert values(quads, grant, DEF + "currency") == ["EUR"]
    project = ID + "project/open-workshop-lisbon"
    assert values(quads, project, DEF + "startDate") == ["2021-09-15"]
    assert values(quads, project, "http://xmlns.com/foaf/0.1/page") == ["https://owl.example.pt"]


cells = st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), max_size=12)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    headers=st.lists(
        cells | st.sampled_from(["naam", "Startdatum", "Land", "Budget", "Website", "id"]),
        min_size=1,
        max_size=6,
        unique=True,
    ),
    rows=st.lists(st.lists(cells, min_size=6, max_size=6), max_size=4),
)
def test_any_sheet_gives_a_mapping_that_compiles_or_an_input_error(
    tmp_path: Path, model: Model, headers: list[str], rows: list[list[str]]
) -> None:
    """Whatever the headers and cells, infer proposes a mapping sinlod can compile (and never
    crashes), or says why it cannot."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for row in rows:
        writer.writerow(row[: len(headers)])
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(out.getvalue(), encoding="utf-8")
    try:
        proposal = infer_mapping(sheet, model, table="projects", delimiter=",")
    except InputError:
        return
    (table,) = compile_metadata(proposal.metadata, "https://example.org/", "proposal.json")
    assert len(proposal.matched) + len(proposal.unmatched) == len(
        [c for c in table.columns if not c.virtual]
    )


def test_an_organisation_sheet_is_told_apart_from_places(tmp_path: Path, model: Model) -> None:
    """ "Plaats" alone is a column, not what the rows are; "Naam organisatie" says they are
    organisations, whose web page comes from the shapes of their superclass Agent."""
    sheet = tmp_path / "leden.csv"
    sheet.write_text(
        "Naam organisatie,Plaats,Land,Website\nDRIFT,Rotterdam,NL,https://drift.example.nl\n",
        encoding="utf-8",
    )
    proposal = infer_mapping(sheet, model)
    assert proposal.table == "organisations"
    assert [(h, c) for h, c, _ in proposal.matched] == [
        ("Naam organisatie", "organisations.name_nl"),
        ("Land", "organisations.country"),
        ("Website", "organisations.page"),
    ]
    assert proposal.unmatched == ["Plaats"]


def test_a_code_column_keys_the_rows_and_unmatched_columns_say_what_they_hold(
    tmp_path: Path, model: Model
) -> None:
    sheet = tmp_path / "lijst.csv"
    sheet.write_text(
        "Projectcode,Projectnaam,Gemeente,Subsidiedatum,Aantal vrijwilligers\n"
        "BK-01,Buurtkracht,NL,01/02/2021,1.250\nWW 02,Wijkwerkplaats,BE,15/09/2022,80\n",
        encoding="utf-8",
    )
    proposal = infer_mapping(sheet, model, table="projects")
    assert [(h, c) for h, c, _ in proposal.matched][:2] == [
        ("Projectcode", "projects.id"),
        ("Projectnaam", "projects.name_nl"),
    ]
    assert proposal.kinds == {
        "Gemeente": "country codes (ISO 3166 alpha-2)",
        "Subsidiedatum": "dates (dd/MM/yyyy)",
        "Aantal vrijwilligers": "numbers (1.250)",
    }
    quads = list(
        convert([sheet], Settings.load(env={}), mapping_files=[_write(tmp_path, proposal)]).quads()
    )
    assert {q.subject.value for q in quads if q.predicate.value.endswith("prefLabel")} == {
        ID + "project/bk-01",
        ID + "project/ww-02",
    }


def _write(tmp_path: Path, proposal: object) -> Path:
    path = tmp_path / "proposal.json"
    path.write_text(json.dumps(proposal.metadata), encoding="utf-8")  # type: ignore[attr-defined]
    return path


def test_doctests() -> None:
    import doctest

    import sinlod.mapping.cells
    import sinlod.mapping.fixes
    import sinlod.mapping.headers
    import sinlod.mapping.infer

    modules = [sinlod.mapping.infer, sinlod.mapping.cells, sinlod.mapping.headers]
    for module in (*modules, sinlod.mapping.fixes):
        assert doctest.testmod(module).failed == 0


def test_headers_named_like_the_added_columns_do_not_collide(tmp_path: Path, model: Model) -> None:
    sheet = tmp_path / "bron.csv"
    sheet.write_text("Projectnaam,source,rdf_type,document_title\nA,x,y,z\n", encoding="utf-8")
    proposal = infer_mapping(sheet, model, table="projects")
    names = [c["name"] for c in proposal.metadata["tableSchema"]["columns"]]
    assert len(names) == len(set(names))
    (table,) = compile_metadata(proposal.metadata, "https://example.org/", "p.json")
    assert table.column("source").suppress and not table.column("source_2").suppress


def test_a_sheet_with_headers_but_no_rows_is_refused_saying_so(tmp_path: Path) -> None:
    sheet = tmp_path / "projecten.csv"
    sheet.write_text("Projectnaam,Startdatum\n", encoding="utf-8")
    result = run_cli(["mapping", "infer", str(sheet)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {sheet}: a header row but no rows under it; add a few rows of real values "
        "(their dates, numbers and codes decide the mapping's formats)\n"
    )


def test_a_csv_with_a_byte_order_mark_is_matched_by_its_first_header(tmp_path: Path) -> None:
    sheet = tmp_path / "projecten.csv"
    sheet.write_bytes(b"\xef\xbb\xbfProjectnaam,Startdatum,Land\nBuurt,01/02/2024,NL\n")
    out, _ = infer_to(tmp_path, sheet)
    columns = json.loads(out.read_text(encoding="utf-8"))["tableSchema"]["columns"]
    assert [c.get("titles") for c in columns[:3]] == ["Projectnaam", "Startdatum", "Land"]
    assert columns[0]["name"] == "name_nl"
