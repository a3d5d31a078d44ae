"""Reading the inputs of a validation or a publish: RDF files (with their lines) and record files.

Below validation and publishing, above the record readers and the mapping: ``sinlod validate``,
``sinlod publish`` and the rules loader all read RDF files here, so a blank node label is scoped
to its file and a bad file is reported with its line the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox

from sinlod.config import Settings
from sinlod.errors import InputError, SourceLocation
from sinlod.rdf_guard import check_rdf
from sinlod.records import SUFFIXES as RECORD_SUFFIXES
from sinlod.sourcemap import SourceMap

if TYPE_CHECKING:
    from sinlod.convert import SourceOptions

#: Extensions pyoxigraph does not map but RDF tools write: OWL ontologies saved as RDF/XML.
_EXTRA_EXTENSIONS = {"owl": ox.RdfFormat.RDF_XML}
#: Extensions pyoxigraph maps that a steward's files use otherwise: ``.json`` is a records file
#: here (JSON-LD is ``.jsonld``), ``.txt`` is no N-Triples, ``.xml`` is seldom RDF/XML (which is
#: ``.rdf``), and N3 (formulas, rules) is not RDF.
_NOT_RDF = {ext.lstrip(".") for ext in RECORD_SUFFIXES} | {"txt", "xml", "n3"}


def rdf_format(path: Path) -> ox.RdfFormat | None:
    """The RDF serialization a file holds by its extension, as pyoxigraph names them (``.ttl``,
    ``.nt``, ``.nq``, ``.trig``, ``.jsonld``, ``.rdf``) plus ``.owl``; None: not RDF,
    so a record file to convert."""
    ext = path.suffix.lower().lstrip(".")
    if not ext or ext in _NOT_RDF:
        return None
    return _EXTRA_EXTENSIONS.get(ext) or ox.RdfFormat.from_extension(ext)


def is_rdf(path: Path) -> bool:
    """A file read as RDF rather than converted (directories are records folders)."""
    return not path.is_dir() and rdf_format(path) is not None


def parse_rdf_file(path: Path, prefixes: dict[str, str]) -> list[ox.Quad]:
    """All quads of an RDF file, collecting its prefixes; ``InputError`` with the line if bad."""
    fmt = rdf_format(path)
    if fmt is None:
        raise InputError(
            f"{path}: not an RDF file (expected .ttl, .nt, .nq, .trig, .jsonld, .rdf or .owl)"
        )
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


def scope_blank_nodes(quads: list[ox.Quad], taken: set[str]) -> list[ox.Quad]:
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


def read_rdf(path: Path, source_map: SourceMap, labels: set[str] | None = None) -> list[ox.Quad]:
    """The quads of an RDF file; records each triple's line for N-Triples/N-Quads, else the file.

    Line numbers come free only for the line-based formats (one triple per line, N-Triples §2);
    for the others a finding names the file and the focus node. A ``FileSourceMap`` records
    them later, and only for the nodes that findings are about.
    """
    quads = scope_blank_nodes(parse_rdf_file(path, {}), set() if labels is None else labels)
    if isinstance(source_map, FileSourceMap):
        source_map.defer(path, quads)
    else:
        _record_places(path, quads, source_map, None)
    return quads


def read_inputs(
    paths: Sequence[Path], settings: Settings, options: SourceOptions | None = None
) -> tuple[list[ox.Quad], SourceMap]:
    """Quads and source map of RDF files and record files (converted with ``sinlod.convert``).

    ``options`` say how record files are read and mapped (``--mappings``, ``--sheet``, ...);
    RDF files are read by extension whatever they say.
    """
    source_map = FileSourceMap()
    quads: list[ox.Quad] = []
    records = [p for p in paths if not is_rdf(p)]
    labels: set[str] = set()
    for path in paths:
        if path not in records:
            quads.extend(read_rdf(path, source_map, labels))
    if records:
        from sinlod.convert import convert

        keywords = options.keywords() if options is not None else {}
        conversion = convert(records, settings, **keywords)
        quads.extend(conversion.quads())
        source_map.update(conversion.source_map)
    return quads, source_map


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
    if rdf_format(path) not in (ox.RdfFormat.N_TRIPLES, ox.RdfFormat.N_QUADS):
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
