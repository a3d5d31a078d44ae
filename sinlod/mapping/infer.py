"""``sinlod mapping infer``: a CSVW description proposed for a spreadsheet the steward already has.

The model is read, not restated: the columns a table may have come from the shipped mappings
(``data/mappings``: property, value template, datatype, language), the words a header may use
from the ontology's labels in English, Dutch and German plus the everyday words of ``WORDS``,
and the properties a class may carry beyond its own mapping from the SHACL shapes (a project's
``sinlod:country``). Each header is matched to the closest word with rapidfuzz; each matched
column's values then choose its datatype and value fixes (a date format present in the cells,
thousands separators, ISO 3166 alpha-2 codes, addresses without ``https://``).

What the sheet says about another record one foreign key away (a project's budget is the amount
of the grant that funds it) becomes that record, minted from the row's key, with the type,
label and source it needs. Every record gets the sheet itself as its source document. Headers
that match nothing are kept as suppressed columns (so the sheet still converts) and listed in
``Proposal.unmatched`` for the steward.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rapidfuzz import fuzz

from sinlod.errors import InputError
from sinlod.mapping.countries import ALPHA2_TO_ALPHA3
from sinlod.mapping.datatypes import BadValue, datatype_parser
from sinlod.mapping.tables import table_key
from sinlod.minting import slugify
from sinlod.namespaces import expand
from sinlod.records import format_of, read_records, table_names

RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SUBCLASS_OF = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
LANGUAGE = "http://publications.europa.eu/resource/authority/language/"
DCT_SOURCE = "http://purl.org/dc/terms/source"
DATES = frozenset({"sinlod:partialDate", "date", "dateTime"})
NUMBERS = frozenset({"decimal", "integer", "double", "number", "nonNegativeInteger"})
SH = "http://www.w3.org/ns/shacl#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
LANGUAGES = ("en", "nl", "de")
#: A header must score this (0-100) against a word of the model to be matched.
THRESHOLD = 82.0
#: How many rows are looked at to guess a column's datatype.
SAMPLE_ROWS = 500

#: Everyday words stewards use in headers, per model column (its name without _en/_nl/_de) and
#: language; the ontology's labels are added to these. Lower case.
WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "id": {
        "en": ("id", "key", "identifier", "code", "ref"),
        "nl": ("kenmerk", "sleutel", "nummer", "code"),
        "de": ("kennung", "schlüssel", "kennziffer", "nummer"),
    },
    "name": {
        "en": ("name", "title", "project name", "organisation name", "organization name"),
        "nl": ("naam", "titel", "projectnaam", "organisatienaam", "naam project"),
        "de": ("name", "titel", "projektname", "bezeichnung", "organisationsname"),
    },
    "description": {
        "en": ("description", "summary", "about"),
        "nl": ("beschrijving", "omschrijving", "samenvatting"),
        "de": ("beschreibung", "kurzbeschreibung", "zusammenfassung"),
    },
    "acronym": {
        "en": ("acronym", "short name", "abbreviation"),
        "nl": ("acroniem", "afkorting", "korte naam"),
        "de": ("akronym", "abkürzung", "kurzname", "kürzel"),
    },
    "start": {
        "en": ("start", "start date", "begin", "from", "starts"),
        "nl": ("start", "startdatum", "begindatum", "begin", "vanaf"),
        "de": ("beginn", "start", "startdatum", "laufzeit von", "projektbeginn"),
    },
    "end": {
        "en": ("end", "end date", "until", "ends"),
        "nl": ("einde", "einddatum", "tot", "looptijd tot"),
        "de": ("ende", "enddatum", "laufzeit bis", "bis", "projektende"),
    },
    "page": {
        "en": ("website", "web site", "homepage", "url", "link", "web page"),
        "nl": ("website", "webpagina", "webadres", "site"),
        "de": ("webseite", "internetseite", "website", "homepage", "internetadresse"),
    },
    "country": {"en": ("country",), "nl": ("land",), "de": ("land", "staat")},
    "amount": {
        "en": ("budget", "amount", "funding", "total budget", "grant amount"),
        "nl": ("budget", "bedrag", "subsidie", "begroting", "totaal budget"),
        "de": ("budget", "betrag", "fördersumme", "gesamtbudget", "fördervolumen"),
    },
    "currency": {"en": ("currency",), "nl": ("valuta", "munt"), "de": ("währung",)},
    "topics": {
        "en": ("topics", "themes", "keywords", "tags"),
        "nl": ("thema's", "themas", "onderwerpen", "trefwoorden"),
        "de": ("themen", "schlagwörter", "stichwörter"),
    },
    "participant_count": {
        "en": ("participants", "number of participants"),
        "nl": ("deelnemers", "aantal deelnemers"),
        "de": ("teilnehmer", "teilnehmerzahl", "anzahl teilnehmer"),
    },
}
#: Words that name a table (for choosing one when --table is not given), per table.
TABLE_WORDS: dict[str, tuple[str, ...]] = {
    "projects": ("project", "projekt"),
    "organisations": ("organisation", "organization", "organisatie", "organisation"),
    "events": ("event", "evenement", "veranstaltung"),
    "people": ("person", "persoon", "person"),
    "places": ("place", "plaats", "ort"),
    "grants": ("grant", "subsidie", "förderung"),
}
_LANG_SUFFIX = re.compile(r"[\s_(\[-]+(en|nl|de|EN|NL|DE)[)\]]?$")
_PARENS = re.compile(r"\([^)]*\)|\[[^]]*\]")
_DATE_FORMATS = (
    "yyyy-MM-dd",
    "d/M/yyyy",
    "d.M.yyyy",
    "d-M-yyyy",
    "M/d/yyyy",
)


@dataclass
class ModelColumn:
    """A column the model offers for a table: its shipped CSVW description and the words for it."""

    table: str
    key: str  # the shipped column name, e.g. name_nl
    description: dict[str, Any]
    words: dict[str, set[str]]  # language → words
    lang: str | None  # the language of its literals (name_nl → nl)
    via: str | None = None  # the foreign-key column of the target table that leads here


@dataclass
class Match:
    header: str
    column: ModelColumn
    score: float
    language: str | None


@dataclass
class Proposal:
    """What ``infer_mapping`` proposes: the CSVW description and what the steward must look at."""

    table: str
    metadata: dict[str, Any]
    matched: list[tuple[str, str, float]] = field(default_factory=list)  # header, column, score
    unmatched: list[str] = field(default_factory=list)
    #: What the values of each unmatched header look like ("dates (dd/MM/yyyy)", "text").
    kinds: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def report(self) -> str:
        """The steward's summary: what each header became and what was left unmatched."""
        lines = [f"table: {self.table}"]
        lines += [f'  "{h}" -> {c} ({s:.0f})' for h, c, s in self.matched]
        if self.unmatched:
            lines.append("not matched (kept as suppressed columns; edit the mapping to use them):")
            lines += [f'  "{h}": {self.kinds.get(h, "text")}' for h in self.unmatched]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


