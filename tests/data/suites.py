"""Which files of the upstream test suites the tests use, and how the copies here were made.

The tests read only copies kept in this folder (a clone must test itself with nothing beside it).
What is copied is decided by the manifests, not by hand: a suite's *closure* is its root
manifests, every manifest they include (``mf:include``) and every local file any of those
manifests names (queries, updates, data, expected results, shapes). Files a manifest does not
name are left out. ``tests/test_suite_copies.py`` checks that each copy is exactly its closure,
so a manifest entry whose file is missing, or a stray file, fails a test.

Run once by hand, to make or refresh the copies (never by the tests)::

    python -m tests.data.suites sparql11 RDF_TESTS/sparql/sparql11
    python -m tests.data.suites shacl DATA_SHAPES/data-shapes-test-suite/tests

then update the README and the licence of that suite if the upstream commit changed.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

HERE = Path(__file__).resolve().parent
MF_INCLUDE = ox.NamedNode("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#include")
RDF_FIRST = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#first")
RDF_REST = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#rest")
#: Relative IRIs in a manifest are resolved against this stand-in base, then mapped back to paths.
LOCAL_BASE = "http://suite.invalid/"
#: Files in a copy that are ours, not the suite's.
OWN_FILES = frozenset({"README.md", "LICENSE.md"})


@dataclass(frozen=True)
class Suite:
    """One copied suite: where the copy lives and its root manifests (relative paths)."""

    name: str
    roots: tuple[str, ...]

    @property
    def copy(self) -> Path:
        return HERE / "w3c" / self.name


SUITES = {
    # manifest-all.ttl is what tests/conformance reads; http-rdf-update/manifest.ttl is the prose
    # that tests/conformance/test_http_rdf_update.py transcribes case by case.
    "sparql11": Suite("sparql11", ("manifest-all.ttl", "http-rdf-update/manifest.ttl")),
    "shacl": Suite("shacl", ("manifest.ttl",)),
}


def closure(root: Path, manifests: Iterable[str]) -> set[str]:
    """Every file (relative POSIX path under ``root``) the manifests reach, manifests included.

    >>> sorted(closure(HERE / "w3c" / "shacl", ["manifest.ttl"]))[:2]
    ['core/complex/manifest.ttl', 'core/complex/personexample.ttl']
    """
    found: set[str] = set()
    pending = list(manifests)
    while pending:
        relative = pending.pop()
        if relative in found:
            continue
        found.add(relative)
        triples = list(
            ox.parse(
                path=root / relative, format=ox.RdfFormat.TURTLE, base_iri=LOCAL_BASE + relative
            )
        )
        includes = _included(triples)
        for term in {t.subject for t in triples} | {t.object for t in triples}:
            if not isinstance(term, ox.NamedNode) or not term.value.startswith(LOCAL_BASE):
                continue
            path = term.value[len(LOCAL_BASE) :].split("#", 1)[0]
            if term in includes:
                pending.append(path)
            elif (root / path).is_file():
                found.add(path)
    return found


def _included(triples: list[ox.Triple]) -> set[object]:
    """The objects of ``mf:include``: one IRI each, or the members of an RDF list (SPARQL 1.1)."""
    first = {t.subject: t.object for t in triples if t.predicate == RDF_FIRST}
    rest = {t.subject: t.object for t in triples if t.predicate == RDF_REST}
    included: set[object] = set()
    for node in (t.object for t in triples if t.predicate == MF_INCLUDE):
        while node in first:
            included.add(first[node])
            node = rest[node]
        included.add(node)
    return included


def files_of(copy: Path) -> set[str]:
    """The suite files in a copy (relative POSIX paths), without our README and licence."""
    return {
        p.relative_to(copy).as_posix()
        for p in copy.rglob("*")
        if p.is_file() and p.relative_to(copy).as_posix() not in OWN_FILES
    }


def copy_suite(suite: Suite, source: Path) -> int:
    """Copy the closure of ``suite`` from an upstream checkout; returns the number of files."""
    wanted = closure(source, suite.roots)
    for relative in sorted(wanted):
        target = suite.copy / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / relative, target)
    return len(wanted)


if __name__ == "__main__":
    name, source = sys.argv[1], Path(sys.argv[2])
    print(f"{copy_suite(SUITES[name], source)} files copied into {SUITES[name].copy}")
