"""Run a SHACL engine over a batch of triples and map every result back to the cells it came from.

Two engines (``Settings.validation_engine``): ``fast``, the default, is the ``shacl`` package
(``fast.py``; Rust, 50 to 100 times faster here); ``pyshacl`` is the reference.
``tests/test_shacl_engines.py`` holds them to identical findings on the W3C SHACL suite, the
shipped shapes and the invalid corpus. Where the fast engine could not report a batch exactly as
pySHACL would (a shape without ``sh:message``, a message in several languages, SPARQL it refuses,
a blank-node label it cannot map back) the batch goes to pySHACL instead (``Report.engine`` says
which ran). What this module adds around the engines:

- the shapes, the ontology and the reference snapshots are parsed (and compiled for the fast
  engine) once per process and kept until one of their files changes (the server validates
  every write, so this matters);
- a batch is validated *alone*, with only the context it needs: for every IRI the batch refers to
  but does not describe, its types, labels and ``skos:inScheme`` are pulled (one SPARQL query) from
  the vocabularies, the reference snapshots and, optionally, a published store, so that
  ``sh:class`` on a reference resolves without validating the whole store again;
- results about context nodes are dropped: the store's own problems are not the batch's;
- each result is located through the ``SourceMap`` of the conversion (file, row, column); for
  RDF files the lines are looked up only for the nodes that findings are about.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox
import pyshacl
import rdflib
from rdflib.namespace import RDF, SH

from sinlod.config import Settings
from sinlod.errors import InputError, SourceLocation, StoreError
from sinlod.namespaces import PREFIXES
from sinlod.rdf_guard import check_rdf
from sinlod.sourcemap import SourceMap
from sinlod.validate import fast
from sinlod.validate.fast import Declined, FastShapes, RawResult, compile_shapes
from sinlod.validate.findings import Finding, Report
from sinlod.validate.render import compact

if TYPE_CHECKING:
    from sinlod.convert import Conversion
    from sinlod.store import Store as SinlodStore

# rdflib logs every ill-typed literal ("Failed to convert Literal lexical form") through
# logging's last-resort handler, i.e. to stderr; the finding about it is what users should see.
logging.getLogger("rdflib.term").addHandler(logging.NullHandler())

#: RDF serializations read by file extension; other files are records to convert.
RDF_SUFFIXES: dict[str, ox.RdfFormat] = {
    ".ttl": ox.RdfFormat.TURTLE,
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".nq": ox.RdfFormat.N_QUADS,
    ".trig": ox.RdfFormat.TRIG,
    ".jsonld": ox.RdfFormat.JSON_LD,
    ".rdf": ox.RdfFormat.RDF_XML,
    ".owl": ox.RdfFormat.RDF_XML,
}

#: What the context query pulls about each referenced IRI.
CONTEXT_PREDICATES = (
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
    "http://www.w3.org/2000/01/rdf-schema#label",
    "http://www.w3.org/2004/02/skos/core#prefLabel",
    "http://www.w3.org/2004/02/skos/core#inScheme",
)
#: IRIs per context query: one query for any usual batch, bounded text for huge ones.
CONTEXT_CHUNK = 50_000
_RDF_TYPE = ox.NamedNode(CONTEXT_PREDICATES[0])
_IN_SCHEME = ox.NamedNode(CONTEXT_PREDICATES[3])
_SKOS_CONCEPT = ox.NamedNode("http://www.w3.org/2004/02/skos/core#Concept")
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"

Progress = Callable[[str], None]

#: Validation engines: ``fast`` (the ``shacl`` package, falling back to pySHACL per batch where
#: it could not report identically) and ``pyshacl`` (the reference, always).
ENGINES = ("fast", "pyshacl")


# -- the rules: shapes + ontology, parsed once -------------------------------------------------


@dataclass(frozen=True)
class Rules:
    """Shapes and ontology ready for pySHACL, and a store of vocabularies for context look-ups."""

    shapes: rdflib.Graph
    ontology: rdflib.Graph
    lookup: ox.Store
    prefixes: dict[str, str]
    fast: FastShapes


_rules_cache: dict[tuple[tuple[str, int, int], ...], Rules] = {}
_rules_lock = threading.Lock()
_pyshacl_lock = threading.Lock()


def rule_files(settings: Settings) -> tuple[list[Path], list[Path]]:
    """(shape files, ontology files): shapes/*.ttl; sinlod.ttl, vocabularies/*.ttl, reference/*.ttl.

    Raises ``InputError`` when the shapes or the ontology are missing: validating against nothing
    would pass everything.
    """
    shapes = sorted(settings.shapes_dir.glob("*.ttl"))
    if not shapes:
        raise InputError(f"no SHACL shapes (*.ttl) in {settings.shapes_dir}")
    main = settings.ontology_dir / "sinlod.ttl"
    if not main.is_file():
        raise InputError(f"no ontology at {main}")
    ontology = [main, *sorted((settings.ontology_dir / "vocabularies").glob("*.ttl"))]
    ontology += sorted((settings.data_dir / "reference").glob("*.ttl"))
    return shapes, ontology


def load_rules(settings: Settings) -> Rules:
    """The parsed rules for ``settings``, cached by path, size and mtime of every file."""
    shape_files, ontology_files = rule_files(settings)
    key = tuple(_stamp(p) for p in [*shape_files, *ontology_files])
    with _rules_lock:
        cached = _rules_cache.get(key)
        if cached is None:
            # the reference tables are checked as code sets (sinlod.linking.check), not by SHACL:
            # 110 000 triples in pySHACL's ontology graph would cost seconds per run
            reference = reference_dir(settings)
            shacl_ontology = [p for p in ontology_files if p.parent != reference]
            cached = _parse_rules(shape_files, shacl_ontology)
            if len(_rules_cache) >= 4:  # a few settings side by side (tests, servers); not more
                _rules_cache.clear()
            _rules_cache[key] = cached
        return cached


def reference_dir(settings: Settings) -> Path:
    """The directory of the reference tables (``data/reference``)."""
    return settings.data_dir / "reference"


def _stamp(path: Path) -> tuple[str, int, int]:
    try:
        st = path.stat()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc
    return (str(path.resolve()), st.st_size, st.st_mtime_ns)


def _scoped(quads: list[ox.Quad], taken: set[str]) -> list[ox.Quad]:
    """Give blank nodes whose label an earlier file used fresh labels: ``_:b0`` of two files are
    two nodes (a blank node label is scoped to its document, RDF 1.1 Concepts §3.4)."""
    labels = {t.value for q in quads for t in (q.subject, q.object) if isinstance(t, ox.BlankNode)}
    clashes = labels & taken
    taken |= labels
    if not clashes:
        return quads
    fresh = {label: ox.BlankNode() for label in clashes}
    taken |= {b.value for b in fresh.values()}

    def rename(term: Any) -> Any:
        return fresh.get(term.value, term) if isinstance(term, ox.BlankNode) else term

    return [
        ox.Quad(rename(q.subject), q.predicate, rename(q.object), rename(q.graph_name))
        for q in quads
    ]


def _parse_rules(shape_files: list[Path], ontology_files: list[Path]) -> Rules:
    prefixes = dict(PREFIXES)
    shapes = rdflib.Graph()
    labels: set[str] = set()
    shape_quads: list[ox.Quad] = []
    for path in shape_files:
        shape_quads += _scoped(_parse_file(path, prefixes), labels)
    for quad in shape_quads:
        shapes.add(_to_rdflib_triple(quad))
    ontology = rdflib.Graph()
    lookup = ox.Store()
    ontology_quads: list[ox.Quad] = []
    for path in ontology_files:
        quads = _scoped(_parse_file(path, prefixes), labels)
        lookup.extend(ox.Quad(q.subject, q.predicate, q.object) for q in quads)
        ontology_quads += quads
    for quad in ontology_quads:
        ontology.add(_to_rdflib_triple(quad))
    for name, iri in prefixes.items():
        shapes.bind(name, iri, override=False)
    fast = compile_shapes(shape_quads, ontology_quads)
    return Rules(shapes, ontology, lookup, prefixes, fast)


def _parse_file(path: Path, prefixes: dict[str, str]) -> list[ox.Quad]:
    """All quads of an RDF file, collecting its prefixes; ``InputError`` with the line if bad."""
    fmt = RDF_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise InputError(f"{path}: not an RDF file (expected one of {', '.join(RDF_SUFFIXES)})")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc
    check_rdf(data, fmt, str(path))
    try:
        parser = ox.parse(data, format=fmt, base_iri=path.resolve().as_uri())
        quads = list(parser)
    except SyntaxError as exc:
        where = SourceLocation(str(path), exc.lineno)
        raise InputError(f"not valid {fmt.name}: {exc.msg}", where) from exc
    for name, iri in parser.prefixes.items():
        prefixes.setdefault(name, iri)
    return quads


# -- reading the batch ---------------------------------------------------------------------------


def read_rdf(path: Path, source_map: SourceMap, labels: set[str] | None = None) -> list[ox.Quad]:
    """The quads of an RDF file; records each triple's line for N-Triples/N-Quads, else the file.

    Line numbers come free only for the line-based formats (one triple per line, N-Triples §2);
    for the others a finding names the file and the focus node. A ``FileSourceMap`` records
    them later, and only for the nodes that findings are about.
    """
    quads = _scoped(_parse_file(path, {}), set() if labels is None else labels)
    if isinstance(source_map, FileSourceMap):
        source_map.defer(path, quads)
    else:
        _record_places(path, quads, source_map, None)
    return quads


class FileSourceMap(SourceMap):
    """A source map whose RDF-file entries are filled in only for the nodes findings are about.

    Recording the line of each of a million triples takes longer than validating them, and
    holds gigabytes; a finding needs only the triples whose subject is its focus node (or, for
    an inverse path, its value).
    """

    def __init__(self) -> None:
        super().__init__()
        self._files: list[tuple[Path, list[ox.Quad]]] = []

    def defer(self, path: Path, quads: list[ox.Quad]) -> None:
        self._files.append((path, quads))

    def fill(self, nodes: set[str]) -> None:
        """Record the places of the triples whose subject is one of ``nodes`` (N-Triples)."""
        for path, quads in self._files:
            _record_places(path, quads, self, nodes)
        self._files.clear()


def _record_places(
    path: Path, quads: list[ox.Quad], source_map: SourceMap, only: set[str] | None
) -> None:
    name = str(path)
    picked = [i for i, q in enumerate(quads) if only is None or str(q.subject) in only]
    if not picked:
        return
    if RDF_SUFFIXES[path.suffix.lower()] not in (ox.RdfFormat.N_TRIPLES, ox.RdfFormat.N_QUADS):
        for i in picked:
            source_map.add_subject(str(quads[i].subject), SourceLocation(name))
        return
    text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    lines = [n for n, line in enumerate(text, 1) if line.strip()[:1] not in ("", "#")]
    for i in picked:
        if i < len(lines):
            q = quads[i]
            where = SourceLocation(name, lines[i])
            source_map.add(str(q.subject), str(q.predicate), str(q.object), where)


# -- context -------------------------------------------------------------------------------------


def referenced_iris(triples: Sequence[ox.Triple | ox.Quad]) -> list[ox.NamedNode]:
    """IRIs the batch points at (objects, not classes) without describing them itself."""
    subjects = {t.subject for t in triples}
    seen: dict[ox.NamedNode, None] = {}
    for t in triples:
        o = t.object
        if isinstance(o, ox.NamedNode) and o not in subjects and t.predicate != _RDF_TYPE:
            seen[o] = None
    return list(seen)


def context_triples(
    store: ox.Store,
    iris: Sequence[ox.NamedNode],
    *,
    outside: Sequence[str | None] | None = None,
) -> list[ox.Triple]:
    """Types, labels and ``skos:inScheme`` of ``iris`` in ``store``, all graphs: one query.

    ``outside`` names graphs to leave out (``None`` is the default graph): a write that replaces
    them brings their new content itself, so the old content must not answer for it.
    """
    found: list[ox.Triple] = []
    # FILTER, not a second VALUES: Oxigraph joins two VALUES blocks with ?s ?p ?o by scanning
    # the store (13 s against a million triples) but this form by index look-ups (0.1 s)
    predicates = ", ".join(f"<{p}>" for p in CONTEXT_PREDICATES)
    inner = f"?s ?p ?o FILTER (?p IN ({predicates}))"
    if outside is None:
        pattern = inner
    else:
        skip = ", ".join(f"<{g}>" for g in outside if g is not None)
        graph_filter = f"FILTER (?g NOT IN ({skip}))" if skip else ""
        default = "" if None in outside else f"{{ {inner} }} UNION "
        pattern = f"{default}{{ GRAPH ?g {{ {inner} }} {graph_filter} }}"
    for start in range(0, len(iris), CONTEXT_CHUNK):
        values = " ".join(str(i) for i in iris[start : start + CONTEXT_CHUNK])
        query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ VALUES ?s {{ {values} }} {pattern} }}"
        try:
            result = store.query(query, use_default_graph_as_union=outside is None)
        except OSError as exc:
            raise StoreError(f"cannot read the context store: {exc}") from exc
        if not isinstance(result, ox.QueryTriples):
            raise AssertionError("a CONSTRUCT query returns triples")
        found.extend(result)
    return found


@contextlib.contextmanager
def open_context(context: Any) -> Iterator[ox.Store]:
    """The pyoxigraph store to pull context from, for the time of a ``with`` block.

    ``context`` is a pyoxigraph store, a ``sinlod.store.Store`` (its published snapshot), or the
    path of a store directory, then opened read-only at its published snapshot and closed after.
    Raises ``InputError`` when the path is no directory, ``StoreError`` when it is not a store.
    """
    if isinstance(context, ox.Store):
        yield context
        return
    if isinstance(context, Path):
        from sinlod.store import Store

        if not context.is_dir():
            raise InputError(f"no store at {context} (--context expects a store directory)")
        with Store.open(context, read_only=True) as store:
            yield store.oxigraph
        return
    snapshot = getattr(context, "oxigraph", None)
    if not isinstance(snapshot, ox.Store):
        raise TypeError(f"context must be a store or a store directory, not {context!r}")
    yield snapshot


# -- running -------------------------------------------------------------------------------------


def validate(
    data: Conversion | Sequence[Path],
    settings: Settings,
    *,
    context: ox.Store | Path | SinlodStore | None = None,
    progress: Progress | None = None,
    mapping_files: Sequence[Path] = (),
) -> Report:
    """Validate a conversion, or files (RDF by extension; anything else is converted as records).

    Records are converted with ``settings.mappings_dir`` plus ``mapping_files``.

    Raises ``InputError`` for unreadable input or rules, ``ConversionFailed`` when records do not
    convert, ``StoreError`` when the context store cannot be read. Violations are not raised:
    they are in the returned ``Report`` (``conforms`` is false).
    """
    step = progress or _no_progress
    if isinstance(data, str | Path):  # one path given where a list was meant
        data = [Path(data)]
    if isinstance(data, Sequence):
        step("reading input")
        quads, source_map = read_inputs([Path(p) for p in data], settings, mapping_files)
    else:
        quads, source_map = list(data.quads()), data.source_map
    return validate_triples(
        quads, settings, context=context, source_map=source_map, progress=progress
    )


def read_inputs(
    paths: Sequence[Path], settings: Settings, mapping_files: Sequence[Path] = ()
) -> tuple[list[ox.Quad], SourceMap]:
    """Quads and source map of RDF files and record files (converted with ``sinlod.convert``)."""
    source_map = FileSourceMap()
    quads: list[ox.Quad] = []
    records = [p for p in paths if p.is_dir() or p.suffix.lower() not in RDF_SUFFIXES]
    labels: set[str] = set()
    for path in paths:
        if path not in records:
            quads.extend(read_rdf(path, source_map, labels))
    if records:
        from sinlod.convert import convert

        conversion = convert(records, settings, mapping_files=mapping_files)
        quads.extend(conversion.quads())
        source_map.update(conversion.source_map)
    return quads, source_map


def validate_triples(
    triples: Iterable[ox.Triple | ox.Quad],
    settings: Settings,
    *,
    context: ox.Store | Path | SinlodStore | None = None,
    source_map: SourceMap | None = None,
    progress: Progress | None = None,
) -> Report:
    """Validate ``triples`` (graph names ignored: the batch is one data graph) against the rules.

    ``context`` is a published store whose resources the batch may refer to; only what the batch
    references is read from it, and its own problems are not reported. Used by ``publish`` and by
    the server's write gate, which keep ``source_map`` as None when there is no source.
    Raises ``InputError`` for an unknown ``settings.validation_engine``.
    """
    step = progress or _no_progress
    engine = engine_name(settings)
    step("loading shapes")
    rules = load_rules(settings)
    batch = list(triples)
    step("pulling context")
    iris = referenced_iris(batch)
    extra = context_triples(rules.lookup, iris)
    extra += _reference_context(settings, iris)
    if context is not None:
        with open_context(context) as store:
            extra += context_triples(store, iris)
    step("validating")
    smap = SourceMap() if source_map is None else source_map
    findings: list[Finding] | None = None
    if engine == "fast":
        try:
            results = fast.run(rules.fast, [*batch, *extra])
            _fill(smap, {t for r in results for t in (r.focus, r.value) if t is not None})
            findings = list(_fast_findings(results, rules, smap))
        except Declined:
            findings = None  # something only pySHACL reports identically: let it do the batch
    used = "fast" if findings is not None else "pyshacl"
    if findings is None:
        report = _run_pyshacl(batch, extra, rules)
        nodes = [*report.objects(None, SH.focusNode), *report.objects(None, SH.value)]
        _fill(smap, {_nt(n) for n in nodes})
        findings = list(_findings(report, rules, smap))
    step("locating results")
    described = {str(t.subject) for t in batch}
    context_only = {str(t.subject) for t in extra} - described
    kept = [f for f in findings if _nt_focus(f.focus) not in context_only]
    kept = _with_code_findings(kept, batch, settings, smap)
    return Report.of(kept, rules.prefixes, engine=used)


def _reference_context(settings: Settings, iris: Sequence[ox.NamedNode]) -> list[ox.Triple]:
    """``a skos:Concept ; skos:inScheme`` of the referenced codes of the reference tables, so
    that shapes such as ``sh:class skos:Concept`` resolve as when the tables were ontology."""
    from sinlod.linking.tables import load_tables

    tables = load_tables(reference_dir(settings))
    out = []
    for iri in iris:
        for scheme in tables.schemes_of(iri.value):
            out.append(ox.Triple(iri, _RDF_TYPE, _SKOS_CONCEPT))
            out.append(ox.Triple(iri, _IN_SCHEME, ox.NamedNode(scheme)))
    return out


def _with_code_findings(
    found: list[Finding], batch: Sequence[ox.Triple | ox.Quad], settings: Settings, smap: SourceMap
) -> list[Finding]:
    """Add links to codes missing from their reference table (``sinlod.linking.check``).

    Such a finding replaces a shape's finding about the same value (the IRI pattern of a
    malformed code): it says the same, and how to fix it ("expected ...: `DEU`").
    """
    from sinlod.linking.check import findings as code_findings
    from sinlod.linking.tables import load_tables

    codes = code_findings(batch, load_tables(reference_dir(settings)), smap)
    if not codes:
        return found
    same = {(f.focus, f.path, f.value) for f in codes}
    return [f for f in found if (f.focus, f.path, f.value) not in same] + codes


def _fill(source_map: SourceMap, nodes: set[str]) -> None:
    if isinstance(source_map, FileSourceMap):
        source_map.fill(nodes)


def engine_name(settings: Settings) -> str:
    """The engine ``settings.validation_engine`` names; ``InputError`` for an unknown one."""
    engine = settings.validation_engine
    if engine not in ENGINES:
        raise InputError(f"unknown validation engine {engine!r}; use one of {', '.join(ENGINES)}")
    return engine


def _run_pyshacl(
    batch: Sequence[ox.Triple | ox.Quad], extra: Sequence[ox.Triple], rules: Rules
) -> rdflib.Graph:
    """pySHACL's report graph for the batch plus its context (the reference engine)."""
    graph = rdflib.Graph()
    for t in batch:
        graph.add(_to_rdflib_triple(t))
    for t in extra:
        graph.add(_to_rdflib_triple(t))
    with _pyshacl_lock:  # pySHACL writes to the shared shapes graph (its system triples)
        _, report_graph, _ = pyshacl.validate(
            graph,
            shacl_graph=rules.shapes,
            ont_graph=rules.ontology,
            inference="rdfs",
            inplace=True,  # the graph is ours and thrown away: skip pySHACL's copy
        )
    if not isinstance(report_graph, rdflib.Graph):
        raise AssertionError("pySHACL returns its report as a graph")
    return report_graph


def _no_progress(stage: str) -> None:
    pass


# -- from pySHACL's report to findings -----------------------------------------------------------


def _findings(report: rdflib.Graph, rules: Rules, source_map: SourceMap) -> Iterable[Finding]:
    """Findings from pySHACL's report graph."""
    memo: dict[Any, Any] = {}
    for result in report.objects(None, SH.result):
        value = report.value(result, SH.value)
        severity = report.value(result, SH.resultSeverity)
        yield _finding(
            rules,
            source_map,
            focus=_nt(report.value(result, SH.focusNode)),
            path=(report, report.value(result, SH.resultPath)),
            value=_nt(value) if value is not None else None,
            severity=_local(severity) if severity is not None else "Violation",
            message=_message(report, result),
            shape=report.value(result, SH.sourceShape),
            component=report.value(result, SH.sourceConstraintComponent),
            memo=memo,
        )


def _fast_findings(
    results: Iterable[RawResult], rules: Rules, source_map: SourceMap
) -> Iterable[Finding]:
    """Findings from the fast engine's results, built exactly as from pySHACL's report.

    The result path is taken from the source shape's ``sh:path`` in our shapes graph, so that it
    is rendered by the same code as pySHACL's copy of it. Raises ``Declined`` for what only
    pySHACL can report identically: a shape without ``sh:message`` (pySHACL writes one of its
    own), several messages (the language tags are not in the fast results), or a path that is
    not the shape's own.
    """
    memo: dict[Any, Any] = {}
    for r in results:
        if len(set(r.messages)) != 1:
            raise Declined("no sh:message, or several")
        shape = _rdflib_node(r.shape)
        path: Any = None
        if r.path is not None:
            if ("sh:path", shape) not in memo:
                memo["sh:path", shape] = rules.shapes.value(shape, SH.path)
            path = memo["sh:path", shape]
            if path is None:
                if not _SIMPLE_PATH.fullmatch(r.path):
                    raise Declined(f"result path {r.path} of a shape without sh:path")
                path = rdflib.URIRef(r.path[1:-1])
        yield _finding(
            rules,
            source_map,
            focus=r.focus,
            path=(rules.shapes, path),
            value=r.value,
            severity=_local(r.severity),
            message=r.messages[0],
            shape=shape,
            component=rdflib.URIRef(r.component),
            memo=memo,
        )


_SIMPLE_PATH = re.compile(r"<[^<>]*>")


def _rdflib_node(term: str) -> Any:
    return rdflib.BNode(term[2:]) if term.startswith("_:") else rdflib.URIRef(term[1:-1])


def _finding(
    rules: Rules,
    source_map: SourceMap,
    *,
    focus: str,
    path: tuple[rdflib.Graph, Any],
    value: str | None,
    severity: str,
    message: str,
    shape: Any,
    component: Any,
    memo: dict[Any, Any],
) -> Finding:
    """One finding, located through the source map; ``focus`` and ``value`` in N-Triples.

    ``path`` is the result path node and the graph that holds its structure. ``memo`` keeps
    what only depends on the shape (names, paths), computed once for thousands of results.
    """
    graph, node = path
    simple_path = f"<{node}>" if isinstance(node, rdflib.URIRef) else None
    locations = source_map.locate(focus, simple_path, value)
    inverse = _memo(memo, ("inverse", id(graph), node), lambda: _inverse(graph, node))
    if inverse is not None and value is not None:
        # ^p: the value's cell points at the focus, so that cell is the place to fix
        locations = source_map.locate(value, f"<{inverse}>", focus) or locations
    text = _memo(memo, ("path", id(graph), node), lambda: _path_text(graph, node))
    return Finding(
        severity=severity,
        message=message,
        focus=focus if focus.startswith("_:") else focus[1:-1],
        path=text if node is not None else None,
        value=value,
        source_shape=_memo(memo, ("shape", shape), lambda: _shape_name(rules, shape)),
        constraint=_memo(memo, ("c", component), lambda: _compact(rules.prefixes, component)),
        locations=tuple(locations),
    )


def _memo(memo: dict[Any, Any], key: Any, make: Callable[[], Any]) -> Any:
    if key not in memo:
        memo[key] = make()
    return memo[key]


def _inverse(graph: rdflib.Graph, node: Any) -> Any:
    inverse = graph.value(node, SH.inversePath) if node is not None else None
    return inverse if isinstance(inverse, rdflib.URIRef) else None


def _message(report: rdflib.Graph, result: Any) -> str:
    """The result message, English or untagged first; pySHACL makes one up when a shape has none."""
    messages = list(report.objects(result, SH.resultMessage))
    messages.sort(key=lambda m: (getattr(m, "language", None) not in (None, "en"), str(m)))
    return str(messages[0]) if messages else ""


def _shape_name(rules: Rules, shape: Any) -> str | None:
    """A stable name for a shape, also when it is a blank node (whose label changes per parse)."""
    if shape is None:
        return None
    if isinstance(shape, rdflib.URIRef):
        return _compact(rules.prefixes, shape)
    g = rules.shapes
    path = g.value(shape, SH.path)
    parent = g.value(None, SH.property, shape) or g.value(None, SH.node, shape)
    own = _compact(rules.prefixes, path) if isinstance(path, rdflib.URIRef) else None
    if parent is not None:
        parent_name = _shape_name(rules, parent) or "[]"
        return f"{parent_name}/{own}" if own else parent_name
    return f"[sh:path {own}]" if own else "[]"


def _path_text(g: rdflib.Graph, node: Any) -> str:
    """A SHACL path as a SPARQL property path with full IRIs (SHACL §2.3.1)."""
    if isinstance(node, rdflib.URIRef):
        return str(node)
    if g.value(node, RDF.first) is not None:  # a list first, as pySHACL reads a strange path
        return "/".join(_path_atom(g, n) for n in rdflib.collection.Collection(g, node))
    inverse = g.value(node, SH.inversePath)
    if inverse is not None:
        return "^" + _path_atom(g, inverse)
    alternatives = g.value(node, SH.alternativePath)
    if alternatives is not None:
        return "|".join(_path_atom(g, n) for n in rdflib.collection.Collection(g, alternatives))
    for prop, mark in ((SH.zeroOrMorePath, "*"), (SH.oneOrMorePath, "+"), (SH.zeroOrOnePath, "?")):
        inner = g.value(node, prop)
        if inner is not None:
            return _path_atom(g, inner) + mark
    return str(node)


def _path_atom(g: rdflib.Graph, node: Any) -> str:
    text = _path_text(g, node)
    return f"<{text}>" if isinstance(node, rdflib.URIRef) else f"({text})"


def _compact(prefixes: dict[str, str], iri: Any) -> str:
    return compact(prefixes, str(iri))


def _local(iri: Any) -> str:
    return str(iri).rsplit("#", 1)[-1].rsplit("/", 1)[-1]


# -- terms between pyoxigraph and rdflib -----------------------------------------------------------


def _to_rdflib_triple(t: ox.Triple | ox.Quad) -> tuple[Any, Any, Any]:
    return (_to_rdflib(t.subject), _to_rdflib(t.predicate), _to_rdflib(t.object))


def _to_rdflib(term: Any) -> Any:
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return rdflib.Literal(term.value, lang=term.language, normalize=False)
        dt = term.datatype.value
        datatype = None if dt == _XSD_STRING else rdflib.URIRef(dt)
        # normalize=False keeps the lexical form, so the value matches the source map exactly
        return rdflib.Literal(term.value, datatype=datatype, normalize=False)
    raise InputError(f"cannot validate RDF-star triple terms: {term}")


def _nt(term: Any) -> str:
    """An rdflib term in N-Triples syntax, as pyoxigraph writes it (the source map's keys)."""
    if isinstance(term, rdflib.URIRef):
        return str(ox.NamedNode(str(term)))
    if isinstance(term, rdflib.BNode):
        return str(ox.BlankNode(str(term)))
    if isinstance(term, rdflib.Literal):
        if term.language:
            return str(ox.Literal(str(term), language=term.language))
        dt = ox.NamedNode(str(term.datatype)) if term.datatype else None
        return str(ox.Literal(str(term), datatype=dt))
    return str(term)


def _nt_focus(focus: str) -> str:
    return focus if focus.startswith("_:") else f"<{focus}>"
