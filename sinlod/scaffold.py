"""``sinlod init``: a dataset folder a steward can fill, generated from the model.

A dataset folder is what a steward owns: ``records/`` (one CSV template per table, each with its
header and one example row), ``mappings/`` (the CSVW descriptions that read them),
``templates/records.xlsx`` (the same tables as sheets, with drop-downs for coded columns and a
comment on every header), ``sinlod.toml`` naming the dataset, and a README. Nothing is
hand-written per table: headers and mappings are the shipped mappings (``Settings.mappings_dir``);
example values follow each column's datatype, value template and foreign key; drop-down lists
come from the vocabularies and the reference tables; header comments from the ontology. The
example rows refer to each other ("example" in every table), so the fresh folder converts,
validates and publishes as it is (``tests/test_scaffold.py``).

``find_folder`` recognises such a folder, so ``sinlod validate DIR`` and ``sinlod publish DIR``
read ``DIR/records`` with ``DIR/mappings`` and the settings in ``DIR/sinlod.toml``.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shlex
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from sinlod.config import Settings
from sinlod.convert import SourceOptions
from sinlod.errors import InputError
from sinlod.mapping.tables import table_key
from sinlod.minting import check_dataset, slugify
from sinlod.namespaces import PREFIXES, expand

SETTINGS_FILE = "sinlod.toml"
WORKBOOK = Path("templates") / "records.xlsx"
#: The key of every example row: references between the templates all point at "example".
EXAMPLE = "example"
#: A country and a language code the example rows use (checked against the reference tables).
EXAMPLE_COUNTRY = "NLD"
EXAMPLE_LANGUAGE = "ENG"
#: Plain-string columns whose shapes ask for a particular form.
_STRING_EXAMPLES = {
    "currency": "EUR",
    "acronym": "EX",
    "given_name": "Ada",
    "family_name": "Lovelace",
}
_RDFS_COMMENT = "http://www.w3.org/2000/01/rdf-schema#comment"
_SKOS = PREFIXES["skos"]
_COUNTRY = PREFIXES["country"]
_LANGUAGE = "http://publications.europa.eu/resource/authority/language/"


@dataclass
class DatasetFolder:
    """A dataset folder: where its records, mappings and settings are."""

    root: Path

    @property
    def records(self) -> Path:
        return self.root / "records"

    @property
    def mappings(self) -> Path:
        return self.root / "mappings"

    @property
    def settings_file(self) -> Path:
        return self.root / SETTINGS_FILE


def find_folder(path: Path | str) -> DatasetFolder | None:
    """The dataset folder at ``path`` (a directory with sinlod.toml and records/), else None."""
    p = Path(path)
    if p.is_dir() and (p / SETTINGS_FILE).is_file() and (p / "records").is_dir():
        return DatasetFolder(p)
    return None


def folder_sources(
    sources: Sequence[Path | str], options: SourceOptions
) -> tuple[list[Path], SourceOptions, Path | None]:
    """Sources, source options and settings file once a dataset folder among ``sources`` is
    read as its ``records/`` with its ``mappings/`` (unless --mappings/--mapping say otherwise)
    and its ``sinlod.toml``. Other sources pass through unchanged; at most one folder."""
    folders = [f for f in (find_folder(s) for s in sources) if f is not None]
    if not folders:
        return [Path(s) for s in sources], options, None
    if len(folders) > 1:
        raise InputError("give one dataset folder at a time (each has its own settings)")
    folder = folders[0]
    out = [folder.records if find_folder(s) else Path(s) for s in sources]
    if options.mappings_dir is None and not options.mapping_files and folder.mappings.is_dir():
        options = replace(options, mappings_dir=folder.mappings)
    return out, options, folder.settings_file


# -- the model, as init needs it ------------------------------------------------------------------


@dataclass
class _Lists:
    """Allowed values of coded columns: concept keys per namespace, and the code tables."""

    concepts: dict[str, list[str]] = field(default_factory=dict)  # namespace → local names
    countries: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)

    def for_column(self, column: dict[str, Any]) -> list[str] | None:
        value = column.get("valueUrl")
        if not isinstance(value, str) or "{" not in value:
            return None
        head = expand(value.split("{", 1)[0])
        if head == _COUNTRY:
            return self.countries
        if head == _LANGUAGE:
            return self.languages
        return self.concepts.get(head)


def _lists(settings: Settings) -> _Lists:
    lists = _Lists()
    for path in settings.vocabulary_files():
        for t in ox.parse(path=path, format=ox.RdfFormat.TURTLE):
            if t.predicate.value == _SKOS + "inScheme":
                namespace, _, local = t.subject.value.rpartition("/")
                lists.concepts.setdefault(namespace + "/", []).append(local)
    for codes in lists.concepts.values():
        codes.sort()
    index = settings.reference_dir / "index.json"
    if index.is_file():
        schemes = json.loads(index.read_text(encoding="utf-8")).get("schemes", {})
        for scheme in schemes.values():
            codes = sorted(str(scheme.get("codes", "")).split())
            if scheme.get("namespace") == _COUNTRY:
                lists.countries = codes
            elif scheme.get("namespace") == _LANGUAGE:
                lists.languages = codes
    return lists


def _comments(settings: Settings) -> dict[str, str]:
    out: dict[str, str] = {}
    for t in ox.parse(path=settings.ontology_file, format=ox.RdfFormat.TURTLE):
        o = t.object
        if t.predicate.value == _RDFS_COMMENT and isinstance(o, ox.Literal) and o.language == "en":
            out[t.subject.value] = o.value
    return out


def _mappings(settings: Settings) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(settings.mappings_dir.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        out[table_key(doc["url"])] = doc
    if not out:
        raise InputError(f"{settings.mappings_dir}: no mappings to make templates from")
    return out


# -- example rows ---------------------------------------------------------------------------------


def example_row(table: str, doc: dict[str, Any], lists: _Lists) -> dict[str, str]:
    """One example record of ``table``: a value for each column the model lets it have.

    At most one column per property is filled, the last of them (an involvement is in a
    project *or* an event and of an organisation *or* a person: the event and the person, so
    the example person takes part in something, as its shape asks), but every required one;
    only the English of language variants; no references of a table to itself; references to
    other tables name their example row.
    """
    schema = doc["tableSchema"]
    targets = {
        fk["columnReference"]: table_key(fk["reference"]["resource"])
        for fk in schema.get("foreignKeys", [])
        if isinstance(fk.get("columnReference"), str)
    }
    title = _singular(table)
    row: dict[str, str] = {}
    seen: set[str] = set()
    for c in reversed(schema["columns"]):
        if c.get("virtual"):
            continue
        name = str(c["name"])
        prop = expand(str(c.get("propertyUrl", "")))
        if name == "id":
            row[name] = EXAMPLE
            continue
        value = _example_value(name, c, targets.get(name), table, title, lists)
        again = prop in seen and not c.get("lang") and not c.get("required")
        if value is None or again or _other_language(name):
            row[name] = ""
            continue
        seen.add(prop)
        row[name] = value
    return {str(c["name"]): row[str(c["name"])] for c in schema["columns"] if not c.get("virtual")}


def _singular(table: str) -> str:
    """How the example rows name a record of ``table``: practice-cases → practice case."""
    words = table.replace("-", " ")
    if words == "people":
        return "person"
    return words[:-3] + "y" if words.endswith("ies") else words.removesuffix("s")


def _other_language(name: str) -> bool:
    return bool(re.search(r"_(nl|de)$", name))


def _example_value(
    name: str, c: dict[str, Any], target: str | None, table: str, title: str, lists: _Lists
) -> str | None:
    if target is not None:
        return None if target == table else EXAMPLE
    codes = lists.for_column(c)
    if codes is not None:
        wanted = {id(lists.countries): EXAMPLE_COUNTRY, id(lists.languages): EXAMPLE_LANGUAGE}
        if wanted.get(id(codes)) in codes:
            return wanted[id(codes)]
        return codes[0] if codes else None
    value_url = c.get("valueUrl")
    if isinstance(value_url, str):
        if value_url.startswith("{+"):
            return "https://example.org/"
        # an open template (sinlod:{class}, corporate-body:, nuts:) is left empty unless the
        # column is required; then a number, the likeliest to fit a code's pattern
        return "1" if c.get("required") else None
    datatype = c.get("datatype")
    base = datatype.get("base") if isinstance(datatype, dict) else datatype
    if base in {"sinlod:partialDate", "date"}:
        return "2025-12-31" if name in {"end"} else "2025-01-01"
    if base in {"integer", "nonNegativeInteger"}:
        return "1"
    if base in {"decimal", "double", "number"}:
        return "10.5"
    if c.get("lang") and name.startswith(("name", "label", "title")):
        return f"Example {title}"
    if c.get("lang") and name.startswith("description"):
        return f"Replace this example {title} with your own records."
    if c.get("lang"):
        return None
    return _STRING_EXAMPLES.get(name, EXAMPLE)


# -- writing --------------------------------------------------------------------------------------


@dataclass
class Scaffold:
    """What ``init_dataset`` wrote."""

    folder: DatasetFolder
    dataset: str
    tables: list[str]
    files: list[Path]


def init_dataset(
    directory: Path, settings: Settings, *, dataset: str | None = None, force: bool = False
) -> Scaffold:
    """Write a dataset folder at ``directory`` (created if missing).

    ``dataset`` defaults to a slug of the folder's name. Raises ``InputError`` when
    ``directory`` is a file, or a directory with anything in it and not ``force`` (then files
    of the same names are overwritten; nothing else is touched), or for a name that cannot name
    a dataset.
    """
    if directory.exists() and not directory.is_dir():
        raise InputError(f"{directory}: exists and is not a directory")
    if directory.is_dir() and any(directory.iterdir()) and not force:
        raise InputError(
            f"{directory}: not empty; choose a new folder, or use --force to write the "
            "templates into it (files of the same names are replaced)"
        )
    name = check_dataset(dataset or slugify(directory.resolve().name) or "dataset")
    mappings = _mappings(settings)
    lists = _lists(settings)
    comments = _comments(settings)
    folder = DatasetFolder(directory)
    files: list[Path] = []
    for sub in (folder.records, folder.mappings, directory / WORKBOOK.parent):
        sub.mkdir(parents=True, exist_ok=True)
    rows: dict[str, tuple[list[str], dict[str, str]]] = {}
    for table, doc in mappings.items():
        headers = [str(c["name"]) for c in doc["tableSchema"]["columns"] if not c.get("virtual")]
        row = example_row(table, doc, lists)
        rows[table] = (headers, row)
        files.append(_write(folder.records / f"{table}.csv", _csv(headers, row)))
        mapping = {**doc, "url": f"{table}.csv"}
        text = json.dumps(mapping, indent=2, ensure_ascii=False) + "\n"
        files.append(_write(folder.mappings / f"{table}.csv-metadata.json", text))
    workbook = directory / WORKBOOK
    _workbook(workbook, mappings, rows, lists, comments)
    files.append(workbook)
    files.append(_write(folder.settings_file, _settings_text(name)))
    files.append(_write(directory / "README.md", _readme(name, directory, sorted(mappings))))
    return Scaffold(folder, name, sorted(mappings), files)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8", newline="")
    return path


def _csv(headers: list[str], row: dict[str, str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(headers)
    writer.writerow([row.get(h, "") for h in headers])
    return out.getvalue()


def _settings_text(name: str) -> str:
    text = (
        "# Settings of this dataset folder. `sinlod validate .` and `sinlod publish .` read them\n"
        "# (and every setting of `sinlod settings` may be added here).\n"
        "[sinlod]\n"
        f"dataset = {json.dumps(name)}\n"
    )
    tomllib.loads(text)  # what is written must read back
    return text


def _comment_text(c: dict[str, Any], comments: dict[str, str], codes: list[str] | None) -> str:
    parts = []
    prop = expand(str(c.get("propertyUrl", "")))
    if prop in comments:
        parts.append(comments[prop])
    if c.get("required"):
        parts.append("Required.")
    if c.get("name") == "id":
        parts.append("The record's key: lower case letters, digits and '-' (it becomes its IRI).")
    datatype = c.get("datatype")
    base = datatype.get("base") if isinstance(datatype, dict) else datatype
    if base == "sinlod:partialDate":
        parts.append("A date: YYYY-MM-DD, YYYY-MM or YYYY.")
    elif base:
        parts.append(f"A value of type {base}.")
    if isinstance(c.get("valueUrl"), str) and c["valueUrl"].startswith("{+"):
        parts.append("A web address (https://...).")
    if codes is not None:
        parts.append("Choose from the list.")
    if c.get("separator"):
        parts.append(f'Several values: separate them with "{c["separator"]}".')
    return " ".join(parts) or str(c.get("name"))


def _workbook(
    path: Path,
    mappings: dict[str, dict[str, Any]],
    rows: dict[str, tuple[list[str], dict[str, str]]],
    lists: _Lists,
    comments: dict[str, str],
) -> None:
    """One sheet per table (header, example row, drop-downs, comments) and a hidden ``_lists``."""
    import openpyxl
    from openpyxl.comments import Comment
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    book = openpyxl.Workbook()
    hidden = book.active
    hidden.title = "_lists"
    ranges: dict[tuple[str, ...], str] = {}
    for table in sorted(mappings):
        headers, row = rows[table]
        ws = book.create_sheet(table)
        ws.append(headers)
        ws.append([row.get(h, "") for h in headers])
        columns = {str(c["name"]): c for c in mappings[table]["tableSchema"]["columns"]}
        for i, header in enumerate(headers, start=1):
            c = columns[header]
            codes = lists.for_column(c)
            cell = ws.cell(row=1, column=i)
            cell.comment = Comment(_comment_text(c, comments, codes), "sinlod")
            letter = get_column_letter(i)
            ws.column_dimensions[letter].width = max(12, len(header) + 2)
            if _as_text(c):  # Excel would turn 2025-03 into a day and 0012 into 12
                ws.column_dimensions[letter].number_format = "@"
                ws.cell(row=2, column=i).number_format = "@"
            if codes:
                key = tuple(codes)
                if key not in ranges:
                    col = get_column_letter(len(ranges) + 1)
                    for r, code in enumerate(codes, start=1):
                        hidden.cell(row=r, column=len(ranges) + 1, value=code)
                    ranges[key] = f"'_lists'!${col}$1:${col}${len(codes)}"
                dv = DataValidation(type="list", formula1=ranges[key], allow_blank=True)
                dv.error = "Choose a value from the list."
                if c.get("separator"):  # several values: the list helps, it cannot forbid
                    dv.errorStyle = "information"
                    dv.error = f'Values from the list, separated by "{c["separator"]}".'
                dv.add(f"{get_column_letter(i)}2:{get_column_letter(i)}1000")
                ws.add_data_validation(dv)
        ws.freeze_panes = "A2"
    hidden.sheet_state = "hidden"
    book.active = 1
    book.save(path)


def _as_text(column: dict[str, Any]) -> bool:
    """Whether a workbook column should hold text as typed: all but whole and decimal numbers."""
    datatype = column.get("datatype")
    base = datatype.get("base") if isinstance(datatype, dict) else datatype
    return base not in {"integer", "decimal", "double", "nonNegativeInteger"}


def _readme(name: str, directory: Path, tables: list[str]) -> str:
    # The commands below are pasted into a shell: "buurt data" must stay one argument.
    folder = shlex.quote(str(directory))
    return f"""# Dataset `{name}`

