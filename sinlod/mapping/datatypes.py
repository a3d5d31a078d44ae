"""CSVW datatypes: cell text → typed literal, or ``BadValue`` saying what was expected.

Each parser is built once per column (regexes compiled, formats read); the engine caches the
literal per distinct cell value.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import pyoxigraph as ox

from sinlod.errors import InputError
from sinlod.mapping.templates import SCHEME
from sinlod.namespaces import PREFIXES, expand

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
PARTIAL_DATE = PREFIXES["sinlod"] + "partialDate"

#: Terms are cached per distinct value; a cache is emptied when it grows past this size, so memory
#: stays bounded however many distinct values (e.g. row keys) a table has.
CACHE_LIMIT = 8_192


Vars = dict[str, Any]


class BadValue(ValueError):
    """A cell value that does not fit; ``expected`` completes "expected …, got "value"."""

    def __init__(self, expected: str) -> None:
        super().__init__(expected)
        self.expected = expected


def got(value: str | None) -> str:
    """How messages quote the value they received."""
    return "nothing" if value is None else json.dumps(value, ensure_ascii=False)


Parser = Callable[[str], ox.Literal]

_DATATYPE_ALIASES = {
    "number": "double",
    "binary": "base64Binary",
    "datetime": "dateTime",
    "any": "anyAtomicType",
}
_XSD_NAMES = {
    "anyAtomicType", "anyURI", "base64Binary", "boolean", "date", "dateTime", "dateTimeStamp",
    "decimal", "integer", "long", "int", "short", "byte", "nonNegativeInteger", "positiveInteger",
    "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte", "nonPositiveInteger",
    "negativeInteger", "double", "duration", "dayTimeDuration", "yearMonthDuration", "float",
    "gDay", "gMonth", "gMonthDay", "gYear", "gYearMonth", "hexBinary", "QName", "string",
    "normalizedString", "token", "language", "Name", "NMTOKEN", "time",
}  # fmt: skip
_SPECIAL = {"xml": RDF + "XMLLiteral", "html": RDF + "HTML", "json": PREFIXES["csvw"] + "JSON"}
_INTEGER_RANGES: dict[str, tuple[int | None, int | None, str]] = {
    "integer": (None, None, "an integer"),
    "long": (-(2**63), 2**63 - 1, "an integer"),
    "int": (-(2**31), 2**31 - 1, "an integer"),
    "short": (-(2**15), 2**15 - 1, "an integer"),
    "byte": (-128, 127, "an integer"),
    "nonNegativeInteger": (0, None, "a non-negative integer"),
    "positiveInteger": (1, None, "a positive integer"),
    "unsignedLong": (0, 2**64 - 1, "a non-negative integer"),
    "unsignedInt": (0, 2**32 - 1, "a non-negative integer"),
    "unsignedShort": (0, 2**16 - 1, "a non-negative integer"),
    "unsignedByte": (0, 255, "a non-negative integer"),
    "nonPositiveInteger": (None, 0, "a non-positive integer"),
    "negativeInteger": (None, -1, "a negative integer"),
}
_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_YEAR_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR_RE = re.compile(r"^\d{4}$")
_DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")
_TIME_RE = re.compile(r"^\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")
_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_DOUBLE_RE = re.compile(r"^[+-]?((\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|INF|NaN)$")
# Date field patterns of Unicode TR35 that CSVW allows in "format", longest first.
_DATE_FIELDS = [
    ("yyyy", r"(?P<y>\d{4})"),
    ("MM", r"(?P<m>\d{2})"),
    ("M", r"(?P<m>\d{1,2})"),
    ("dd", r"(?P<d>\d{2})"),
    ("d", r"(?P<d>\d{1,2})"),
    ("HH", r"(?P<H>\d{2})"),
    ("mm", r"(?P<i>\d{2})"),
    ("ss", r"(?P<s>\d{2})"),
]


def _dt(name: str) -> ox.NamedNode:
    return ox.NamedNode(XSD + name)


