"""The pipeline behind ``sinlod convert``: record files + CSVW mappings → RDF + source map.

``convert`` builds the whole result in memory (what validation and publishing want, with the
source map filled); ``convert_to_file`` streams triples straight into pyoxigraph's serializer so
memory stays flat in the number of rows, and writes atomically: a temporary file next to the
output is renamed over it only when the whole conversion succeeded.

Both check everything they can before reading a row (files exist, every file has a mapping,
mappings compile) and raise ``InputError`` for those; problems in the records themselves are
collected, up to ``max_errors``, and raised together as ``ConversionFailed``.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox

from sinlod.config import Settings
from sinlod.errors import ConversionFailed, InputError, RecordError, SourceLocation
from sinlod.mapping import KeyIndex, Problems, TableMapping, TableRun, TooManyProblems, load_mapping
from sinlod.minting import dataset_graph_iri
from sinlod.namespaces import PREFIXES
from sinlod.records import SUFFIXES, format_of, read_records, table_names
from sinlod.sourcemap import SourceMap

#: ``--format`` names and the serializations they select.
FORMATS: dict[str, ox.RdfFormat] = {
    "ttl": ox.RdfFormat.TURTLE,
    "nt": ox.RdfFormat.N_TRIPLES,
    "nq": ox.RdfFormat.N_QUADS,
    "jsonld": ox.RdfFormat.JSON_LD,
    "rdf": ox.RdfFormat.RDF_XML,
    "trig": ox.RdfFormat.TRIG,
}
#: Output file extensions and the format each implies.
EXTENSIONS = {
    ".ttl": "ttl",
    ".nt": "nt",
    ".nq": "nq",
    ".jsonld": "jsonld",
    ".json": "jsonld",
    ".rdf": "rdf",
    ".xml": "rdf",
    ".owl": "rdf",
    ".trig": "trig",
}


def _unique_prefixes() -> dict[str, str]:
    """One prefix per namespace (the first listed), so serializations are the same each run."""
    out: dict[str, str] = {}
    for prefix, namespace in PREFIXES.items():
        if namespace not in out.values():
            out[prefix] = namespace
    return out


_SERIALIZATION_PREFIXES = _unique_prefixes()


@dataclass(frozen=True)
class SourceOptions:
    """How record files are read and which CSVW mappings convert them: the source options.

    Every command that reads records (``convert``, ``validate``, ``publish``, ``link check``,
    ``link suggest``) takes the same five, and they travel as this one value from the CLI through
    the library to the readers, so a file reads the same whichever command reads it, and a hint
    such as "use --encoding" names an option the command has. ``mappings_dir`` None means the
    ``mappings_dir`` setting unless ``mapping_files`` are given (then only those are used, as
    ``load_mappings`` says); ``sheet`` picks one XLSX sheet; ``encoding`` applies to CSV, JSON and
    YAML; ``delimiter`` to CSV (default: sniffed from the header).
    """

    mappings_dir: Path | None = None
    mapping_files: tuple[Path, ...] = ()
    sheet: str | None = None
    encoding: str | None = None
    delimiter: str | None = None

    def keywords(self) -> dict[str, Any]:
        """The options as the keyword arguments of ``convert`` and ``convert_to_file``."""
        return {
            "mappings_dir": self.mappings_dir,
            "mapping_files": self.mapping_files,
            "sheet": self.sheet,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
        }

    def reading(self) -> str:
        """How files are read, for a fingerprint: empty with the defaults (``sheet=...`` else)."""
        given = [("sheet", self.sheet), ("encoding", self.encoding), ("delimiter", self.delimiter)]
        return " ".join(f"{name}={value!r}" for name, value in given if value is not None)


@dataclass(frozen=True)
class Source:
    """One record file, with the name messages use for it (as the user wrote it)."""

    path: Path
    display: str


@dataclass
class Conversion:
    """The result of ``convert``: triples per named graph, and where each came from."""

    graphs: dict[str, list[ox.Triple]]
    source_map: SourceMap
    sources: list[Path] = field(default_factory=list)

    def quads(self) -> Iterator[ox.Quad]:
        """Every triple as a quad in its source's graph (``{base}graph/{dataset}/{file-stem}``)."""
        for key, triples in self.graphs.items():
            graph = ox.NamedNode(key)
            for t in triples:
                yield ox.Quad(t.subject, t.predicate, t.object, graph)

    def triple_count(self) -> int:
        return sum(len(t) for t in self.graphs.values())


