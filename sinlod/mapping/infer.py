"""``sinlod mapping infer``: a CSVW description proposed for a spreadsheet the steward already has.

Headers are matched to the model's columns (``headers.py``), each matched column's cells choose
its datatype and value fixes (``cells.py``: a date format present in the cells, thousands
separators; here: ISO 3166 alpha-2 codes, language codes, addresses without ``https://``).

What the sheet says about another record one foreign key away (a project's budget is the amount
of the grant that funds it) becomes that record, minted from the row's key, with the type,
label and source it needs. Every record gets the sheet itself as its source document. Headers
that match nothing are kept as suppressed columns (so the sheet still converts) and listed in
``Proposal.unmatched`` with what their cells look like.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sinlod.errors import InputError
from sinlod.mapping.cells import DATES, NUMBERS, date_datatype, fits, guess, number_datatype
from sinlod.mapping.countries import ALPHA2_TO_ALPHA3
from sinlod.mapping.headers import (
    TABLE_WORDS,
    Match,
    Model,
    ModelColumn,
    match_headers,
    normalise_header,
)
from sinlod.minting import slugify
from sinlod.namespaces import expand
from sinlod.records import format_of, read_records, table_names

__all__ = ["Model", "ModelColumn", "Proposal", "guess", "infer_mapping", "match_headers"]

LANGUAGE = "http://publications.europa.eu/resource/authority/language/"
#: How many rows are looked at to guess a column's datatype.
SAMPLE_ROWS = 500


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
        c["datatype"] = date_datatype(values, datatype)
    elif base in NUMBERS:
        c["datatype"] = number_datatype(values, datatype)
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
    if c.get("datatype") is not None and not fits(c["datatype"], values):
        notes.append(f'"{m.header}": some values do not fit {json.dumps(c["datatype"])}')
    return c


# -- the proposal -------------------------------------------------------------------------------


def _sample(
    path: Path, sheet: str | None, display: str, reading: dict[str, str | None]
) -> tuple[list[str], dict[str, list[str]]]:
    headers: list[str] = []
    values: dict[str, list[str]] = {}
    records = read_records(path, sheet=sheet, display_name=display, **reading)
    rows = 0
    for n, record in enumerate(records):
        rows += 1
        if not headers:
            headers = [h for h in record.columns if h]
            values = {h: [] for h in headers}
        for h in headers:
            v = record.values.get(h)
            if v is not None and v.strip():
                values[h].append(v.strip())
        if n >= SAMPLE_ROWS:
            break
    if not rows:
        # A header row alone: the cells are what datatypes and value fixes are read from.
        raise InputError(
            f"{display}: a header row but no rows under it; add a few rows of real values "
            "(their dates, numbers and codes decide the mapping's formats)"
        )
    if not headers:
        raise InputError(f"{display}: the header row is blank; put the column names in row 1")
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
        named = [normalise_header(h) for h in headers]
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
        if m.column.key == _key_of(model, table) and m.column.via is None:
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
    own_about = about.replace("{" + _key_of(model, table) + "}", "{" + key_var + "}")
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
    return str(model.schema(table)["aboutUrl"]).replace("{" + _key_of(model, table) + "}", key)


def _key_of(model: Model, table: str) -> str:
    """The column a table's rows are keyed by (its primaryKey; ``id`` in the shipped tables)."""
    key = model.schema(table).get("primaryKey", "id")
    return key if isinstance(key, str) else "id"


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