def datatype_parser(spec: Any, where: str) -> tuple[str, Parser | None]:
    """(datatype IRI, parser) for a CSVW ``datatype``; parser None means plain strings.

    Raises ``InputError`` (naming ``where``, the mapping and column) for an unknown datatype.
    """
    fmt: Any = None
    if isinstance(spec, dict):
        fmt = spec.get("format")
        base = spec.get("base", spec.get("@id", "string"))
    else:
        base = spec if spec is not None else "string"
    if not isinstance(base, str):
        raise InputError(f"{where}: datatype must be a name or an object, got {json.dumps(base)}")
    name = _DATATYPE_ALIASES.get(base, base)
    iri = expand(name)
    serial = isinstance(spec, dict) and spec.get(EXCEL_SERIAL) is not None
    if serial:
        if not isinstance(spec[EXCEL_SERIAL], bool):
            raise InputError(f'{where}: "{EXCEL_SERIAL}" must be true or false')
        serial = spec[EXCEL_SERIAL]
        if serial and name not in {"date", "dateTime", PARTIAL_DATE, "sinlod:partialDate"}:
            raise InputError(f'{where}: "{EXCEL_SERIAL}" applies to date datatypes only')
    if iri == PARTIAL_DATE:
        partial = _partial_date if fmt is None else _formatted_date("date", fmt, where)
        return iri, _excel_serial(partial, "date") if serial else partial
    if serial:
        iri, inner = datatype_parser({k: v for k, v in spec.items() if k != EXCEL_SERIAL}, where)
        assert inner is not None
        return iri, _excel_serial(inner, name)
    if iri.startswith(XSD):
        name = iri[len(XSD) :]
    elif name in _SPECIAL:
        return _SPECIAL[name], _plain(ox.NamedNode(_SPECIAL[name]))
    elif SCHEME.match(iri) and name not in _XSD_NAMES:
        return iri, _plain(ox.NamedNode(iri))
    if name not in _XSD_NAMES:
        raise InputError(f'{where}: unknown datatype "{base}"')
    if name in {"string", "normalizedString", "token", "Name", "NMTOKEN", "anyAtomicType"}:
        if fmt is not None:
            return XSD + name, _string_pattern(name, fmt, where)
        return XSD + name, None if name == "string" else _plain(_dt(name))
    return XSD + name, _typed_parser(name, fmt, where)


def _typed_parser(name: str, fmt: Any, where: str) -> Parser:
    if name in _INTEGER_RANGES:
        return _integer(name, _number_format(fmt, where))
    if name == "decimal":
        return _decimal(_number_format(fmt, where))
    if name in {"double", "float"}:
        return _double(name, _number_format(fmt, where))
    if name == "boolean":
        return _boolean(fmt, where)
    if name in {"date", "dateTime", "dateTimeStamp"} and fmt is not None:
        return _formatted_date(name, fmt, where)
    if name == "date":
        return _iso_date
    if name in {"dateTime", "dateTimeStamp"}:
        return _iso_datetime(name)
    if name == "gYear":
        return _pattern(_YEAR_RE, "gYear", "a year (YYYY)")
    if name == "gYearMonth":
        return _pattern(_YEAR_MONTH_RE, "gYearMonth", "a year and month (YYYY-MM)")
    if name == "time":
        return _pattern(_TIME_RE, "time", "a time (hh:mm:ss)")
    if name == "anyURI":
        return _any_uri
    return _plain(_dt(name))


def _string_pattern(name: str, fmt: Any, where: str) -> Parser:
    """CSVW: the ``format`` of a string datatype is a regular expression the whole value matches."""
    try:
        regex = re.compile(str(fmt))
    except re.error as exc:
        raise InputError(f"{where}: format is not a regular expression: {exc}") from exc
    datatype = None if name == "string" else _dt(name)

    def parse(text: str) -> ox.Literal:
        if not regex.fullmatch(text):
            raise BadValue(f"text matching {fmt}")
        return ox.Literal(text) if datatype is None else ox.Literal(text, datatype=datatype)

    return parse


def _plain(datatype: ox.NamedNode) -> Parser:
    def parse(text: str) -> ox.Literal:
        return ox.Literal(text, datatype=datatype)

    return parse


def _pattern(regex: re.Pattern[str], name: str, expected: str) -> Parser:
    datatype = _dt(name)

    def parse(text: str) -> ox.Literal:
        if not regex.match(text):
            raise BadValue(expected)
        return ox.Literal(text, datatype=datatype)

    return parse


_XSD_DATE, _XSD_GYM, _XSD_GY = _dt("date"), _dt("gYearMonth"), _dt("gYear")