def _norm(text: str) -> str:
    text = _PARENS.sub(" ", text).casefold().replace("_", " ").replace("-", " ")
    return " ".join(re.sub(r"[^\w' ]+", " ", text).split())


class Model:
    """The tables of the shipped mappings, with the ontology's labels and the shapes' paths."""

    def __init__(self, mappings_dir: Path, ontology_file: Path, shape_files: Iterable[Path]):
        self.tables: dict[str, dict[str, Any]] = {}
        for path in sorted(mappings_dir.glob("*.json")):
            doc = json.loads(path.read_text(encoding="utf-8"))
            self.tables[table_key(doc["url"])] = doc
        labels: dict[str, dict[str, set[str]]] = {}
        self.parents: dict[str, set[str]] = {}
        for t in ox.parse(path=ontology_file, format=ox.RdfFormat.TURTLE):
            o = t.object
            if t.predicate.value == RDFS_LABEL and isinstance(o, ox.Literal) and o.language:
                labels.setdefault(t.subject.value, {}).setdefault(o.language, set()).add(o.value)
            elif t.predicate.value == SUBCLASS_OF and isinstance(o, ox.NamedNode):
                self.parents.setdefault(t.subject.value, set()).add(o.value)
        self.labels = labels
        self.paths = _shape_paths(shape_files)

    def schema(self, table: str) -> dict[str, Any]:
        schema: dict[str, Any] = self.tables[table]["tableSchema"]
        return schema

    def type_of(self, table: str) -> str | None:
        for c in self.schema(table)["columns"]:
            if c.get("virtual") and expand(c.get("propertyUrl", "")) == RDF_TYPE:
                return str(c["valueUrl"])
        return None

    def columns(self, table: str) -> list[ModelColumn]:
        """What a sheet of ``table`` may hold: its own columns, those its shapes allow from other
        tables' mappings, and the columns of tables one foreign key away."""
        # The sheet itself is every record's source (see _virtual_columns): no source column.
        own = [
            self._column(table, c)
            for c in self.schema(table)["columns"]
            if not c.get("virtual") and expand(c.get("propertyUrl", "")) != DCT_SOURCE
        ]
        props = {expand(c.description.get("propertyUrl", "")) for c in own} | {DCT_SOURCE}
        borrowed: list[ModelColumn] = []
        classes = self._with_superclasses(expand(self.type_of(table) or ""))
        for path in sorted({p for c in classes for p in self.paths.get(c, ())}):
            if path in props:
                continue
            for other in self.tables:
                for c in self.schema(other)["columns"]:
                    if not c.get("virtual") and expand(c.get("propertyUrl", "")) == path:
                        borrowed.append(self._column(table, c))
                        props.add(path)
                        break
                if path in props:
                    break
        linked: list[ModelColumn] = []
        for fk in self.schema(table).get("foreignKeys", []):
            target = table_key(fk["reference"]["resource"])
            if target == table or target not in self.tables or target == "documents":
                continue
            for c in self.schema(target)["columns"]:
                prop = expand(c.get("propertyUrl", ""))
                if c.get("virtual") or c.get("suppressOutput") or prop in props or c.get("lang"):
                    continue
                if c.get("valueUrl") and "{" in c["valueUrl"] and "id/" in c["valueUrl"]:
                    continue  # a reference onwards: two hops is too far to guess
                column = self._column(target, c)
                column.via = fk["columnReference"]
                linked.append(column)
        return own + borrowed + linked

    def _with_superclasses(self, cls: str) -> set[str]:
        """``cls`` and every class it is a subclass of (the shapes of Agent apply to Person)."""
        found, todo = {cls}, [cls]
        while todo:
            for parent in self.parents.get(todo.pop(), ()):
                if parent not in found:
                    found.add(parent)
                    todo.append(parent)
        return found

    def _column(self, table: str, c: dict[str, Any]) -> ModelColumn:
        key = str(c["name"])
        m = re.match(r"^(.*)_(en|nl|de)$", key)
        stem, lang = (m.group(1), m.group(2)) if m else (key, None)
        words: dict[str, set[str]] = {code: set() for code in LANGUAGES}
        words["en"].add(_norm(stem))
        for code, given in WORDS.get(stem, {}).items():
            words[code].update(given)
        prop = expand(c.get("propertyUrl", ""))
        if stem not in {"name", "description"}:  # their properties' labels are too general
            for code, items in self.labels.get(prop, {}).items():
                if code in words:
                    words[code].update(_norm(i) for i in items)
        return ModelColumn(table, key, dict(c), words, lang)