def expand_sources(sources: Sequence[Path | str]) -> list[Source]:
    """Files, globs and directories (their record files, sorted) → sources, without repeats.

    Raises ``InputError`` for a path that does not exist, a glob that matches nothing, or a
    directory with no record files.
    """
    found: list[Source] = []
    for given in sources:
        text = str(given)
        if any(ch in text for ch in "*?["):
            matches = sorted(glob.glob(text, recursive=True))
            if not matches:
                raise InputError(f"{text}: no files match")
            for match in matches:
                found.extend(_expand_path(Path(match), match, from_glob=True))
        else:
            found.extend(_expand_path(Path(text), text, from_glob=False))
    seen: set[Path] = set()
    unique = []
    for source in found:
        key = source.path.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(source)
    return unique


def _expand_path(path: Path, text: str, *, from_glob: bool) -> list[Source]:
    if path.is_dir():
        files = sorted(
            p
            for p in path.iterdir()
            if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith(".")
        )
        if not files and not from_glob:
            known = ", ".join(sorted(SUFFIXES))
            raise InputError(f"{text}: no record files ({known}) in this directory")
        return [Source(p, str(Path(text) / p.name)) for p in files]
    if not path.exists():
        raise InputError(f"{text}: no such file or directory")
    if from_glob and path.suffix.lower() not in SUFFIXES:
        return []
    format_of(path, text)
    return [Source(path, text)]