def _partial_date(text: str) -> ox.Literal:
    """YYYY-MM-DD → xsd:date, YYYY-MM → xsd:gYearMonth, YYYY → xsd:gYear."""
    m = _DATE_RE.match(text)
    if m and _valid_date(int(m[1]), int(m[2]), int(m[3])):
        return ox.Literal(text, datatype=_XSD_DATE)
    m = _YEAR_MONTH_RE.match(text)
    if m and 1 <= int(m[2]) <= 12:
        return ox.Literal(text, datatype=_XSD_GYM)
    if _YEAR_RE.match(text):
        return ox.Literal(text, datatype=_XSD_GY)
    raise BadValue("a date (YYYY-MM-DD, YYYY-MM or YYYY)")


def _valid_date(y: int, m: int, d: int) -> bool:
    try:
        dt.date(y, m, d)
    except ValueError:
        return False
    return True


def _iso_date(text: str) -> ox.Literal:
    m = _DATE_RE.match(text)
    if not m or not _valid_date(int(m[1]), int(m[2]), int(m[3])):
        raise BadValue("a date (YYYY-MM-DD)")
    return ox.Literal(text, datatype=_XSD_DATE)


def _iso_datetime(name: str) -> Parser:
    datatype = _dt(name)

    def parse(text: str) -> ox.Literal:
        if not _DATETIME_RE.match(text):
            raise BadValue("a date and time (YYYY-MM-DDThh:mm:ss)")
        try:
            dt.datetime.fromisoformat(text)
        except ValueError:
            raise BadValue("a date and time (YYYY-MM-DDThh:mm:ss)") from None
        return ox.Literal(text, datatype=datatype)

    return parse


def _formatted_date(name: str, fmt: Any, where: str) -> Parser:
    if not isinstance(fmt, str):
        raise InputError(f'{where}: a date format must be a string such as "dd.MM.yyyy"')
    regex, pos = "", 0
    while pos < len(fmt):
        for token, group in _DATE_FIELDS:
            if fmt.startswith(token, pos):
                regex += group
                pos += len(token)
                break
        else:
            regex += re.escape(fmt[pos])
            pos += 1
    try:
        compiled = re.compile("^" + regex + "$")
    except re.error as exc:
        raise InputError(f'{where}: unsupported date format "{fmt}"') from exc
    if not {"y", "m", "d"} <= set(compiled.groupindex):
        hint = " (MM is the month; mm means minutes)" if "mm" in fmt and "M" not in fmt else ""
        raise InputError(f'{where}: date format "{fmt}" needs yyyy, MM (or M) and dd (or d){hint}')
    datatype = _dt(name)
    what = "a date" if name == "date" else "a date and time"

    def parse(text: str) -> ox.Literal:
        m = compiled.match(text)
        if m is None or not _valid_date(int(m["y"]), int(m["m"]), int(m["d"])):
            raise BadValue(f"{what} ({fmt})")
        lexical = f"{m['y']}-{int(m['m']):02d}-{int(m['d']):02d}"
        if name != "date":
            parts = m.groupdict()
            lexical += "T{:02d}:{:02d}:{:02d}".format(
                int(parts.get("H") or 0), int(parts.get("i") or 0), int(parts.get("s") or 0)
            )
        return ox.Literal(lexical, datatype=datatype)

    return parse


#: sinlod's extension on a date datatype: a cell holding a whole number is an Excel serial date.
EXCEL_SERIAL = "sinlod:excelSerial"
_SERIAL_RE = re.compile(r"^\d{1,7}(\.0+)?$")
#: Day 0 of Excel's 1900 date system as it counts after its fictitious 1900-02-29 (serial 60).
_EXCEL_EPOCH = dt.date(1899, 12, 30)
#: 9999-12-31, the last day Excel can show.
_EXCEL_LAST = 2_958_465


def excel_serial_date(serial: int) -> dt.date:
    """The day an Excel (1900 date system) serial number stands for.

    Excel counts 1900-01-01 as 1 and believes 1900 was a leap year, so serial 60 is a day that
    never was and every serial from 61 on is one more than the days since 1899-12-31.

    >>> [str(excel_serial_date(n)) for n in (1, 59, 61, 45292)]
    ['1900-01-01', '1900-02-28', '1900-03-01', '2024-01-01']
    """
    if serial < 1 or serial == 60 or serial > _EXCEL_LAST:
        raise ValueError(f"no day has the Excel serial number {serial}")
    return _EXCEL_EPOCH + dt.timedelta(days=serial if serial > 60 else serial + 1)