Made by `sinlod init`. Fill the templates with your records, check them, publish them.

## What is here

- `records/`: one CSV file per table ({", ".join(tables)}), each with its header and one
  example row. The example rows refer to each other by their key `example`; replace them with
  your own records. For a table you do not need, keep its file with the header row only (the
  mappings of other tables refer to it) and leave the cells that point into it empty.
- `templates/records.xlsx`: the same tables as sheets of one workbook, with a drop-down list on
  every coded column (countries, languages, topics, roles, ...) and a comment on every header
  saying what goes in it. To work in the workbook instead of the CSV files, save it into
  `records/` and delete the CSV files there.
- `mappings/`: how each table becomes linked data (CSV on the Web descriptions). For a
  spreadsheet of your own, `sinlod mapping infer your-sheet.xlsx -o mappings/your-sheet.json`
  proposes one (docs/mappings.md in the sinlod repository explains the value fixes).
- `sinlod.toml`: the settings of this dataset; `dataset = "{name}"` is the name it is
  published under.

## Check and publish

```
sinlod validate {folder}
sinlod publish {folder} --dry-run
sinlod publish {folder}
```

`validate` names every problem by file, row and column (exit 1 if the data is wrong);
`publish --dry-run` shows what would change; `publish` writes the dataset `{name}` into the
store without touching other datasets.
"""
