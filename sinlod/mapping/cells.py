"""What a column's cells are: the datatype and format they are written in.

Used by ``sinlod mapping infer`` to fit a model column's datatype to a sheet (a date format
present in the cells, thousands and decimal separators, Excel serial dates) and to describe
the cells of headers it could not match. Every guess is checked by parsing all sampled cells
with the datatype parsers the conversion itself uses.
"""

from __future__ import annotations

import re
from typing import Any

from sinlod.mapping.countries import ALPHA2_TO_ALPHA3
from sinlod.mapping.datatypes import BadValue, datatype_parser

DATES = frozenset({"sinlod:partialDate", "date", "dateTime"})
NUMBERS = frozenset({"decimal", "integer", "double", "number", "nonNegativeInteger"})
_DATE_FORMATS = (
    "yyyy-MM-dd",
    "d/M/yyyy",
    "d.M.yyyy",
    "d-M-yyyy",
    "M/d/yyyy",
)


def fits(datatype: Any, values: list[str]) -> bool:
    _iri, parser = datatype_parser(datatype, "infer")
    if parser is None:
        return True
    try:
        for v in values:
            parser(v)
    except BadValue:
        return False
    return True


def date_datatype(values: list[str], shipped: Any) -> Any:
    """The shipped date datatype if the cells fit it, else a format the cells are written in."""
    if not values or fits(shipped, values):
        return shipped
    if all(v.isdigit() for v in values) and fits(
        {"base": "date", "sinlod:excelSerial": True}, values
    ):
        return {"base": "date", "sinlod:excelSerial": True}
    for fmt in _DATE_FORMATS:
        spec: dict[str, Any] = {"base": "date", "format": fmt}
        if fits(spec, [v for v in values if not v.isdigit()]):
            if any(v.isdigit() for v in values):
                spec["sinlod:excelSerial"] = True
            if fits(spec, values):
                if fmt.startswith(("d/", "d.", "d-")):
                    spec["format"] = _padded(fmt, values)
                return spec
    return shipped


def _padded(fmt: str, values: list[str]) -> str:
    """dd/MM/yyyy when every day and month has two digits (how the sheet writes them)."""
    parts = [re.split(r"[/.-]", v) for v in values if not v.isdigit()]
    if parts and all(len(p) == 3 and len(p[0]) == 2 and len(p[1]) == 2 for p in parts):
        return fmt.replace("d", "dd", 1).replace("M", "MM", 1)
    return fmt


_GROUPED = [
    (re.compile(r"^-?\d{1,3}(\.\d{3})+(,\d+)?$|^-?\d+,\d{1,2}$"), ".", ","),
    (re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$"), ",", "."),
    (re.compile(r"^-?\d{1,3}( \d{3})+(,\d+)?$"), " ", ","),
    (re.compile(r"^-?\d{1,3}('\d{3})+(\.\d+)?$"), "'", "."),
]


def number_datatype(values: list[str], shipped: Any) -> Any:
    """The shipped number datatype, with groupChar/decimalChar when the cells use them."""
    if not values or fits(shipped, values):
        return shipped
    base = shipped.get("base") if isinstance(shipped, dict) else shipped
    for regex, group, decimal in _GROUPED:
        if any(regex.match(v) for v in values):
            spec = {"base": base, "format": {"groupChar": group, "decimalChar": decimal}}
            if fits(spec, values):
                return spec
    return shipped


def guess(values: list[str]) -> tuple[Any, str]:
    """A datatype for cells no model column claims, and how the report describes them.

    >>> guess(["01/02/2021", "15/09/2022"])
    ({'base': 'date', 'format': 'dd/MM/yyyy'}, 'dates (dd/MM/yyyy)')
    >>> guess(["1.250.000", "480.000"])[1], guess(["NL", "be"])[1], guess([])[1]
    ('numbers (1.250.000)', 'country codes (ISO 3166 alpha-2)', 'empty')
    """
    if not values:
        return None, "empty"
    if all(re.match(r"^(https?://|www\.)\S+$", v, re.I) for v in values):
        return None, "web addresses"
    if all(v.strip().upper() in ALPHA2_TO_ALPHA3 for v in values):
        return None, "country codes (ISO 3166 alpha-2)"
    if not all(v.isdigit() for v in values):
        date = date_datatype(values, {"base": "date"})
        if fits(date, values):
            return date, f"dates ({date.get('format', 'yyyy-MM-dd')})"
    for base in ("integer", "decimal"):
        number = number_datatype(values, base)
        if fits(number, values):
            return number, f"numbers ({values[0]})"
    return None, "text"


def values_fit(column: dict[str, Any], values: list[str]) -> bool:
    """Whether the cells fit a CSVW column's datatype, in the formats they are written in."""
    datatype = column.get("datatype")
    base = datatype.get("base") if isinstance(datatype, dict) else datatype
    if datatype is None or not values:
        return True
    if base in DATES:
        datatype = date_datatype(values, datatype)
    elif base in NUMBERS:
        datatype = number_datatype(values, datatype)
    return fits(datatype, values)