def _shape_paths(files: Iterable[Path]) -> dict[str, set[str]]:
    """Property paths (plain IRIs) each class's node shapes constrain."""
    triples = [t for f in files for t in ox.parse(path=f, format=ox.RdfFormat.TURTLE)]
    by_subject: dict[Any, list[ox.Triple]] = {}
    for t in triples:
        by_subject.setdefault(t.subject, []).append(t)
    out: dict[str, set[str]] = {}
    for ts in by_subject.values():
        targets = [
            t.object.value
            for t in ts
            if t.predicate.value == SH + "targetClass" and isinstance(t.object, ox.NamedNode)
        ]
        for target in targets:
            for t in ts:
                if t.predicate.value != SH + "property":
                    continue
                for p in by_subject.get(t.object, []):
                    if p.predicate.value == SH + "path" and isinstance(p.object, ox.NamedNode):
                        out.setdefault(target, set()).add(p.object.value)
    return out


def _score(header: str, column: ModelColumn) -> tuple[float, str | None]:
    """How well ``header`` names ``column`` (0-100), and the language of the best word."""
    h = _norm(_LANG_SUFFIX.sub("", header))
    best, lang = 0.0, None
    for code, words in column.words.items():
        for w in words:
            s = float(fuzz.ratio(h, w))
            if len(w) >= 4 and w in h.split() + [h.replace(" ", "")]:
                s = max(s, 95.0)
            elif len(w) >= 4 and " " not in w and (h.endswith(w) or h.startswith(w)):
                s = max(s, 90.0)  # a compound: "Projectcode", "Einddatum"
            elif len(w) >= 5 and len(h) >= len(w):  # a longer header around the word
                s = max(s, fuzz.partial_ratio(h, w) * 0.9)
            if s > best:
                best, lang = s, code
    return best, lang


