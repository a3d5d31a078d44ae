"""Value fixes declared in a mapping (issue 15): date and number formats, Excel serial dates,
trimming, ISO 3166 alpha-2 → alpha-3 and keys made from names, each checked through the engine."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sinlod.errors import InputError
from sinlod.mapping import BadValue, compile_metadata, datatype_parser
from sinlod.mapping.countries import ALPHA2_TO_ALPHA3
from sinlod.mapping.datatypes import excel_serial_date
from sinlod.mapping.languages import OTHER_TO_EU
from tests.test_mapping import BASE, XSD, run, table, thing

ROOT = Path(__file__).resolve().parent.parent
P = "<https://example.org/p>"


def col(name: str, **props: Any) -> dict[str, Any]:
    return {"name": name, "propertyUrl": "https://example.org/p", **props}


def literal(datatype: Any, text: str) -> ox.Literal:
    _iri, parser = datatype_parser(datatype, "test")
    assert parser is not None
    return parser(text)


# -- dates --------------------------------------------------------------------------------------

DATE_FORMATS = ["dd/MM/yyyy", "dd.MM.yyyy", "d.M.yyyy", "yyyy-MM-dd", "MM/dd/yyyy", "d-M-yyyy"]


def _render(day: dt.date, fmt: str) -> str:
    """``day`` written in a TR35 pattern (the inverse of what the parser reads)."""
    out = fmt
    for token, value in [
        ("yyyy", f"{day.year:04d}"),
        ("MM", f"{day.month:02d}"),
        ("dd", f"{day.day:02d}"),
        ("M", str(day.month)),
        ("d", str(day.day)),
    ]:
        out = out.replace(token, "\0" + value + "\0", 1) if token in out else out
    return out.replace("\0", "")


@given(day=st.dates(min_value=dt.date(1000, 1, 1)), fmt=st.sampled_from(DATE_FORMATS))
def test_a_date_written_in_a_format_reads_back_as_the_same_day(day: dt.date, fmt: str) -> None:
    got = literal({"base": "date", "format": fmt}, _render(day, fmt))
    assert (got.value, got.datatype.value) == (day.isoformat(), XSD + "date")


@given(day=st.dates(min_value=dt.date(1000, 1, 1)), fmt=st.sampled_from(DATE_FORMATS))
def test_partial_date_takes_a_format_too(day: dt.date, fmt: str) -> None:
    got = literal({"base": "sinlod:partialDate", "format": fmt}, _render(day, fmt))
    assert got.value == day.isoformat()


@given(text=st.text(max_size=12))
def test_a_formatted_date_parser_gives_a_real_day_or_bad_value(text: str) -> None:
    try:
        got = literal({"base": "date", "format": "dd/MM/yyyy"}, text)
    except BadValue as exc:
        assert exc.expected == "a date (dd/MM/yyyy)"
    else:
        day = dt.date.fromisoformat(got.value)
        assert f"{day.day:02d}/{day.month:02d}/{day.year:04d}" == text


def test_impossible_days_are_refused() -> None:
    with pytest.raises(BadValue):
        literal({"base": "date", "format": "dd/MM/yyyy"}, "31/02/2024")


def test_lower_case_mm_is_minutes_and_the_message_says_so() -> None:
    with pytest.raises(InputError, match=r"MM is the month; mm means minutes"):
        datatype_parser({"base": "date", "format": "dd/mm/yyyy"}, "m.json column start")


# -- Excel serial dates -------------------------------------------------------------------------


@given(day=st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(9999, 12, 31)))
def test_excel_serial_dates_round_trip(day: dt.date) -> None:
    serial = (day - dt.date(1899, 12, 30)).days  # how Excel numbers days from 1900-03-01 on
    assert excel_serial_date(serial) == day
    spec = {"base": "date", "format": "dd/MM/yyyy", "sinlod:excelSerial": True}
    assert literal(spec, str(serial)).value == day.isoformat()
    assert literal(spec, f"{serial}.0").value == day.isoformat()
    assert literal(spec, day.strftime("%d/%m/") + f"{day.year:04d}").value == day.isoformat()


def test_excel_serial_60_is_the_day_that_never_was() -> None:
    spec = {"base": "date", "sinlod:excelSerial": True}
    with pytest.raises(BadValue, match="not 60"):
        literal(spec, "60")
    assert literal(spec, "2024-05-01").value == "2024-05-01"  # ISO still reads
    assert literal({"base": "dateTime", "sinlod:excelSerial": True}, "45292").value == (
        "2024-01-01T00:00:00"
    )


def test_excel_serial_only_on_dates() -> None:
    with pytest.raises(InputError, match="applies to date datatypes only"):
        datatype_parser({"base": "integer", "sinlod:excelSerial": True}, "x")


# -- numbers ------------------------------------------------------------------------------------


def _group(digits: str, sep: str) -> str:
    head = len(digits) % 3 or 3
    return sep.join([digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)])


@given(
    value=st.decimals(min_value=0, max_value=10**12, places=2, allow_nan=False),
    chars=st.sampled_from([(".", ","), (",", "."), (" ", ","), ("'", ".")]),
)
def test_numbers_with_thousands_separators_read_back(
    value: Decimal, chars: tuple[str, str]
) -> None:
    group, decimal = chars
    whole, _, frac = f"{value:.2f}".partition(".")
    text = _group(whole, group) + decimal + frac
    spec = {"base": "decimal", "format": {"groupChar": group, "decimalChar": decimal}}
    assert Decimal(literal(spec, text).value) == value
    integer = literal({"base": "integer", "format": {"groupChar": group}}, _group(whole, group))
    assert int(integer.value) == int(whole)


def test_a_budget_in_the_dutch_way(tmp_path: Path) -> None:
    fmt = {"base": "decimal", "format": {"groupChar": ".", "decimalChar": ","}}
    triples, errors = run(tmp_path, table(col("budget", datatype=fmt)), "id,budget\nx,1.250.000\n")
    assert errors == []
    assert triples == [f'{thing("x")} {P} "1250000"^^<{XSD}decimal> .']


# -- sinlod:normalise ---------------------------------------------------------------------------


def test_country_alpha2_becomes_alpha3_before_the_value_url(tmp_path: Path) -> None:
    country = col(
        "land",
        valueUrl="http://publications.europa.eu/resource/authority/country/{land}",
        separator=";",
        **{"sinlod:normalise": ["trim", "country-alpha3"]},
    )
    triples, errors = run(tmp_path, table(country), "id,land\nx, nl ;DEU;EL\ny,XX\n")
    c = "http://publications.europa.eu/resource/authority/country/"
    assert triples == [f"{thing('x')} {P} <{c}{code}> ." for code in ("NLD", "DEU", "GRC")]
    assert errors == [
        'things.csv:3 column "land": expected an ISO 3166-1 country code (alpha-2 such as NL, '
        'or alpha-3 such as NLD), got "XX"'
    ]


def test_language_codes_become_the_eu_tables_codes(tmp_path: Path) -> None:
    language = col(
        "taal",
        valueUrl="http://publications.europa.eu/resource/authority/language/{taal}",
        **{"sinlod:normalise": ["trim", "language-alpha3"]},
    )
    triples, errors = run(tmp_path, table(language), "id,taal\na,nl\nb, NL \nc,ENG\nd,Dutch\n")
    lang = "http://publications.europa.eu/resource/authority/language/"
    assert triples == [
        f"{thing(k)} {P} <{lang}{c}> ." for k, c in zip("abc", ["NLD", "NLD", "ENG"], strict=True)
    ]
    assert errors == [
        'things.csv:5 column "taal": expected a language code (ISO 639-1 such as nl, or the EU '
        'code such as NLD), got "Dutch"'
    ]


def test_trim_and_collapse_spaces_on_strings(tmp_path: Path) -> None:
    name = col("name", lang="nl", **{"sinlod:normalise": "collapse-spaces"})
    triples, errors = run(tmp_path, table(name), 'id,name\nx,"  Stad   van  morgen "\n')
    assert (triples, errors) == ([f'{thing("x")} {P} "Stad van morgen"@nl .'], [])


def test_a_key_made_from_a_name_with_value_from_and_slug(tmp_path: Path) -> None:
    meta = {
        "url": "things.csv",
        "tableSchema": {
            "aboutUrl": "id/thing/{key}",
            "columns": [
                col("name", lang="de"),
                {
                    "name": "key",
                    "virtual": True,
                    "suppressOutput": True,
                    "sinlod:valueFrom": "name",
                    "sinlod:normalise": "slug",
                },
            ],
        },
    }
    triples, errors = run(tmp_path, meta, "name\nStadtteil Götting\n")
    assert errors == []
    assert triples == [f'<{BASE}id/thing/stadtteil-goetting> {P} "Stadtteil Götting"@de .']


@pytest.mark.parametrize(
    ("column", "message"),
    [
        ({"sinlod:normalise": "shout"}, 'unknown "sinlod:normalise" step "shout"; known steps: '),
        ({"sinlod:normalise": 3}, '"sinlod:normalise" must be a step name or a list of them'),
        ({"sinlod:valueFrom": "id"}, '"sinlod:valueFrom" is a column name, on a virtual column'),
        (
            {"virtual": True, "sinlod:valueFrom": "later"},
            '"sinlod:valueFrom" must name a column of the source declared before it',
        ),
    ],
)
def test_mistakes_in_fixes_are_mapping_errors(column: dict[str, Any], message: str) -> None:
    meta = table(col("x", **column), col("later"))
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        compile_metadata(meta, BASE, "m.json")


def test_the_language_table_agrees_with_the_reference_snapshot() -> None:
    hidden = "http://www.w3.org/2004/02/skos/core#hiddenLabel"
    path = ROOT / "data/reference/language.ttl"
    snapshot = {
        t.object.value: t.subject.value.rsplit("/", 1)[1]
        for t in ox.parse(path=path, format=ox.RdfFormat.TURTLE)
        if t.predicate.value == hidden
    }
    assert snapshot == OTHER_TO_EU


def test_the_country_table_agrees_with_the_reference_snapshot() -> None:
    hidden = "http://www.w3.org/2004/02/skos/core#hiddenLabel"
    snapshot = {
        t.object.value: t.subject.value.rsplit("/", 1)[1]
        for t in ox.parse(path=ROOT / "data/reference/country.ttl", format=ox.RdfFormat.TURTLE)
        if t.predicate.value == hidden and t.object.value.isalpha()  # not the numeric codes
    }
    assert snapshot == ALPHA2_TO_ALPHA3
