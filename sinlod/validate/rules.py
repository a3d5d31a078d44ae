"""The rules: shapes, ontology, vocabularies and reference snapshots, parsed once per process.

They are parsed (and compiled for the fast engine) once and kept until one of their files changes
(the server validates every write, so this matters). Where the files are is ``config.py``'s alone
(``Settings.shape_files``, ``ontology_file``, ``vocabulary_files``, ``reference_files``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import rdflib

from sinlod.config import Settings
from sinlod.errors import InputError
from sinlod.inputs import parse_rdf_file, scope_blank_nodes
from sinlod.namespaces import PREFIXES
from sinlod.validate.fast import FastShapes, compile_shapes
from sinlod.validate.terms import to_rdflib_triple


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


def rule_files(settings: Settings) -> tuple[list[Path], list[Path]]:
    """(shape files, ontology files): shapes/*.ttl; sinlod.ttl, vocabularies/*.ttl, reference/*.ttl.

    Raises ``InputError`` when the shapes or the ontology are missing: validating against nothing
    would pass everything.
    """
    shapes = settings.shape_files()
    if not shapes:
        raise InputError(f"no SHACL shapes (*.ttl) in {settings.shapes_dir}")
    main = settings.ontology_file
    if not main.is_file():
        raise InputError(f"no ontology at {main}")
    return shapes, [main, *settings.vocabulary_files(), *settings.reference_files()]


def load_rules(settings: Settings) -> Rules:
    """The parsed rules for ``settings``, cached by path, size and mtime of every file."""
    shape_files, ontology_files = rule_files(settings)
    key = tuple(_stamp(p) for p in [*shape_files, *ontology_files])
    with _rules_lock:
        cached = _rules_cache.get(key)
        if cached is None:
            # the reference tables are checked as code sets (sinlod.linking.check), not by SHACL:
            # 110 000 triples in pySHACL's ontology graph would cost seconds per run
            reference = settings.reference_dir
            shacl_ontology = [p for p in ontology_files if p.parent != reference]
            cached = _parse_rules(shape_files, shacl_ontology)
            if len(_rules_cache) >= 4:  # a few settings side by side (tests, servers); not more
                _rules_cache.clear()
            _rules_cache[key] = cached
        return cached


def _stamp(path: Path) -> tuple[str, int, int]:
    try:
        st = path.stat()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc
    return (str(path.resolve()), st.st_size, st.st_mtime_ns)


def _parse_rules(shape_files: list[Path], ontology_files: list[Path]) -> Rules:
    prefixes = dict(PREFIXES)
    shapes = rdflib.Graph()
    labels: set[str] = set()
    shape_quads: list[ox.Quad] = []
    for path in shape_files:
        shape_quads += scope_blank_nodes(parse_rdf_file(path, prefixes), labels)
    for quad in shape_quads:
        shapes.add(to_rdflib_triple(quad))
    ontology = rdflib.Graph()
    lookup = ox.Store()
    ontology_quads: list[ox.Quad] = []
    for path in ontology_files:
        quads = scope_blank_nodes(parse_rdf_file(path, prefixes), labels)
        lookup.extend(ox.Quad(q.subject, q.predicate, q.object) for q in quads)
        ontology_quads += quads
    for quad in ontology_quads:
        ontology.add(to_rdflib_triple(quad))
    for name, iri in prefixes.items():
        shapes.bind(name, iri, override=False)
    fast = compile_shapes(shape_quads, ontology_quads)
    return Rules(shapes, ontology, lookup, prefixes, fast)
