"""Run a SHACL engine over a batch of triples and map every result back to the cells it came from.

Two engines (``Settings.validation_engine``): ``fast``, the default, is the ``shacl`` package
(``fast.py``; Rust, 50 to 100 times faster here); ``pyshacl`` is the reference.
``tests/test_shacl_engines.py`` holds them to identical findings on the W3C SHACL suite, the
shipped shapes and the invalid corpus. Where the fast engine could not report a batch exactly as
pySHACL would (a shape without ``sh:message``, a message in several languages, SPARQL it refuses,
a blank-node label it cannot map back) the batch goes to pySHACL instead (``Report.engine`` says
which ran).

Modules: ``rules`` (the rules, parsed once), ``context`` (what a batch refers to), ``engines``
(the engines and their findings), ``hints`` (the closest allowed values for a value outside its
list), ``terms`` (pyoxigraph ↔ rdflib); the inputs are read below, in
``sinlod.inputs``. What ``validate_triples`` adds around the engines: results about context nodes
are dropped (the store's own problems are not the batch's), and each result is located through
the ``SourceMap`` of the conversion (file, row, column); for RDF files the lines are looked up
only for the nodes that findings are about.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox
from rdflib.namespace import SH

from sinlod.config import Settings
from sinlod.inputs import FileSourceMap, read_inputs
from sinlod.sourcemap import SourceMap
from sinlod.validate import fast
from sinlod.validate.context import (
    context_triples,
    open_context,
    reference_context,
    referenced_iris,
)
from sinlod.validate.engines import engine_name, fast_findings, pyshacl_findings, run_pyshacl
from sinlod.validate.fast import Declined
from sinlod.validate.findings import Finding, Report
from sinlod.validate.rules import load_rules
from sinlod.validate.terms import focus_nt, to_nt

if TYPE_CHECKING:
    from sinlod.convert import Conversion
    from sinlod.convert import SourceOptions as Options
    from sinlod.store.backend import StoreBackend as SinlodStore

Progress = Callable[[str], None]


def validate(
    data: Conversion | Sequence[Path],
    settings: Settings,
    *,
    context: ox.Store | Path | SinlodStore | None = None,
    progress: Progress | None = None,
    options: Options | None = None,
    mapping_files: Sequence[Path] = (),
) -> Report:
    """Validate a conversion, or files (RDF by extension; anything else is converted as records).

    Records are read and mapped as ``options`` say (the source options of ``sinlod convert``:
    mappings, sheet, encoding, delimiter); ``mapping_files`` are added to theirs.

    Raises ``InputError`` for unreadable input or rules, ``ConversionFailed`` when records do not
    convert, ``StoreError`` when the context store cannot be read. Violations are not raised:
    they are in the returned ``Report`` (``conforms`` is false).
    """
    step = progress or _no_progress
    if isinstance(data, str | Path):  # one path given where a list was meant
        data = [Path(data)]
    if isinstance(data, Sequence):
        step("reading input")
        if mapping_files:
            from sinlod.convert import SourceOptions

            options = options or SourceOptions()
            files = (*options.mapping_files, *map(Path, mapping_files))
            options = dataclasses.replace(options, mapping_files=files)
        quads, source_map = read_inputs([Path(p) for p in data], settings, options)
    else:
        quads, source_map = list(data.quads()), data.source_map
    return validate_triples(
        quads, settings, context=context, source_map=source_map, progress=progress
    )


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
    extra += reference_context(settings, iris)
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
            findings = list(fast_findings(results, rules, smap))
        except Declined:
            findings = None  # something only pySHACL reports identically: let it do the batch
    used = "fast" if findings is not None else "pyshacl"
    if findings is None:
        report = run_pyshacl(batch, extra, rules)
        nodes = [*report.objects(None, SH.focusNode), *report.objects(None, SH.value)]
        _fill(smap, {to_nt(n) for n in nodes})
        findings = list(pyshacl_findings(report, rules, smap))
    step("locating results")
    described = {str(t.subject) for t in batch}
    context_only = {str(t.subject) for t in extra} - described
    kept = [f for f in findings if focus_nt(f.focus) not in context_only]
    kept = _with_code_findings(kept, batch, settings, smap)
    return Report.of(kept, rules.prefixes, engine=used)


def _with_code_findings(
    found: list[Finding], batch: Sequence[ox.Triple | ox.Quad], settings: Settings, smap: SourceMap
) -> list[Finding]:
    """Add links to codes missing from their reference table (``sinlod.linking.check``).

    Such a finding replaces a shape's finding about the same value (the IRI pattern of a
    malformed code): it says the same, and how to fix it ("expected ...: `DEU`").
    """
    from sinlod.linking.check import findings as code_findings
    from sinlod.linking.tables import load_tables

    codes = code_findings(batch, load_tables(settings.reference_dir), smap)
    if not codes:
        return found
    same = {(f.focus, f.path, f.value) for f in codes}
    return [f for f in found if (f.focus, f.path, f.value) not in same] + codes


def _fill(source_map: SourceMap, nodes: set[str]) -> None:
    if isinstance(source_map, FileSourceMap):
        source_map.fill(nodes)


def _no_progress(stage: str) -> None:
    pass
