"""Mapping rows: a compiled table description applied to records, with every problem kept."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from sinlod.errors import RecordError, SourceLocation
from sinlod.mapping.datatypes import CACHE_LIMIT, XSD, BadValue, Vars, got
from sinlod.mapping.tables import Column, ForeignKey, TableMapping
from sinlod.mapping.templates import SCHEME, Template
from sinlod.records import Record
from sinlod.sourcemap import SourceMap


class TooManyProblems(Exception):
    """Raised internally when ``Problems`` reaches its limit: conversion stops there."""


class Problems:
    """Every ``RecordError`` of a conversion, up to ``limit``."""

    def __init__(self, limit: int = 100) -> None:
        self.limit = max(1, limit)
        self.errors: list[RecordError] = []
        self.truncated = False

    def add(self, error: RecordError) -> None:
        if len(self.errors) >= self.limit:
            self.truncated = True
            raise TooManyProblems
        self.errors.append(error)

    def __bool__(self) -> bool:
        return bool(self.errors)


class KeyIndex:
    """Keys seen per table, for duplicate checks and for checking references across tables.

    A reference to a table whose rows are all known is checked at once; one to a table still to
    come waits in ``pending`` until ``finish``. Only the column sets some foreign key points at
    are kept, so memory grows with the keys that can be referenced, not with all cells.
    """

    def __init__(
        self,
        wanted: Mapping[str, Iterable[tuple[str, ...]]] | None = None,
        present: Iterable[str] | None = None,
    ) -> None:
        self.wanted = {t: set(cols) for t, cols in (wanted or {}).items()}
        #: Tables in this run; references into other tables are not checked here.
        self.present = set(present) if present is not None else None
        self.values: dict[tuple[str, tuple[str, ...]], set[tuple[str, ...]]] = {}
        #: Primary keys seen per table → where first seen, packed in one int (see ``place``)
        #: because this is the one structure that grows with every row.
        self.primary: dict[str, dict[str, int]] = {}
        self._places: list[tuple[str, str | None]] = []
        self.complete: set[str] = set()
        self.pending: list[tuple[ForeignKey, tuple[str, ...], SourceLocation]] = []

    def place(self, where: SourceLocation) -> int:
        """``where`` (file, sheet, row) as one int: row * 4096 + index of (file, sheet)."""
        source = (where.file, where.sheet)
        if not self._places or self._places[-1] != source:
            if source not in self._places:
                self._places.append(source)
        return (where.row or 0) * 4096 + self._places.index(source)

    def location(self, packed: int) -> SourceLocation:
        file, sheet = self._places[packed % 4096]
        return SourceLocation(file, packed // 4096 or None, None, sheet)

    def known(self, table: str, columns: tuple[str, ...]) -> set[tuple[str, ...]]:
        return self.values.setdefault((table, columns), set())

    def check(
        self,
        fk: ForeignKey,
        value: tuple[str, ...],
        row: SourceLocation,
        column: str,
        problems: Problems,
    ) -> None:
        """Check one reference; the cell's location is only built when it is needed (hot path)."""
        if self.present is not None and fk.target not in self.present:
            return
        if fk.target not in self.complete:
            self.pending.append((fk, value, row.at(column)))
        elif value not in self.known(fk.target, fk.target_columns):
            problems.add(_missing_reference(fk, value, row.at(column)))

    def finish(self, problems: Problems) -> None:
        """Check the references that waited for their table."""
        for fk, value, where in self.pending:
            if value not in self.known(fk.target, fk.target_columns):
                problems.add(_missing_reference(fk, value, where))
        self.pending.clear()


def _missing_reference(
    fk: ForeignKey, value: tuple[str, ...], where: SourceLocation
) -> RecordError:
    shown = ", ".join(value)
    cols = ", ".join(fk.target_columns)
    return RecordError(
        f"refers to {got(shown)}, but {fk.target} has no record with {cols} {got(shown)}",
        where,
        shown,
    )