def _shown(path: Path) -> str:
    """A mapping path as messages show it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_mappings(
    settings: Settings, mappings_dir: Path | None = None, mapping_files: Sequence[Path] = ()
) -> tuple[dict[str, TableMapping], str]:
    """Table descriptions by table name, and a phrase saying where they were looked for.

    ``mappings_dir`` (default ``settings.mappings_dir`` when no ``mapping_files`` are given)
    contributes every ``*.json`` file; ``mapping_files`` are read after it and win.
    """
    tables: dict[str, TableMapping] = {}
    files, places = mapping_sources(settings, mappings_dir, mapping_files)
    for path in files:
        for table in load_mapping(path, settings.base_iri, _shown(path)):
            tables[table.name] = table
    return tables, ", ".join(places) or "nowhere"


def mapping_sources(
    settings: Settings, mappings_dir: Path | None = None, mapping_files: Sequence[Path] = ()
) -> tuple[list[Path], list[str]]:
    """The mapping files a conversion reads, in order (later ones win), and where they were
    looked for, as messages name them. See ``load_mappings``; ``publish`` fingerprints these.

    Raises ``InputError`` for a mappings directory that does not exist.
    """
    places: list[str] = []
    directory = mappings_dir if mappings_dir is not None or mapping_files else settings.mappings_dir
    files: list[Path] = []
    if directory is not None:
        if not directory.is_dir():
            raise InputError(f"{_shown(directory)}: no such mappings directory")
        files.extend(sorted(directory.glob("*.json")))
        places.append(_shown(directory))
    files.extend(Path(f) for f in mapping_files)
    places.extend(_shown(Path(f)) for f in mapping_files)
    return files, places


@dataclass
class _Job:
    source: Source
    table: TableMapping
    sheet: str | None
    header_complete: bool


class _Pipeline:
    """Plans a conversion (sources, mappings, order) and then produces its triples."""

    def __init__(
        self,
        sources: Sequence[Path | str],
        settings: Settings,
        *,
        mappings_dir: Path | None,
        mapping_files: Sequence[Path],
        max_errors: int,
        sheet: str | None,
        encoding: str | None,
        delimiter: str | None,
        check_references: bool,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = settings
        self.options = {"encoding": encoding, "delimiter": delimiter}
        self.problems = Problems(max_errors)
        self.count = 0
        self.progress = progress
        self.sources = expand_sources(sources)
        if not self.sources:
            raise InputError("no record files to convert")
        mappings, where = load_mappings(settings, mappings_dir, mapping_files)
        self.jobs = self._plan(mappings, where, sheet)
        self.keys = self._key_index(check_references)

    def _plan(self, mappings: dict[str, TableMapping], where: str, sheet: str | None) -> list[_Job]:
        jobs: list[_Job] = []
        for source in self.sources:
            kind = format_of(source.path, source.display)
            xlsx = kind == "xlsx"
            names = table_names(
                source.path,
                sheet=sheet,
                display_name=source.display,
                encoding=self.options["encoding"],
            )
            for name in names:
                table = mappings.get(name)
                if table is None:
                    label = f"{source.display}[{name}]" if xlsx else source.display
                    known = ", ".join(sorted(mappings)) or "none"
                    raise InputError(
                        f'{label}: no mapping for table "{name}" in {where} (tables: {known}); '
                        "use --mappings DIR or --mapping FILE"
                    )
                jobs.append(_Job(source, table, name if xlsx else None, kind in {"csv", "xlsx"}))
        order = _table_order([j.table for j in jobs])
        return sorted(jobs, key=lambda j: order[j.table.name])

    def _key_index(self, check_references: bool) -> KeyIndex:
        present = {j.table.name for j in self.jobs}
        wanted: dict[str, set[tuple[str, ...]]] = {}
        reported: set[tuple[str, str]] = set()
        for job in self.jobs:
            for fk in job.table.foreign_keys:
                wanted.setdefault(fk.target, set()).add(fk.target_columns)
                key = (job.source.display, fk.columns[0])
                if fk.target not in present and check_references and key not in reported:
                    reported.add(key)
                    self._report(
                        RecordError(
                            f"refers to table {fk.target}, which is not in this conversion "
                            "(add its records file)",
                            SourceLocation(job.source.display, None, fk.columns[0], job.sheet),
                        )
                    )
        return KeyIndex(wanted, present)

    def _report(self, error: RecordError) -> None:
        """Add a problem found while planning; past ``max_errors`` it is only counted."""
        try:
            self.problems.add(error)
        except TooManyProblems:
            pass

    def jobs_with_triples(
        self, *, quads: bool, source_map: SourceMap | None
    ) -> Iterator[tuple[str, Iterator[ox.Triple | ox.Quad]]]:
        """(graph IRI, its triples) per job, in dependency order; references checked at the end.

        Raises ``TooManyProblems`` when ``max_errors`` is reached.
        """
        remaining = Counter(j.table.name for j in self.jobs)
        for job in self.jobs:
            graph = dataset_graph_iri(
                self.settings.base_iri, self.settings.dataset, job.source.path.stem
            )
            if self.progress is not None:
                self.progress(job.source.display)
            yield graph, self._run(job, graph, quads, source_map)
            remaining[job.table.name] -= 1
            if remaining[job.table.name] == 0:
                self.keys.complete.add(job.table.name)
        self.keys.finish(self.problems)

    def _run(
        self, job: _Job, graph: str, quads: bool, source_map: SourceMap | None
    ) -> Iterator[ox.Triple | ox.Quad]:
        run = TableRun(
            job.table,
            job.source.display,
            self.keys,
            self.problems,
            source_map=source_map,
            header_complete=job.header_complete,
            graph=ox.NamedNode(graph) if quads else None,
        )
        records = read_records(
            job.source.path, sheet=job.sheet, display_name=job.source.display, **self.options
        )
        try:
            yield from run.triples(records)
        except RecordError as exc:  # broken syntax: the rest of this file cannot be read
            self.problems.add(exc)
        finally:
            self.count += run.count

    def stream(self, *, quads: bool) -> Iterator[ox.Triple | ox.Quad]:
        jobs = self.jobs_with_triples(quads=quads, source_map=None)
        return itertools.chain.from_iterable(triples for _graph, triples in jobs)

    def failure(self) -> ConversionFailed | None:
        if not self.problems:
            return None
        return ConversionFailed(self.problems.errors, self.problems.truncated)


def _table_order(tables: list[TableMapping]) -> dict[str, int]:
    """Referenced tables before the tables that refer to them (stable; cycles allowed)."""
    by_name = {t.name: t for t in tables}
    order: dict[str, int] = {}
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order or name in visiting or name not in by_name:
            return
        visiting.add(name)
        for fk in by_name[name].foreign_keys:
            visit(fk.target)
        order[name] = len(order)

    for t in tables:
        visit(t.name)
    return order


def convert(
    sources: Sequence[Path | str],
    settings: Settings,
    *,
    mappings_dir: Path | None = None,
    mapping_files: Sequence[Path] = (),
    max_errors: int = 100,
    sheet: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    check_references: bool = True,
    progress: Callable[[str], None] | None = None,
) -> Conversion:
    """Convert record files to triples per named graph, with the source map filled.

    Raises ``InputError`` for unreadable files or mappings, a file without a mapping, or an
    unknown file format, and ``ConversionFailed`` with every record problem found (up to
    ``max_errors``). With ``check_references=False`` a foreign key into a table that is not part
    of this run is left unchecked (the caller checks it, e.g. against the published store).
    """
    pipeline = _Pipeline(
        sources,
        settings,
        mappings_dir=mappings_dir,
        mapping_files=mapping_files,
        max_errors=max_errors,
        sheet=sheet,
        encoding=encoding,
        delimiter=delimiter,
        check_references=check_references,
        progress=progress,
    )
    source_map = SourceMap()
    graphs: dict[str, list[ox.Triple]] = {}
    try:
        for graph, triples in pipeline.jobs_with_triples(quads=False, source_map=source_map):
            graphs.setdefault(graph, []).extend(triples)  # type: ignore[arg-type]
    except TooManyProblems:
        pass
    failure = pipeline.failure()
    if failure is not None:
        raise failure
    return Conversion(graphs, source_map, [s.path for s in pipeline.sources])


def output_format(output: Path | None, format: str | None) -> ox.RdfFormat:
    """The serialization for ``--format`` or else the output's extension (Turtle for stdout)."""
    if format is not None:
        if format not in FORMATS:
            raise InputError(f'unknown format "{format}"; use one of {", ".join(FORMATS)}')
        return FORMATS[format]
    if output is None:
        return ox.RdfFormat.TURTLE
    name = EXTENSIONS.get(output.suffix.lower())
    if name is None:
        raise InputError(
            f'cannot tell the output format from "{output}"; use --format ' + "|".join(FORMATS)
        )
    return FORMATS[name]


