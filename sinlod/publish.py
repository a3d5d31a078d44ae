"""The pipeline behind ``sinlod publish``: convert or read → validate with the store as context →
load → release record.

Every publish belongs to a dataset (``--dataset``, default the ``dataset`` setting), and each of its
sources goes to the dataset's own named graph (``{base}graph/{dataset}/{file-stem}``), so datasets
never overwrite each other (``sinlod.datasets``: where they meet); the ontology to
``{base}graph/ontology``, each vocabulary to ``{base}graph/vocabularies/{stem}`` and the reference
snapshots to ``{base}graph/reference``. Everything one call publishes lands in one atomic write
(``Store.replace_graphs``), with one release that records the files, their SHA-256, the versions
of the shapes and ontology, and the validation outcome.

A source whose *fingerprint* (SHA-256 over the source, the mappings, the shapes, the ontology,
the base IRI and the sinlod version) equals the one recorded when its graph was last published is
skipped; when every source is skipped nothing is written at all, not even a release. The refusal
and the commit are the library's one gated write (``sinlod.changes``), shared with the server.
"""

from __future__ import annotations

import dataclasses
import getpass
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from sinlod import __version__
from sinlod.change_summary import ChangeSummary, summarise_contents
from sinlod.changes import ShapesViolated, commit
from sinlod.config import Settings
from sinlod.convert import Source, SourceOptions
from sinlod.datasets import Overlap, check_scope, contradictions, overlaps
from sinlod.errors import InputError, StoreError
from sinlod.inputs import is_rdf, rdf_format, read_rdf
from sinlod.minting import check_dataset, dataset_graph_iri
from sinlod.sourcemap import SourceMap
from sinlod.store import (
    FileInfo,
    GraphContent,
    Release,
    ReleaseInfo,
    current_fingerprints,
    ontology_graph,
    reference_graph,
    vocabulary_graph,
)
from sinlod.store.backend import StoreBackend
from sinlod.store.graphs import dataset_of, legacy_table
from sinlod.validate import Report, validate_triples
from sinlod.validate.rules import rule_files

Progress = Callable[[str], None]
_OWL_VERSION = ox.NamedNode("http://www.w3.org/2002/07/owl#versionInfo")
#: RDF formats bulk-loaded straight from the file into the source's graph.
_TRIPLE_FORMATS = (ox.RdfFormat.N_TRIPLES, ox.RdfFormat.TURTLE, ox.RdfFormat.RDF_XML)


class PublishRefused(ShapesViolated):
    """The batch violates the shapes and ``force`` was not given; the store is untouched."""

    def __init__(self, report: Report) -> None:
        n = report.counts()["Violation"]
        super().__init__(
            report,
            f"{n} violation{'s' * (n != 1)}; nothing was published (--force publishes anyway)",
        )


@dataclass(frozen=True)
class Planned:
    """One graph a publish may write: where its content comes from and its fingerprint."""

    graph: str
    path: Path
    role: str  # "source" (records or RDF data), "ontology", "vocabulary" or "reference"
    sha256: str
    fingerprint: str
    extra: tuple[Path, ...] = ()  # more files of the same graph (the reference snapshots)


@dataclass
class PublishResult:
    """What a publish did (or, with ``dry_run``, would do). ``release`` is None when everything
    was unchanged and skipped, and for a dry run. ``published`` lists every graph written
    (replaced, pruned or moved); ``migrated`` maps graphs from before datasets to their new
    names; ``summary`` (dry runs) is what would change, per graph and per thing."""

    release: Release | None
    published: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    report: Report | None = None
    dataset: str = ""
    pruned: list[str] = field(default_factory=list)
    migrated: dict[str, str] = field(default_factory=dict)
    #: Graphs this publish replaces that were last published from another file: graph → that
    #: file (a steward's ``places.csv`` published into the shipped data's dataset by mistake)
    elsewhere: dict[str, str] = field(default_factory=dict)
    overlaps: list[Overlap] = field(default_factory=list)
    summary: ChangeSummary | None = None
    dry_run: bool = False

    def to_json(self) -> dict[str, Any]:
        """The shape ``sinlod publish --format json`` prints (documented in the README)."""
        return {
            "dataset": self.dataset,
            "dry_run": self.dry_run,
            "release": self.release.to_json() if self.release else None,
            "published": self.published,
            "skipped": self.skipped,
            "pruned": self.pruned,
            "migrated": self.migrated,
            "elsewhere": self.elsewhere,
            "validation": self.report.counts() if self.report else None,
            "overlaps": [o.to_json() for o in self.overlaps],
            "changes": self.summary.to_json() if self.summary is not None else None,
        }