def _header_language(header: str) -> str | None:
    m = _LANG_SUFFIX.search(header)
    return m.group(1).lower() if m else None


def match_headers(
    headers: list[str],
    columns: list[ModelColumn],
    values: dict[str, list[str]] | None = None,
) -> list[Match]:
    """The best one-to-one matches of headers to model columns above ``THRESHOLD``; with
    ``values``, only to columns whose datatype the header's cells fit ("Subsidiedatum" holds
    dates, so it is not the amount of a subsidy)."""
    scored = []
    for header in headers:
        for column in columns:
            s, lang = _score(header, column)
            if s >= THRESHOLD and (values is None or _values_fit(column, values[header])):
                scored.append((s, header, column, lang))
    scored.sort(key=lambda x: (-x[0], headers.index(x[1])))
    sheet_language = Counter(lang for _s, _h, _c, lang in scored if lang).most_common(1)
    default_lang = sheet_language[0][0] if sheet_language else "en"
    taken_headers: set[str] = set()
    taken_columns: set[tuple[str, str]] = set()
    out: list[Match] = []
    for s, header, column, lang in scored:
        if header in taken_headers:
            continue
        want = _header_language(header) or (lang if lang != "en" else None) or default_lang
        if column.lang is not None and column.lang != want:
            continue  # name_en is not the column for a Dutch "naam"
        key = (column.table, column.key)
        if key in taken_columns:
            continue
        taken_headers.add(header)
        taken_columns.add(key)
        out.append(Match(header, column, s, column.lang))
    return sorted(out, key=lambda m: headers.index(m.header))


# -- values ---------------------------------------------------------------------------------------


def _fits(datatype: Any, values: list[str]) -> bool:
    _iri, parser = datatype_parser(datatype, "infer")
    if parser is None:
        return True
    try:
        for v in values:
            parser(v)
    except BadValue:
        return False
    return True


def _date_datatype(values: list[str], shipped: Any) -> Any:
    """The shipped date datatype if the cells fit it, else a format the cells are written in."""
    if not values or _fits(shipped, values):
        return shipped
    if all(v.isdigit() for v in values) and _fits(
        {"base": "date", "sinlod:excelSerial": True}, values
    ):
        return {"base": "date", "sinlod:excelSerial": True}
    for fmt in _DATE_FORMATS:
        spec: dict[str, Any] = {"base": "date", "format": fmt}
        if _fits(spec, [v for v in values if not v.isdigit()]):
            if any(v.isdigit() for v in values):
                spec["sinlod:excelSerial"] = True
            if _fits(spec, values):
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