@dataclass
class _Slot:
    column: Column
    key: str | None  # the source's column name, None when absent from the source
    title: str  # how messages name the cell


class TableRun:
    """Maps the records of one source (a file, or one XLSX sheet) with one table description.

    ``triples`` yields ``pyoxigraph.Triple`` (or ``Quad`` in ``graph`` when given) and reports
    every problem to ``problems``; ``source_map``, when given, learns each triple's cell.
    ``header_complete`` says the source has a header that must match the mapping (CSV, XLSX),
    as opposed to JSON and YAML objects whose keys may be left out.
    """

    def __init__(
        self,
        mapping: TableMapping,
        display_name: str,
        keys: KeyIndex,
        problems: Problems,
        *,
        source_map: SourceMap | None = None,
        header_complete: bool = True,
        graph: ox.NamedNode | None = None,
    ) -> None:
        self.mapping = mapping
        self.name = display_name
        self.keys = keys
        self.problems = problems
        self.source_map = source_map
        self.header_complete = header_complete
        self.graph = graph
        self._columns: tuple[str, ...] | None = None
        self._slots: list[_Slot] = []
        self._slot_by_name: dict[str, _Slot] = {}
        self._reported: set[str] = set()
        self._about_cache: dict[str, ox.NamedNode] = {}
        self._wanted = sorted(keys.wanted.get(mapping.name, ()))
        #: Triples produced so far.
        self.count = 0
        if mapping.primary_key:
            keys.primary.setdefault(mapping.name, {})

    # -- header -------------------------------------------------------------------------------

    def _bind(self, record: Record) -> None:
        """Match the source's column names to the mapping's columns (once per header)."""
        self._columns = record.columns
        lookup: dict[str, Column] = {}
        for c in self.mapping.columns:
            if not c.virtual:
                for title in (c.name, *c.titles):
                    lookup.setdefault(title, c)
                    lookup.setdefault(title.casefold(), c)
        bound: dict[str, str] = {}
        for source_name in record.columns:
            column = lookup.get(source_name) or lookup.get(source_name.casefold())
            if column is None or column.name in bound:
                self._unknown_column(record, source_name)
            else:
                bound[column.name] = source_name
        self._slots = []
        for c in self.mapping.columns:
            key = bound.get(c.name)
            if key is None and not c.virtual and self.header_complete:
                self._missing_column(record, c)
            self._slots.append(_Slot(c, key, key or (c.titles[0] if c.titles else c.name)))
        self._slot_by_name = {slot.column.name: slot for slot in self._slots}

    def _unknown_column(self, record: Record, source_name: str) -> None:
        if source_name in self._reported:
            return
        self._reported.add(source_name)
        known = ", ".join(c.name for c in self.mapping.columns if not c.virtual)
        row = 1 if self.header_complete else record.location.row
        self.problems.add(
            RecordError(
                f"unknown to the mapping {self.mapping.source} (its columns: {known})",
                SourceLocation(self.name, row, source_name, record.location.sheet),
                source_name,
            )
        )

    def _missing_column(self, record: Record, column: Column) -> None:
        if column.name in self._reported:
            return
        self._reported.add(column.name)
        self.problems.add(
            RecordError(
                f'expected a column "{column.name}" (the mapping {self.mapping.source} '
                f"declares it), the header has: {', '.join(record.columns)}",
                SourceLocation(self.name, 1, None, record.location.sheet),
            )
        )

    # -- rows ---------------------------------------------------------------------------------

    def triples(self, records: Iterable[Record]) -> Iterator[ox.Triple | ox.Quad]:
        """Triples (or quads) of every record, in record and column order."""
        for record in records:
            if record.columns is not self._columns:
                if record.columns != self._columns or self._columns is None:
                    self._bind(record)
                self._columns = record.columns
            for problem in record.problems:
                self.problems.add(problem)
            yield from self._row(record)

    def _cell_values(self, record: Record) -> Vars:
        """Template variables of a row: each column's value after default/null/separator."""
        values = record.values
        out: Vars = {"_sourceRow": str(record.location.row)}
        for slot in self._slots:
            c = slot.column
            raw = values.get(slot.key) if slot.key is not None else None
            if raw is None or raw == "":
                raw = c.default
            if raw is not None and c.datatype != XSD + "string":
                raw = raw.strip()
            if c.value_from is not None:
                raw = _text(out.get(c.value_from))
            if raw is not None and c.fix is not None and not c.separator:
                raw = self._fixed(c.fix, raw, record, slot)
            if raw is None or raw in c.null:
                if c.required and (slot.key is not None or c.virtual or not self.header_complete):
                    self.problems.add(
                        RecordError(
                            "expected a value (the column is required), got nothing",
                            record.location.at(slot.title),
                        )
                    )
                out[c.name] = None
            elif c.separator:
                items = [i.strip() for i in raw.split(c.separator)]
                if c.fix is not None:
                    fixed = (self._fixed(c.fix, i, record, slot) for i in items if i)
                    items = [i for i in fixed if i is not None]
                out[c.name] = [i for i in items if i and i not in c.null] or None
            else:
                out[c.name] = raw
        return out

    def _fixed(self, fix: Any, raw: str, record: Record, slot: _Slot) -> str | None:
        """``raw`` after the column's ``sinlod:normalise`` steps; None (reported) if they fail."""
        try:
            return str(fix(raw))
        except BadValue as exc:
            self._bad(exc, raw, record, slot)
            return None

    def _row(self, record: Record) -> list[Any]:
        """The triples (or quads) of one record; a list, which is cheaper than a generator."""
        v = self._cell_values(record)
        mapping = self.mapping
        subject = self._subject(mapping.about, v, record) if mapping.about is not None else None
        self._keys(record, v)
        out: list[Any] = []
        if mapping.suppress:
            return out
        source_map = self.source_map
        if subject is not None and source_map is not None:
            source_map.add_subject(str(subject), record.location)
        graph = self.graph
        make = ox.Triple if graph is None else None
        for slot in self._slots:
            c = slot.column
            if c.suppress:
                continue
            value = v[c.name]
            if value is None and not (c.virtual and c.value is not None):
                continue
            s = subject if c.about is None else self._subject(c.about, v, record)
            if s is None:
                continue
            p = c.predicate or self._named(c.property.expand(v), record, slot)  # type: ignore[union-attr]
            if p is None:
                continue
            if c.value is None and value.__class__ is str:
                o: Any = c.literal(value)
                if o.__class__ is BadValue:
                    self._bad(o, value, record, slot)
                    continue
                objects = [o]
            else:
                objects = self._objects(slot, value, v, record)
            for o in objects:
                if source_map is not None:
                    source_map.add(str(s), str(p), str(o), record.location.at(slot.title))
                out.append(make(s, p, o) if make is not None else ox.Quad(s, p, o, graph))
        self.count += len(out)
        return out

    def _bad(self, bad: BadValue, value: str, record: Record, slot: _Slot) -> None:
        self.problems.add(
            RecordError(
                f"expected {bad.expected}, got {got(value)}", record.location.at(slot.title), value
            )
        )

    def _subject(self, template: Template, v: Vars, record: Record) -> ox.NamedNode | None:
        for name in template.variables:
            if v.get(name) is None and not name.startswith("_"):
                slot = next(s for s in self._slots if s.column.name == name)
                self.problems.add(
                    RecordError(
                        f'expected a value (aboutUrl "{template.text}" needs it), got nothing',
                        record.location.at(slot.title),
                    )
                )
                return None
        iri = template.expand(v)
        node = self._about_cache.get(iri)
        if node is None:
            try:
                node = ox.NamedNode(iri)
            except ValueError:
                self.problems.add(
                    RecordError(
                        f'expected values that make an IRI from aboutUrl "{template.text}", '
                        f"got {got(iri)}",
                        record.location,
                        iri,
                    )
                )
                return None
            if len(self._about_cache) >= 1024:
                self._about_cache.clear()
            self._about_cache[iri] = node
        return node

    def _named(self, iri: str, record: Record, slot: _Slot) -> ox.NamedNode | None:
        try:
            return ox.NamedNode(iri)
        except ValueError:
            self.problems.add(
                RecordError(f"expected an IRI, got {got(iri)}", record.location.at(slot.title), iri)
            )
            return None

    def _objects(
        self, slot: _Slot, value: Any, v: Vars, record: Record
    ) -> list[ox.NamedNode | ox.Literal]:
        c = slot.column
        items: list[str | None] = value if isinstance(value, list) else [value]
        out: list[ox.NamedNode | ox.Literal] = []
        for item in items:
            if c.value is not None:
                node = self._value_iri(slot, item, v, record)
                if node is not None:
                    out.append(node)
            elif item is not None:
                term = c.literal(item)
                if isinstance(term, BadValue):
                    self._bad(term, item, record, slot)
                else:
                    out.append(term)
        return out

    def _value_iri(
        self, slot: _Slot, item: str | None, v: Vars, record: Record
    ) -> ox.NamedNode | None:
        c = slot.column
        template = c.value
        assert template is not None
        if c.virtual and template.variables and all(v.get(n) is None for n in template.variables):
            return None
        own = template.variables == (c.name,)
        if own and item is not None:
            cached = c._cache.get(item)
            if isinstance(cached, ox.NamedNode):
                return cached
        if c.raw_iri and item is not None and not SCHEME.match(item):
            self.problems.add(
                RecordError(
                    f"expected an absolute IRI (https://...), got {got(item)}",
                    record.location.at(slot.title),
                    item,
                )
            )
            return None
        bound = v if not isinstance(v.get(c.name), list) else {**v, c.name: item}
        node = self._named(template.expand(bound), record, slot)
        if own and node is not None and item is not None:
            if len(c._cache) >= CACHE_LIMIT:
                c._cache.clear()
            c._cache[item] = node
        return node

    def _keys(self, record: Record, v: Vars) -> None:
        """Primary-key uniqueness, foreign-key references, and keys others will reference."""
        m = self.mapping
        if m.primary_key:
            parts = [_text(v.get(n)) for n in m.primary_key]
            if all(parts):
                key = ", ".join(parts)  # type: ignore[arg-type]
                seen = self.keys.primary[m.name]
                first = seen.get(key)
                if first is not None:
                    slot = self._slot(m.primary_key[0])
                    self.problems.add(
                        RecordError(
                            f"expected a unique {', '.join(m.primary_key)}, got {got(key)} "
                            f"again (first at {self.keys.location(first)})",
                            record.location.at(slot.title),
                            key,
                        )
                    )
                else:
                    seen[key] = self.keys.place(record.location)
        for cols in self._wanted:
            values = _combinations(v, cols)
            self.keys.known(m.name, cols).update(values)
        for fk in m.foreign_keys:
            title = self._slot(fk.columns[0]).title
            for value in _combinations(v, fk.columns):
                self.keys.check(fk, value, record.location, title, self.problems)

    def _slot(self, name: str) -> _Slot:
        return self._slot_by_name[name]


def _text(value: Any) -> str | None:
    if isinstance(value, list):
        return ";".join(value)
    return value if value is None else str(value)


def _combinations(v: Vars, columns: tuple[str, ...]) -> list[tuple[str, ...]]:
    """Key tuples a row holds for ``columns``: one per item of a multi-valued single column."""
    if len(columns) == 1:
        value = v.get(columns[0])
        if value is None:
            return []
        return [(item,) for item in value] if isinstance(value, list) else [(value,)]
    parts = [_text(v.get(c)) for c in columns]
    return [tuple(parts)] if all(parts) else []  # type: ignore[arg-type]