def default_agent() -> str:
    """The user name recorded as the release's agent when the caller names none."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc
    return digest.hexdigest()


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def publish(
    sources: Sequence[Path | str],
    settings: Settings,
    store: StoreBackend,
    *,
    force: bool = False,
    validate: bool = True,
    ontology: bool = True,
    skip_unchanged: bool = True,
    agent: str | None = None,
    progress: Progress | None = None,
    options: SourceOptions | None = None,
    dataset: str | None = None,
    prune: bool = False,
    dry_run: bool = False,
    message: str | None = None,
    source_names: Mapping[str, str] | None = None,
) -> PublishResult:
    """Publish record files and RDF files (and the ontology) into ``store`` in one release.

    Record files are read and mapped as ``options`` say (``sinlod convert``'s source options);
    the mapping files used and any reading option are part of each source's fingerprint.

    Everything goes into ``dataset`` (default: the ``dataset`` setting): its sources' graphs are
    replaced, other datasets' graphs never; ``prune`` removes the dataset's graphs whose source
    is not among ``sources``. Things another dataset describes too are reported
    (``result.overlaps``); a value contradicting another dataset's on a single-valued property is
    a violation. Graphs of a sinlod from before datasets (``{base}graph/{table}``) move into the
    ``dataset`` setting's dataset in the same write (``result.migrated``). With ``dry_run``
    nothing is written: the result says what would change (``result.summary``) and carries the
    report, violations or not. ``message`` (why) is recorded as the release's comment.
    ``source_names`` maps a source's path to the name the release log records for it (a file
    written to a temporary folder by ``/validate`` is named as its steward uploaded it).

    Raises ``InputError`` for unreadable sources or a bad dataset name, ``ConversionFailed`` when
    records do not convert, ``PublishRefused`` (an ``InvalidData``) when the data violates the
    shapes and ``force`` is false, and ``DatasetConflict`` for a graph of another dataset; in
    every one of these cases the store is left exactly as it was.
    """
    step = progress or (lambda stage: None)
    name = check_dataset(dataset or settings.dataset)
    home = settings.dataset  # where graphs from before datasets go
    settings = dataclasses.replace(settings, dataset=name)
    step("planning")
    shape_files, ontology_files = rule_files(settings)
    rules = [*shape_files, *ontology_files]
    rules_digest = _digest(*(f"{p}:{sha256_file(p)}" for p in rules))
    records, rdf_files = _split(sources)
    options = options if options is not None else SourceOptions()
    plan = _plan_sources(records, rdf_files, settings, rules_digest, options)
    if ontology:
        plan += _plan_ontology(settings)
    known = current_fingerprints(store.releases()) if skip_unchanged else {}
    present = set(store.graph_names())
    todo = [p for p in plan if known.get(p.graph) != p.fingerprint or p.graph not in present]
    skipped = [p.graph for p in plan if p not in todo]
    pruned = _pruned(present, plan, settings) if prune else []
    moves = _legacy_moves(store, present, {p.graph for p in plan}, home)
    if not todo and not pruned and not moves:
        step("nothing changed")
        return PublishResult(None, [], skipped, dataset=name, dry_run=dry_run)

    source_map = SourceMap()
    contents, report = _prepare(todo, records, settings, store, validate, step, options, source_map)
    check_scope(name, contents, settings.base_iri)
    shared: list[Overlap] = []
    if report is not None:  # validated: where this dataset meets the others
        data = {p.graph: contents[p.graph] for p in todo if p.role == "source"}
        shared, report = _crossings(store, data, settings, source_map, report)
    contents |= dict.fromkeys(pruned, [])
    contents |= _moved(store, moves, contents)
    result = PublishResult(
        None,
        sorted(contents),
        skipped,
        report,
        dataset=name,
        pruned=pruned,
        migrated=moves,
        elsewhere=_from_elsewhere(store, todo, source_names or {}),
        overlaps=shared,
        dry_run=dry_run,
    )
    if dry_run:
        step("computing the changes")
        result.summary = summarise_contents(store.oxigraph, contents)
        return result
    if report is not None and not report.conforms and not force:
        raise PublishRefused(report)
    step(f"loading {len(contents)} graph{'s' * (len(contents) != 1)}")
    info = ReleaseInfo(
        agent=agent or default_agent(),
        files=_release_files(todo, rules, shape_files, source_names or {}),
        conforms=None if report is None else report.conforms,
        violations=0 if report is None else report.counts()["Violation"],
        forced=force and report is not None and not report.conforms,
        comment=message,  # the steward's why (--message), on /releases and `sinlod releases`
    )
    result.release = commit(store, contents, info)
    assert result.release is not None  # only named graphs: the release is returned
    return result


# -- datasets: pruning, graphs from before datasets, where datasets meet --------------------------


def _pruned(present: set[str], plan: Sequence[Planned], settings: Settings) -> list[str]:
    """The dataset's graphs in the store whose source is not among this publish's sources."""
    planned = {p.graph for p in plan}
    mine = [g for g in present if dataset_of(g, settings.base_iri) == settings.dataset]
    return sorted(g for g in mine if g not in planned)


def _legacy_moves(
    store: StoreBackend, present: set[str], planned: set[str], home: str
) -> dict[str, str]:
    """Graphs a sinlod from before datasets published (``{base}graph/{table}``, recorded in the
    release log as a source's graph) → their graph in the dataset ``home``
    (``{base}graph/{home}/{table}``). The publish moves them there in its own write, so an old
    store never ends up with a source twice. Raises ``StoreError`` when both names hold data
    and this publish does not replace the new one: which is right cannot be told."""
    base = store.base_iri
    sources = {f.graph for r in store.releases() for f in r.files if f.role == "source"}
    moves = {}
    for graph in sorted(present):
        table = legacy_table(graph, base)
        if table is None or graph not in sources:
            continue
        target = dataset_graph_iri(base, home, table)
        if target in present and target not in planned:
            raise StoreError(
                f"both <{graph}> (published before datasets) and <{target}> hold data;"
                f" remove one (sinlod publish --prune, or a Graph Store DELETE) and publish again"
            )
        moves[graph] = target
    return moves


def _from_elsewhere(
    store: StoreBackend, todo: Sequence[Planned], names: Mapping[str, str]
) -> dict[str, str]:
    """The sources' graphs whose last publish read another file (by resolved path, or by the
    name given in ``names``)."""
    last: dict[str, str] = {}
    for release in store.releases():
        for f in release.files:
            if f.role == "source" and f.graph:
                last[f.graph] = f.path
    out = {}
    for p in todo:
        before = last.get(p.graph)
        if p.role != "source" or before is None:
            continue
        named = names.get(str(p.path))
        if (before != named) if named is not None else Path(before).resolve() != p.path.resolve():
            out[p.graph] = before
    return out


def _moved(
    store: StoreBackend, moves: dict[str, str], contents: dict[str, GraphContent]
) -> dict[str, GraphContent]:
    """The old graphs emptied, and their content under the new name unless this publish writes
    that graph anyway (then the new content wins and nothing is left twice)."""
    out: dict[str, GraphContent] = {}
    for old, new in moves.items():
        out[old] = []
        if new not in contents:
            out[new] = [q.triple for q in store.graph_quads(old)]
    return out


def _crossings(
    store: StoreBackend,
    data: dict[str, GraphContent],
    settings: Settings,
    source_map: SourceMap,
    report: Report,
) -> tuple[list[Overlap], Report]:
    """Things this dataset shares with others (reported), and the report with the facts that
    contradict another dataset's added as violations naming both sources."""
    triples = {g: _triples(c) for g, c in data.items()}
    snapshot = store.oxigraph
    shared = overlaps(snapshot, triples, settings.base_iri, source_map)
    found = contradictions(snapshot, triples, settings, source_map)
    if found:
        report = Report.of([*report.findings, *found], report.prefixes, engine=report.engine)
    return shared, report