def _number_datatype(values: list[str], shipped: Any) -> Any:
    """The shipped number datatype, with groupChar/decimalChar when the cells use them."""
    if not values or _fits(shipped, values):
        return shipped
    base = shipped.get("base") if isinstance(shipped, dict) else shipped
    for regex, group, decimal in _GROUPED:
        if any(regex.match(v) for v in values):
            spec = {"base": base, "format": {"groupChar": group, "decimalChar": decimal}}
            if _fits(spec, values):
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
        date = _date_datatype(values, {"base": "date"})
        if _fits(date, values):
            return date, f"dates ({date.get('format', 'yyyy-MM-dd')})"
    for base in ("integer", "decimal"):
        number = _number_datatype(values, base)
        if _fits(number, values):
            return number, f"numbers ({values[0]})"
    return None, "text"


def _values_fit(column: ModelColumn, values: list[str]) -> bool:
    """Whether the cells fit the column's datatype, with the formats they are written in."""
    datatype = column.description.get("datatype")
    base = datatype.get("base") if isinstance(datatype, dict) else datatype
    if datatype is None or not values:
        return True
    if base in DATES:
        datatype = _date_datatype(values, datatype)
    elif base in NUMBERS:
        datatype = _number_datatype(values, datatype)
    return _fits(datatype, values)


def _describe(m: Match, name: str, values: list[str], notes: list[str]) -> dict[str, Any]:
    """The CSVW column for a matched header: the shipped description, fitted to the cells."""
    c: dict[str, Any] = {"name": name, "titles": m.header}
    c |= {k: v for k, v in m.column.description.items() if k not in {"name", "titles", "required"}}
    value_url = c.get("valueUrl")
    if isinstance(value_url, str) and "{" in value_url:
        c["valueUrl"] = value_url.replace("{" + m.column.key + "}", "{" + name + "}")
        c["valueUrl"] = c["valueUrl"].replace("{+" + m.column.key + "}", "{+" + name + "}")
    datatype = c.get("datatype")
    base = datatype.get("base") if isinstance(datatype, dict) else datatype
    steps: list[str] = []
    if base in DATES:
        c["datatype"] = _date_datatype(values, datatype)
    elif base in NUMBERS:
        c["datatype"] = _number_datatype(values, datatype)
    elif isinstance(value_url, str) and value_url.startswith("country:"):
        steps = ["trim", "upper"]
        if any(v.strip().upper() in ALPHA2_TO_ALPHA3 for v in values):
            steps.append("country-alpha3")
    elif isinstance(value_url, str) and expand(value_url).startswith(LANGUAGE):
        steps = ["trim", "upper"]
        if any(len(v.strip()) == 2 or v.strip().islower() for v in values):
            steps = ["trim", "language-alpha3"]
    elif isinstance(value_url, str) and value_url.startswith("{+"):
        steps = ["trim"]
        if any(not re.match(r"^[a-z][a-z0-9+.-]*:", v.strip(), re.I) for v in values):
            steps.append("web-address")
    if steps:
        c["sinlod:normalise"] = steps
    if c.get("datatype") is not None and not _fits(c["datatype"], values):
        notes.append(f'"{m.header}": some values do not fit {json.dumps(c["datatype"])}')
    return c


# -- the proposal -------------------------------------------------------------------------------


def _sample(
    path: Path, sheet: str | None, display: str, reading: dict[str, str | None]
) -> tuple[list[str], dict[str, list[str]]]:
    headers: list[str] = []
    values: dict[str, list[str]] = {}
    records = read_records(path, sheet=sheet, display_name=display, **reading)
    for n, record in enumerate(records):
        if not headers:
            headers = [h for h in record.columns if h]
            values = {h: [] for h in headers}
        for h in headers:
            v = record.values.get(h)
            if v is not None and v.strip():
                values[h].append(v.strip())
        if n >= SAMPLE_ROWS:
            break
    if not headers:
        raise InputError(f"{display}: no header and no rows to propose a mapping for")
    return headers, values