def _excel_serial(parser: Parser, name: str) -> Parser:
    """``parser``, but a cell that is a whole number is first read as an Excel serial date."""
    datatype = _dt("dateTime" if name == "dateTime" else "date")

    def parse(text: str) -> ox.Literal:
        if not _SERIAL_RE.match(text):
            return parser(text)
        try:
            day = excel_serial_date(int(text.split(".")[0]))
        except ValueError:
            raise BadValue("a date or an Excel serial date (1 to 2958465, not 60)") from None
        lexical = day.isoformat() + ("T00:00:00" if name == "dateTime" else "")
        return ox.Literal(lexical, datatype=datatype)

    return parse


@dataclass(frozen=True)
class _NumberFormat:
    group: str | None = None
    decimal: str = "."

    def normalise(self, text: str) -> str:
        if self.group:
            text = text.replace(self.group, "")
        if self.decimal != ".":
            text = text.replace(self.decimal, ".")
        return text


def _number_format(fmt: Any, where: str) -> _NumberFormat:
    """CSVW numeric ``format``: a pattern such as ``#,##0.00`` or {decimalChar, groupChar}."""
    if fmt is None:
        return _NumberFormat()
    if isinstance(fmt, str):
        return _NumberFormat(group="," if "," in fmt else None)
    if isinstance(fmt, dict):
        pattern = fmt.get("pattern", "")
        group = fmt.get("groupChar", "," if "," in str(pattern) else None)
        decimal = fmt.get("decimalChar", ".")
        if (
            not (group is None or isinstance(group, str))
            or not isinstance(decimal, str)
            or not decimal
        ):
            raise InputError(f"{where}: groupChar and decimalChar must be strings")
        return _NumberFormat(group=group or None, decimal=decimal)
    raise InputError(f"{where}: a number format must be a pattern or an object")


def _integer(name: str, number: _NumberFormat) -> Parser:
    low, high, expected = _INTEGER_RANGES[name]
    datatype = _dt(name)

    def parse(text: str) -> ox.Literal:
        raw = number.normalise(text)
        if not raw.lstrip("+-").isdigit() or not raw.isascii():
            raise BadValue(expected)
        value = int(raw)
        if (low is not None and value < low) or (high is not None and value > high):
            raise BadValue(expected)
        return ox.Literal(str(value), datatype=datatype)

    return parse


def _decimal(number: _NumberFormat) -> Parser:
    datatype = _dt("decimal")

    def parse(text: str) -> ox.Literal:
        raw = number.normalise(text)
        if not _NUMBER_RE.match(raw):
            raise BadValue("a decimal number")
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise BadValue("a decimal number") from None
        return ox.Literal(format(value, "f"), datatype=datatype)

    return parse


def _double(name: str, number: _NumberFormat) -> Parser:
    datatype = _dt(name)

    def parse(text: str) -> ox.Literal:
        raw = number.normalise(text)
        if not _DOUBLE_RE.match(raw):
            raise BadValue("a number")
        return ox.Literal(raw, datatype=datatype)

    return parse


def _boolean(fmt: Any, where: str) -> Parser:
    datatype = _dt("boolean")
    if fmt is None:
        truthy, falsy, expected = {"true", "1"}, {"false", "0"}, "true or false (or 1 or 0)"
    elif isinstance(fmt, str) and fmt.count("|") == 1:
        yes, no = fmt.split("|")
        truthy, falsy, expected = {yes}, {no}, f"{yes} or {no}"
    else:
        raise InputError(f'{where}: a boolean format looks like "yes|no", got {json.dumps(fmt)}')
    true, false = ox.Literal("true", datatype=datatype), ox.Literal("false", datatype=datatype)

    def parse(text: str) -> ox.Literal:
        if text in truthy:
            return true
        if text in falsy:
            return false
        raise BadValue(expected)

    return parse


_ANY_URI = _dt("anyURI")


def _any_uri(text: str) -> ox.Literal:
    if not SCHEME.match(text) or any(c in text for c in ' <>"{}|\\^`'):
        raise BadValue("an absolute IRI (https://...)")
    return ox.Literal(text, datatype=_ANY_URI)