def _triples(content: GraphContent) -> list[ox.Triple]:
    if isinstance(content, Path):
        return [q.triple for q in ox.parse(path=str(content))]
    return [t.triple if isinstance(t, ox.Quad) else t for t in content]


def _split(sources: Sequence[Path | str]) -> tuple[list[Path | str], list[Path]]:
    """Record sources (files, directories, globs, as ``sinlod convert`` takes them), RDF files."""
    records: list[Path | str] = []
    rdf: list[Path] = []
    for source in sources:
        path = Path(source)
        if is_rdf(path):
            if not path.is_file():
                raise InputError(f"{source}: no such file or directory")
            rdf.append(path)
        else:
            records.append(source)
    return records, rdf


def _plan_sources(
    records: Sequence[Path | str],
    rdf_files: Sequence[Path],
    settings: Settings,
    rules: str,
    options: SourceOptions,
) -> list[Planned]:
    from sinlod.convert import expand_sources, mapping_sources

    plan = []
    if records:
        mappings, _ = mapping_sources(settings, options.mappings_dir, options.mapping_files)
        reading = [options.reading()] if options.reading() else []  # none: digests as before
        mapping_digest = _digest(*(f"{p.name}:{sha256_file(p)}" for p in mappings), *reading)
        if options.sheet is not None:
            _refuse_part_of_a_workbook(expand_sources(records), settings, options)
        for source in expand_sources(records):
            sha = sha256_file(source.path)
            fingerprint = _digest(__version__, settings.base_iri, sha, mapping_digest, rules)
            graph = dataset_graph_iri(settings.base_iri, settings.dataset, source.path.stem)
            plan.append(Planned(graph, source.path, "source", sha, fingerprint))
    for path in rdf_files:
        sha = sha256_file(path)
        fingerprint = _digest(__version__, settings.base_iri, sha, rules)
        plan.append(
            Planned(
                dataset_graph_iri(settings.base_iri, settings.dataset, path.stem),
                path,
                "source",
                sha,
                fingerprint,
            )
        )
    graphs = [p.graph for p in plan]
    twice = sorted({g for g in graphs if graphs.count(g) > 1})
    if twice:
        raise InputError(
            f"two sources would be published into the same graph {twice[0]} "
            "(sources are keyed by file name without extension)"
        )
    return plan


