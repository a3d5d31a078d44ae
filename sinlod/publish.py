"""The pipeline behind ``sinlod publish``: convert or read → validate with the store as context →
load → release record.

Each source goes to its own named graph (``{base}graph/{file-stem}``); the ontology to
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

import getpass
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from sinlod import __version__
from sinlod.changes import ShapesViolated, commit
from sinlod.config import Settings
from sinlod.convert import SourceOptions
from sinlod.errors import InputError
from sinlod.inputs import RDF_SUFFIXES, read_rdf
from sinlod.minting import graph_iri
from sinlod.sourcemap import SourceMap
from sinlod.store import (
    FileInfo,
    GraphContent,
    Release,
    ReleaseInfo,
    Store,
    current_fingerprints,
    ontology_graph,
    reference_graph,
    vocabulary_graph,
)
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
    """What a publish did. ``release`` is None when everything was unchanged and skipped."""

    release: Release | None
    published: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    report: Report | None = None


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
    store: Store,
    *,
    force: bool = False,
    validate: bool = True,
    ontology: bool = True,
    skip_unchanged: bool = True,
    agent: str | None = None,
    progress: Progress | None = None,
    options: SourceOptions | None = None,
) -> PublishResult:
    """Publish record files and RDF files (and the ontology) into ``store`` in one release.

    Record files are read and mapped as ``options`` say (``sinlod convert``'s source options);
    the mapping files used and any reading option are part of each source's fingerprint.

    Raises ``InputError`` for unreadable sources, ``ConversionFailed`` when records do not
    convert, and ``PublishRefused`` (an ``InvalidData``) when the data violates the shapes and
    ``force`` is false; in every one of these cases the store is left exactly as it was.
    """
    step = progress or (lambda stage: None)
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
    if not todo:
        step("nothing changed")
        return PublishResult(None, [], skipped)

    contents, report = _prepare(todo, records, settings, store, validate, step, options)
    if report is not None and not report.conforms and not force:
        raise PublishRefused(report)
    step(f"loading {len(contents)} graph{'s' * (len(contents) != 1)}")
    info = ReleaseInfo(
        agent=agent or default_agent(),
        files=_release_files(todo, rules, shape_files),
        conforms=None if report is None else report.conforms,
        violations=0 if report is None else report.counts()["Violation"],
        forced=force and report is not None and not report.conforms,
    )
    release = commit(store, contents, info)
    assert release is not None  # only named graphs: the release is returned
    return PublishResult(release, sorted(contents), skipped, report)


def _split(sources: Sequence[Path | str]) -> tuple[list[Path | str], list[Path]]:
    """Record sources (files, directories, globs, as ``sinlod convert`` takes them), RDF files."""
    records: list[Path | str] = []
    rdf: list[Path] = []
    for source in sources:
        path = Path(source)
        if path.suffix.lower() in RDF_SUFFIXES and not path.is_dir():
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
        for source in expand_sources(records):
            sha = sha256_file(source.path)
            fingerprint = _digest(__version__, settings.base_iri, sha, mapping_digest, rules)
            graph = graph_iri(settings.base_iri, source.path.stem)
            plan.append(Planned(graph, source.path, "source", sha, fingerprint))
    for path in rdf_files:
        sha = sha256_file(path)
        fingerprint = _digest(__version__, settings.base_iri, sha, rules)
        plan.append(
            Planned(graph_iri(settings.base_iri, path.stem), path, "source", sha, fingerprint)
        )
    graphs = [p.graph for p in plan]
    twice = sorted({g for g in graphs if graphs.count(g) > 1})
    if twice:
        raise InputError(
            f"two sources would be published into the same graph {twice[0]} "
            "(sources are keyed by file name without extension)"
        )
    return plan


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
    store: Store,
    validate: bool,
    step: Progress,
    options: SourceOptions,
) -> tuple[dict[str, GraphContent], Report | None]:
    """The content of each graph to write, and the validation report of the data among them."""
    contents: dict[str, GraphContent] = {}
    batch: list[ox.Triple | ox.Quad] = []
    source_map = SourceMap()
    data = [p for p in todo if p.role == "source"]
    wanted = {p.graph for p in data}
    record_paths = {p.path for p in data if p.path.suffix.lower() not in RDF_SUFFIXES}
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
        if p.path.suffix.lower() not in RDF_SUFFIXES:
            continue
        fmt = RDF_SUFFIXES[p.path.suffix.lower()]
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
    todo: Sequence[Planned], rules: Sequence[Path], shape_files: Sequence[Path]
) -> list[FileInfo]:
    files = [
        FileInfo(str(p.path), p.sha256, "source", p.graph, None, p.fingerprint)
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