def convert_to_file(
    sources: Sequence[Path | str],
    settings: Settings,
    output: Path | IO[bytes] | None,
    format: str | None,
    **kw: Any,
) -> int:
    """Convert and write one serialization, streaming; return the number of triples written.

    ``output`` is a path (written atomically: on any failure an existing file is left as it
    was), a binary stream, or None for standard output. Nothing reaches a stream unless the
    conversion succeeded. Takes the keyword arguments of ``convert``; raises as ``convert`` does.
    """
    path = Path(output) if isinstance(output, str | os.PathLike) else None
    fmt = output_format(path, format)
    pipeline = _Pipeline(sources, settings, **_pipeline_options(kw))
    directory = path.parent if path is not None else None
    try:
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{path.name}." if path else ".sinlod-", suffix=".tmp", dir=directory
        )
    except OSError as exc:
        raise InputError(f"cannot write {output}: {exc.strerror}") from exc
    tmp = Path(tmp_name)
    count = 0
    try:
        with os.fdopen(fd, "wb") as stream:
            triples: Any = pipeline.stream(quads=fmt.supports_datasets)
            try:
                ox.serialize(
                    triples, stream, fmt, prefixes=_prefixes(fmt, [j.table for j in pipeline.jobs])
                )
            except TooManyProblems:
                pass
            count = pipeline.count
        failure = pipeline.failure()
        if failure is not None:
            raise failure
        if path is not None:
            try:
                os.replace(tmp, path)
            except OSError as exc:
                raise InputError(f"cannot write {output}: {exc.strerror}") from exc
        else:
            target = output if output is not None else sys.stdout.buffer
            with tmp.open("rb") as src:
                shutil.copyfileobj(src, target)  # type: ignore[arg-type]
            target.flush()  # type: ignore[union-attr]
    finally:
        tmp.unlink(missing_ok=True)
    return count


def _pipeline_options(kw: dict[str, Any]) -> dict[str, Any]:
    allowed = {
        "mappings_dir": None,
        "mapping_files": (),
        "max_errors": 100,
        "sheet": None,
        "encoding": None,
        "delimiter": None,
        "check_references": True,
        "progress": None,
    }
    unknown = set(kw) - set(allowed)
    if unknown:
        raise TypeError(f"convert_to_file() got unexpected arguments: {sorted(unknown)}")
    return {**allowed, **kw}


def _prefixes(fmt: ox.RdfFormat, tables: Sequence[TableMapping]) -> dict[str, str] | None:
    """The prefixes whose namespaces the run's mappings can produce (none for line formats)."""
    if fmt in (ox.RdfFormat.N_TRIPLES, ox.RdfFormat.N_QUADS):
        return None
    iris: set[str] = {PREFIXES["rdf"]}
    for table in tables:
        for c in table.columns:
            iris.add(c.datatype)
            for template in (c.property, c.value, c.about):
                if template is not None:
                    iris.add(template.head)
    return {
        p: ns
        for p, ns in _SERIALIZATION_PREFIXES.items()
        if any(iri.startswith(ns) for iri in iris)
    }