def _refuse_part_of_a_workbook(
    sources: Sequence[Source], settings: Settings, options: SourceOptions
) -> None:
    """A workbook is one source and one graph: publishing one of its sheets replaces that graph
    with the sheet's table alone. Refused (``InputError``) when another sheet has a mapping, so
    its published triples would go; a sheet without one (notes, lists) may stay behind."""
    from sinlod.convert import load_mappings
    from sinlod.records.from_xlsx import sheet_names

    tables, _ = load_mappings(settings, options.mappings_dir, options.mapping_files)
    for source in sources:
        if source.path.suffix.lower() != ".xlsx":
            continue
        names = sheet_names(source.path, source.display)
        others = [n for n in names if n != options.sheet and n in tables]
        if others:
            raise InputError(
                f"{source.display}: publishing only its sheet {options.sheet!r} would replace the"
                f" workbook's graph without its other tables ({', '.join(others)}); publish the"
                " whole workbook (without --sheet)"
            )


def _plan_ontology(settings: Settings) -> list[Planned]:
    """The ontology, each vocabulary and the reference snapshots, each in its own graph."""
    plan = []
    base = settings.base_iri
    for path, graph, role in [
        (settings.ontology_file, ontology_graph(base), "ontology"),
        *[(v, vocabulary_graph(base, v.stem), "vocabulary") for v in settings.vocabulary_files()],
    ]:
        if path.is_file():
            sha = sha256_file(path)
            plan.append(Planned(graph, path, role, sha, _digest(__version__, sha)))
    references = settings.reference_files()
    if references:
        shas = [sha256_file(p) for p in references]
        graph = reference_graph(base)
        plan.append(
            Planned(
                graph,
                references[0],
                "reference",
                shas[0],
                _digest(__version__, *shas),
                tuple(references[1:]),
            )
        )
    return plan