def _variable(header: str, taken: set[str]) -> str:
    base = slugify(header).replace("-", "_") or "column"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def infer_mapping(
    path: Path,
    model: Model,
    *,
    table: str | None = None,
    sheet: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    display_name: str | None = None,
) -> Proposal:
    """Propose a CSVW description for the CSV or XLSX sheet at ``path``.

    ``encoding`` and ``delimiter`` say how a CSV file is read, as for ``sinlod convert``.

    ``table`` is a table of the model (``projects``; a singular or the class name works too),
    else the table whose columns the headers match best. Raises ``InputError`` for an unreadable
    file, an unknown table or a workbook with several sheets and no ``sheet``.
    """
    display = display_name or str(path)
    kind = format_of(path, display)
    if kind not in {"csv", "xlsx"}:
        raise InputError(f"{display}: mapping infer reads CSV and XLSX sheets, not {kind}")
    if kind == "xlsx" and sheet is None:
        sheets = table_names(path, display_name=display)
        if len(sheets) > 1:
            raise InputError(f"{display}: the workbook has sheets {', '.join(sheets)}; use --sheet")
        sheet = sheets[0]
    reading = {"encoding": encoding, "delimiter": delimiter}
    headers, values = _sample(path, sheet, display, reading)
    name = _table(table, model, headers, values)
    matches = match_headers(headers, model.columns(name), values)
    return _proposal(name, model, path, sheet, headers, values, matches)


def _table(
    table: str | None, model: Model, headers: list[str], values: dict[str, list[str]]
) -> str:
    if table is not None:
        wanted = table.casefold().removeprefix("sinlod:")
        for name in model.tables:
            kind = (model.type_of(name) or "").rsplit(":", 1)[-1].casefold()
            if wanted in {name, name.rstrip("s"), kind} or (
                name == "people" and wanted == "person"
            ):
                return name
        known = ", ".join(sorted(model.tables))
        raise InputError(f'unknown table "{table}"; the model has: {known}')

    def fit(name: str) -> float:
        score = sum(
            m.score for m in match_headers(headers, model.columns(name), values) if not m.column.via
        )
        words = TABLE_WORDS.get(name, ())
        # "Naam organisatie", "Projectnaam" say what the rows are; "Plaats" alone is a column
        named = [_norm(h) for h in headers]
        return score + 50 * sum(any(w in h and w != h for w in words) for h in named)

    return max(sorted(model.tables), key=fit)


def _proposal(
    table: str,
    model: Model,
    path: Path,
    sheet: str | None,
    headers: list[str],
    values: dict[str, list[str]],
    matches: list[Match],
) -> Proposal:
    schema = model.schema(table)
    about = str(schema["aboutUrl"])
    url = sheet if sheet is not None else path.name
    proposal = Proposal(table, {})
    taken: set[str] = set()
    by_header = {m.header: m for m in matches}
    columns: list[dict[str, Any]] = []
    key_var: str | None = None
    name_var: tuple[str, str | None] | None = None
    for header in headers:
        m = by_header.get(header)
        var = _variable(m.column.key if m else header, taken)
        if m is None:
            proposal.unmatched.append(header)
            datatype, proposal.kinds[header] = guess(values[header])
            column = {"name": var, "titles": header, "suppressOutput": True}
            columns.append(column | ({"datatype": datatype} if datatype else {}))
            continue
        proposal.matched.append((header, f"{m.column.table}.{m.column.key}", m.score))
        if m.column.key == "id" and m.column.via is None:
            key_var = var
            columns.append(
                {"name": var, "titles": header, "suppressOutput": True, "required": True}
                | {"sinlod:normalise": "slug"}
            )
            continue
        column = _describe(m, var, values[header], proposal.notes)
        if m.column.via is not None:
            column["aboutUrl"] = _about(model, m.column.table, "{key}")
        columns.append(column)
        if m.column.key.startswith("name") and m.column.via is None and name_var is None:
            name_var = (var, m.column.lang)
    if key_var is None:
        if name_var is None:
            raise InputError(
                f"{url}: no column gives each row a key (an id, code or name): sinlod mints an "
                "IRI for every row from its own identifier; add such a column or use --table"
            )
        key_var = _variable("key", taken)
        columns.append(
            {"name": key_var, "virtual": True, "suppressOutput": True}
            | {"sinlod:valueFrom": name_var[0], "sinlod:normalise": "slug"}
        )
        proposal.notes.append(f'each row\'s key is made from "{name_var[0]}" (sinlod:valueFrom)')
    own_about = about.replace("{id}", "{" + key_var + "}")
    columns = [_rekey(c, key_var) for c in columns]
    document = "id/document/" + (slugify(path.stem + (f"-{sheet}" if sheet else "")) or "sheet")
    virtual = _virtual_columns(model, table, matches, key_var, name_var, document, path, sheet)
    columns += [c | {"name": _variable(c["name"], taken)} for c in virtual]
    proposal.metadata = {
        "@context": "http://www.w3.org/ns/csvw",
        "url": url,
        "dc:title": f"{model.tables[table].get('dc:title', table)} from {path.name}",
        "dc:description": "Proposed by sinlod mapping infer; review before use.",
        "tableSchema": {"aboutUrl": own_about, "columns": columns},
    }
    return proposal


