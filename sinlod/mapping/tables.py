"""CSVW table descriptions compiled into ``TableMapping``s (templates, datatypes, keys).

Everything a mapping can get wrong is found here, before any row is read, and raised as
``InputError`` naming the mapping file, the table and the column.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin

import pyoxigraph as ox

from sinlod.errors import InputError
from sinlod.mapping.datatypes import CACHE_LIMIT, XSD, BadValue, Parser, datatype_parser
from sinlod.mapping.fixes import compile_fixes
from sinlod.mapping.templates import Template
from sinlod.namespaces import expand

#: Properties a column inherits from its schema, table and table group (CSVW "inherited").
_INHERITED = (
    "aboutUrl", "propertyUrl", "valueUrl", "datatype", "lang", "null", "default", "separator",
    "required",
)  # fmt: skip


@dataclass
class Column:
    """One column of a table description, compiled."""

    name: str
    titles: tuple[str, ...]
    virtual: bool
    suppress: bool
    about: Template | None
    property: Template | None
    value: Template | None
    datatype: str
    parser: Parser | None
    lang: str | None
    separator: str | None
    required: bool
    null: frozenset[str]
    default: str | None
    #: Whether ``valueUrl`` is just ``{+name}``: the cell must then hold an absolute IRI itself.
    raw_iri: bool = False
    predicate: ox.NamedNode | None = None
    #: ``sinlod:normalise``: the value fixes applied to each cell (or item) first.
    fix: Callable[[str], str] | None = None
    #: ``sinlod:valueFrom`` (virtual columns): the column whose value this one takes.
    value_from: str | None = None
    _cache: dict[str, ox.Literal | ox.NamedNode | BadValue] = field(default_factory=dict)

    @staticmethod
    def column_virtual(columns: list[Column], name: str) -> bool:
        return any(c.virtual for c in columns if c.name == name)

    def literal(self, text: str) -> ox.Literal | ox.NamedNode | BadValue:
        """The literal for ``text`` (cached per distinct value), or the ``BadValue`` it raised."""
        cache = self._cache
        term = cache.get(text)
        if term is None:
            if len(cache) >= CACHE_LIMIT:
                cache.clear()
            try:
                if self.parser is not None:
                    term = self.parser(text)
                    if self.lang is not None:  # a string checked against a format pattern
                        term = ox.Literal(text, language=self.lang)
                elif self.lang is not None:
                    term = ox.Literal(text, language=self.lang)
                else:
                    term = ox.Literal(text)
            except BadValue as exc:
                term = exc
            cache[text] = term
        return term


@dataclass(frozen=True)
class ForeignKey:
    """``columns`` of this table must match ``target_columns`` of a row in ``target``."""

    columns: tuple[str, ...]
    target: str
    target_columns: tuple[str, ...]


@dataclass
class TableMapping:
    """A compiled CSVW table description: how rows of table ``name`` become triples."""

    name: str
    url: str
    source: str
    columns: list[Column]
    about: Template | None
    primary_key: tuple[str, ...]
    foreign_keys: list[ForeignKey]
    suppress: bool = False

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def table_key(url: str) -> str:
    """The table a description is for: the stem of its ``url``'s last segment.

    >>> table_key("records/projects.csv"), table_key("https://example.org/x/people.json")
    ('projects', 'people')
    """
    last = url.rstrip("/").rsplit("/", 1)[-1]
    return last.split(".", 1)[0] if "." in last else last


def load_mapping(path: Path, base: str, display_name: str | None = None) -> list[TableMapping]:
    """Compile the table descriptions of one CSVW metadata file (a table or a table group).

    Raises ``InputError`` naming the file for unreadable JSON or a description sinlod cannot use.
    """
    name = display_name or str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise InputError(f"{name}: no such mapping file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{name}: cannot read mapping: {exc}") from exc
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{name}:{exc.lineno}: mapping is not valid JSON (column {exc.colno}): {exc.msg}"
        ) from exc
    if not isinstance(doc, dict):
        raise InputError(f"{name}: expected a CSVW table description (a JSON object)")
    return compile_metadata(doc, base, name)


def compile_metadata(doc: dict[str, Any], base: str, source: str) -> list[TableMapping]:
    """Compile a parsed CSVW metadata document (see ``load_mapping``)."""
    group = _inherited(doc)
    tables = doc.get("tables")
    if tables is None:
        return [_compile_table(doc, {}, base, source)]
    if not isinstance(tables, list):
        raise InputError(f'{source}: "tables" must be a list of table descriptions')
    return [_compile_table(t, group, base, source) for t in tables]


def _inherited(obj: Any) -> dict[str, Any]:
    return {k: obj[k] for k in _INHERITED if isinstance(obj, dict) and k in obj}


def _compile_table(table: Any, group: dict[str, Any], base: str, source: str) -> TableMapping:
    if not isinstance(table, dict) or not isinstance(table.get("url"), str):
        raise InputError(f'{source}: a table description needs a "url" naming its records')
    url = table["url"]
    schema = table.get("tableSchema", {})
    if not isinstance(schema, dict):
        raise InputError(
            f'{source}: "tableSchema" must be an object (external schemas unsupported)'
        )
    inherited = {**group, **_inherited(table), **_inherited(schema)}
    where = f"{source} table {url}"
    raw_columns = schema.get("columns", [])
    if not isinstance(raw_columns, list):
        raise InputError(f'{where}: "columns" must be a list')
    columns = [
        _compile_column(c, i, inherited, base, url, where)
        for i, c in enumerate(raw_columns, start=1)
    ]
    names = [c.name for c in columns]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise InputError(f'{where}: two columns are named "{dup}"')
    for c in columns:
        if c.value_from is not None and (
            c.value_from not in names[: names.index(c.name)]
            or c.column_virtual(columns, c.value_from)
        ):
            raise InputError(
                f'{where} column "{c.name}": "sinlod:valueFrom" must name a column of the '
                f"source declared before it, got {json.dumps(c.value_from)}"
            )
    about = _template(inherited.get("aboutUrl"), base, where, "aboutUrl")
    missing_about = [c.name for c in columns if c.about is None and not c.suppress]
    if about is None and missing_about:
        raise InputError(
            f'{where}: no aboutUrl for column "{missing_about[0]}"; sinlod mints an IRI for '
            'every row (e.g. "aboutUrl": "id/project/{id}") and makes no blank nodes'
        )
    mapping = TableMapping(
        name=table_key(url),
        url=url,
        source=source,
        columns=columns,
        about=about,
        primary_key=_column_list(schema.get("primaryKey"), names, where, "primaryKey"),
        foreign_keys=_foreign_keys(schema.get("foreignKeys"), names, where),
        suppress=bool(table.get("suppressOutput", False)),
    )
    for template, label in (
        [(about, "aboutUrl")]
        + [(c.about, "aboutUrl") for c in columns]
        + [(c.value, "valueUrl") for c in columns]
        + [(c.property, "propertyUrl") for c in columns]
    ):
        unknown = [
            v
            for v in (template.variables if template else ())
            if v not in names and not v.startswith("_")
        ]
        if unknown:
            raise InputError(
                f'{where}: {label} "{template.text}" uses {{{unknown[0]}}}, which is not a column'  # type: ignore[union-attr]
            )
    return mapping


def _compile_column(
    col: Any, index: int, inherited: dict[str, Any], base: str, url: str, table: str
) -> Column:
    if not isinstance(col, dict):
        raise InputError(f"{table}: column {index} must be an object")
    titles = _titles(col.get("titles"), f"{table}: column {index}")
    name = col.get("name") or (titles[0] if titles else f"_col.{index}")
    if not isinstance(name, str):
        raise InputError(f'{table}: column {index}: "name" must be a string')
    where = f'{table} column "{name}"'
    props = {**inherited, **_inherited(col)}
    datatype, parser = datatype_parser(props.get("datatype"), where)
    nulls = frozenset(_strings(props.get("null", ""), where, "null"))
    for key in ("default", "separator", "lang"):
        if props.get(key) is not None and not isinstance(props[key], str):
            raise InputError(f'{where}: "{key}" must be a string')
    if props.get("separator") == "":
        raise InputError(f'{where}: "separator" must not be empty')
    value = _template(props.get("valueUrl"), base, where, "valueUrl")
    prop_text = props.get("propertyUrl")
    if prop_text is None:
        # CSVW's default: the table's URL with the column name as fragment.
        prop_text = urljoin(base, url) + "#" + quote(name, safe="")
    prop = _template(prop_text, base, where, "propertyUrl")
    lang = props.get("lang")
    if lang is not None:
        try:
            ox.Literal("x", language=lang)
        except ValueError as exc:
            raise InputError(f'{where}: "lang" is not a language tag: {json.dumps(lang)}') from exc
    column = Column(
        name=name,
        titles=titles,
        virtual=bool(col.get("virtual", False)),
        suppress=bool(col.get("suppressOutput", False)),
        about=_template(col.get("aboutUrl"), base, where, "aboutUrl"),
        property=prop,
        value=value,
        datatype=datatype,
        parser=parser,
        lang=lang if datatype == XSD + "string" else None,
        separator=props.get("separator"),
        required=bool(props.get("required", False)),
        null=nulls,
        default=props.get("default"),
        raw_iri=value is not None and expand(value.text) == "{+" + name + "}",
        fix=compile_fixes(col.get("sinlod:normalise"), where),
        value_from=_value_from(col, where),
    )
    if prop is not None and prop.is_constant:
        column.predicate = _named(prop.expand({}), where, "propertyUrl")
    return column


def _value_from(col: dict[str, Any], where: str) -> str | None:
    value = col.get("sinlod:valueFrom")
    if value is None:
        return None
    if not isinstance(value, str) or not col.get("virtual"):
        raise InputError(f'{where}: "sinlod:valueFrom" is a column name, on a virtual column')
    return value


def _titles(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, dict):  # natural-language property: {"en": [...], "de": "..."}
        out: list[str] = []
        for v in value.values():
            out.extend(_strings(v, where, "titles"))
        return tuple(out)
    return tuple(_strings(value, where, "titles"))


def _strings(value: Any, where: str, label: str) -> list[str]:
    """A string or a list of strings (None: none), else ``InputError``."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise InputError(f'{where}: "{label}" must be a string or a list of strings')