def _prepare(
    todo: Sequence[Planned],
    records: Sequence[Path | str],
    settings: Settings,
    store: StoreBackend,
    validate: bool,
    step: Progress,
    options: SourceOptions,
    source_map: SourceMap,
) -> tuple[dict[str, GraphContent], Report | None]:
    """The content of each graph to write, and the validation report of the data among them."""
    contents: dict[str, GraphContent] = {}
    batch: list[ox.Triple | ox.Quad] = []
    data = [p for p in todo if p.role == "source"]
    wanted = {p.graph for p in data}
    record_paths = {p.path for p in data if not is_rdf(p.path)}
    if record_paths:
        from sinlod.convert import convert

        step("converting")
        # Convert every record source, not only the changed ones, so that references between the
        # tables of this run are checked; references to published tables are checked by SHACL
        # with the store as context.
        conversion = convert(
            records, settings, check_references=False, progress=step, **options.keywords()
        )
        source_map.update(conversion.source_map)
        for graph, triples in conversion.graphs.items():
            if graph in wanted:
                contents[graph] = triples
                batch.extend(triples)
    for p in data:
        fmt = rdf_format(p.path)
        if fmt is None or p.path.is_dir():
            continue
        if validate or fmt not in _TRIPLE_FORMATS:
            step(f"reading {p.path}")
            quads = read_rdf(p.path, source_map)
            batch.extend(quads)
            contents[p.graph] = p.path if fmt in _TRIPLE_FORMATS else [q.triple for q in quads]
        else:
            contents[p.graph] = p.path  # bulk-loaded straight from the file
    for p in todo:
        if p.role != "source":
            contents[p.graph] = _rules_content(p)
    for p in data:
        contents.setdefault(p.graph, [])  # a source with no rows empties its graph
    report = None
    if validate and data:
        step(f"validating {len(batch)} triples")
        report = validate_triples(
            batch, settings, context=store, source_map=source_map, progress=step
        )
    return contents, report


def _rules_content(p: Planned) -> GraphContent:
    if not p.extra:
        return p.path
    triples: list[ox.Triple] = []
    for path in (p.path, *p.extra):
        triples.extend(q.triple for q in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))
    return triples


def _release_files(
    todo: Sequence[Planned],
    rules: Sequence[Path],
    shape_files: Sequence[Path],
    names: Mapping[str, str],
) -> list[FileInfo]:
    files = [
        FileInfo(
            names.get(str(p.path), str(p.path)), p.sha256, "source", p.graph, None, p.fingerprint
        )
        for p in todo
        if p.role == "source"
    ]
    files += [
        FileInfo(str(p.path), p.sha256, p.role, p.graph, _version(p.path), p.fingerprint)
        for p in todo
        if p.role != "source"
    ]
    listed = {p.path for p in todo} | {e for p in todo for e in p.extra}
    for path in rules:
        if path in listed:  # published in this release too: listed once, with its graph
            continue
        role = "shapes" if path in shape_files else "ontology"
        files.append(FileInfo(str(path), sha256_file(path), role, version=_version(path)))
    return files


def _version(path: Path) -> str | None:
    """``owl:versionInfo`` of a Turtle file (the ontology's, the shapes'), if it states one."""
    try:
        for quad in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
            if quad.predicate == _OWL_VERSION and isinstance(quad.object, ox.Literal):
                return quad.object.value
    except (OSError, SyntaxError):
        return None
    return None