def _about(model: Model, table: str, key: str) -> str:
    return str(model.schema(table)["aboutUrl"]).replace("{id}", key)


def _rekey(column: dict[str, Any], key_var: str) -> dict[str, Any]:
    if "aboutUrl" in column:
        column["aboutUrl"] = column["aboutUrl"].replace("{key}", "{" + key_var + "}")
    return column


def _virtual_columns(
    model: Model,
    table: str,
    matches: list[Match],
    key_var: str,
    name_var: tuple[str, str | None] | None,
    document: str,
    path: Path,
    sheet: str | None,
) -> list[dict[str, Any]]:
    """Type and source of each row; the linked records' type, label, source and link; the sheet
    as the source document."""
    out: list[dict[str, Any]] = [
        {"name": "rdf_type", "virtual": True, "propertyUrl": "rdf:type"}
        | {"valueUrl": model.type_of(table)},
        {"name": "source", "virtual": True, "propertyUrl": "dct:source", "valueUrl": document},
    ]
    for target, via in sorted({(m.column.table, m.column.via) for m in matches if m.column.via}):
        about = _about(model, target, "{" + key_var + "}")
        fk = next(c for c in model.schema(table)["columns"] if c["name"] == via)
        stem = target.rstrip("s")
        out += [
            {"name": f"{stem}_link", "virtual": True, "propertyUrl": fk["propertyUrl"]}
            | {"valueUrl": about},
            {"name": f"{stem}_type", "virtual": True, "aboutUrl": about}
            | {"propertyUrl": "rdf:type", "valueUrl": model.type_of(target)},
            {"name": f"{stem}_source", "virtual": True, "aboutUrl": about}
            | {"propertyUrl": "dct:source", "valueUrl": document},
        ]
        if name_var is not None:
            label = {"name": f"{stem}_label", "virtual": True, "aboutUrl": about}
            label |= {"propertyUrl": "skos:prefLabel", "sinlod:valueFrom": name_var[0]}
            out.append(label | ({"lang": name_var[1]} if name_var[1] else {}))
    for m in matches:
        currency = re.search(r"\b(EUR|USD|GBP|CHF|SEK|DKK|PLN|CZK|HUF|NOK)\b|€", m.header)
        if m.column.key == "amount" and m.column.via and currency:
            about = _about(model, m.column.table, "{" + key_var + "}")
            code = "EUR" if currency.group(0) == "€" else currency.group(0)
            out.append(
                {"name": "currency", "virtual": True, "aboutUrl": about}
                | {"propertyUrl": "sinlod:currency", "default": code}
            )
    title = path.name + (f" [{sheet}]" if sheet else "")
    out += [
        {"name": "document_type", "virtual": True, "aboutUrl": document}
        | {"propertyUrl": "rdf:type", "valueUrl": "sinlod:Document"},
        {"name": "document_title", "virtual": True, "aboutUrl": document}
        | {"propertyUrl": "dct:title", "default": title},
    ]
    return out