def _template(text: Any, base: str, where: str, label: str) -> Template | None:
    if text is None:
        return None
    if not isinstance(text, str):
        raise InputError(f"{where}: {label} must be a URI template string")
    try:
        return Template(text, base)
    except ValueError as exc:
        raise InputError(f"{where}: {label} is not a valid URI template: {exc}") from exc


def _named(iri: str, where: str, label: str) -> ox.NamedNode:
    try:
        return ox.NamedNode(iri)
    except ValueError as exc:
        raise InputError(f'{where}: {label} gives a malformed IRI "{iri}" ({exc})') from exc


def _column_list(value: Any, names: list[str], where: str, label: str) -> tuple[str, ...]:
    items = _strings(value, where, label)
    for item in items:
        if item not in names:
            raise InputError(f'{where}: {label} names column "{item}", which is not in the table')
    return tuple(items)


def _foreign_keys(value: Any, names: list[str], where: str) -> list[ForeignKey]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(f'{where}: "foreignKeys" must be a list')
    return [_foreign_key(fk, names, where) for fk in value]


def _foreign_key(fk: Any, names: list[str], where: str) -> ForeignKey:
    if not isinstance(fk, dict) or not isinstance(fk.get("reference"), dict):
        raise InputError(f'{where}: a foreign key needs "columnReference" and "reference"')
    ref = fk["reference"]
    target = ref.get("resource") or ref.get("schemaReference")
    if not isinstance(target, str):
        raise InputError(f'{where}: a foreign key reference needs "resource" (the other table)')
    target_cols = _strings(ref.get("columnReference"), where, "columnReference")
    columns = _column_list(fk.get("columnReference"), names, where, "foreignKeys")
    if not target_cols or len(target_cols) != len(columns):
        raise InputError(
            f'{where}: a foreign key needs "columnReference" on both sides, of the same length'
        )
    return ForeignKey(columns=columns, target=table_key(target), target_columns=tuple(target_cols))
