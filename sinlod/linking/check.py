"""Every link into a closed EU code list must name a code of its table: checked on each validate.

A link is a triple whose object is an IRI in the namespace of a table (NUTS, the authority tables
for countries, languages and corporate bodies). When the table is loaded, the IRI must be one of
its concepts, else the link is a problem whose message says what is wrong and how to fix it:

- a code of the other NUTS version (``sinlod:nutsRegion`` links NUTS 2021 regions, so a
  2024-only code is wrong there, with its 2021 code when the region was only renamed);
- an Extra-Regio code (``DEZZZ``), which no place lies in;
- a code in another notation (``DE`` or ``276`` for ``DEU``, ``dut`` or ``nl`` for ``NLD``,
  ``EL`` for ``GRC``);
- anything else, with the closest codes ("did you mean DEA32, DEA33?").

Targets with no table loaded (the authority ``place`` table, Wikidata, GeoNames) are not judged:
their IRI patterns are the shapes' job. The check looks up sets, so 10 000 links cost
milliseconds; ``findings`` turns problems into validation findings at their source cells.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import TYPE_CHECKING

from pyoxigraph import NamedNode, Quad, Triple

from sinlod.linking.tables import CodeTables
from sinlod.namespaces import PREFIXES
from sinlod.sourcemap import SourceMap

if TYPE_CHECKING:
    from sinlod.validate.findings import Finding

NUTS = "http://data.europa.eu/nuts/"
AUTHORITY = "http://publications.europa.eu/resource/authority/"
NUTS_2021 = NUTS + "scheme/2021"
NUTS_2024 = NUTS + "scheme/2024"


@dataclass(frozen=True)
class Table:
    """A closed code list: where its codes live, its schemes, and how its codes are written."""

    key: str
    namespace: str
    schemes: tuple[str, ...]
    form: str


TABLES: tuple[Table, ...] = (
    Table("nuts", NUTS + "code/", (NUTS_2021, NUTS_2024), "a NUTS code"),
    Table(
        "country",
        AUTHORITY + "country/",
        (AUTHORITY + "country",),
        "an ISO 3166-1 alpha-3 code",
    ),
    Table(
        "language",
        AUTHORITY + "language/",
        (AUTHORITY + "language",),
        "an ISO 639-3 code (ISO 639-2/T)",
    ),
    Table(
        "corporate-body",
        AUTHORITY + "corporate-body/",
        (AUTHORITY + "corporate-body",),
        "an EU corporate-body code",
    ),
)

#: Link properties that name the version of the table they link into. The shipped mappings and
#: the model link places to NUTS 2021 (DOMAIN.md: "record the scheme with every code").
PREDICATE_SCHEMES: dict[str, tuple[str, ...]] = {PREFIXES["sinlod"] + "nutsRegion": (NUTS_2021,)}

SCHEME_TITLES = {
    NUTS_2021: "NUTS 2021",
    NUTS_2024: "NUTS 2024",
    AUTHORITY + "country": "the EU country table",
    AUTHORITY + "language": "the EU language table",
    AUTHORITY + "corporate-body": "the EU corporate-body table",
}


@dataclass(frozen=True)
class CodeProblem:
    """A link whose target is not a code of its table, and why."""

    subject: str  # N-Triples form
    predicate: str
    target: str
    message: str


def table_of(iri: str) -> Table | None:
    for table in TABLES:
        if iri.startswith(table.namespace):
            return table
    return None


def check_codes(data: Iterable[Triple | Quad], tables: CodeTables) -> list[CodeProblem]:
    """The links of ``data`` into loaded tables whose target is not a code of the right scheme."""
    verdicts: dict[tuple[str, str], str | None] = {}
    problems = []
    for t in data:
        o = t.object
        if not isinstance(o, NamedNode):
            continue
        key = (t.predicate.value, o.value)
        if key not in verdicts:
            verdicts[key] = _verdict(t.predicate.value, o.value, tables)
        message = verdicts[key]
        if message is not None:
            problems.append(CodeProblem(str(t.subject), t.predicate.value, o.value, message))
    return problems


def _verdict(predicate: str, iri: str, tables: CodeTables) -> str | None:
    table = table_of(iri)
    if table is None:
        return None
    allowed = [s for s in PREDICATE_SCHEMES.get(predicate, table.schemes) if tables.has(s)]
    if not allowed or any(iri in tables.members[s] for s in allowed):
        return None
    return explain(predicate, iri, table, allowed, tables)


def explain(predicate: str, iri: str, table: Table, allowed: Sequence[str], t: CodeTables) -> str:
    """Why ``iri`` is not a code of ``allowed``, and the fix where one can be found."""
    code = iri[len(table.namespace) :]
    where = " or ".join(SCHEME_TITLES.get(s, f"<{s}>") for s in allowed)
    others = [s for s in t.schemes_of(iri) if s not in allowed]
    if others:
        other = SCHEME_TITLES.get(others[0], f"<{others[0]}>")
        text = f"{code} is a {other} code, but {_short(predicate)} links {where} codes"
        before = sorted(
            old[len(table.namespace) :]
            for old, new in t.details.replaced_by.items()
            if new == iri and any(old in t.members[s] for s in allowed)
        )
        return text + (f"; in {where} this region is {before[0]}" if before else "")
    if table.key == "nuts" and len(code) > 2 and set(code[2:]) == {"Z"}:
        return (
            f"{code} is a NUTS Extra-Regio code (territory outside any region), "
            "not a region a place lies in"
        )
    members = frozenset().union(*(t.members[s] for s in allowed))
    fixes = sorted(i for i in t.details.hidden.get(code.casefold(), ()) if i in members)
    if not fixes and table.namespace + code.upper() in members:
        fixes = [table.namespace + code.upper()]
    if fixes:
        fixed = ", ".join(f"`{f[len(table.namespace) :]}`" for f in fixes)
        return f"got `{code}`, expected {table.form}: {fixed}"
    near = closest(code, [m[len(table.namespace) :] for m in members])
    hint = f"; did you mean {', '.join(near)}?" if near else ""
    return f"{code} is not a code of {where}{hint}"


def closest(code: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """The ``n`` candidates nearest to ``code``: longest common prefix, same length, similar.

    >>> closest("DEA3X", ["DEA32", "DEA33", "DE", "FRA32", "DEB31"])
    ['DEA32', 'DEA33', 'DEB31']
    """
    folded = code.upper()

    def key(c: str) -> tuple[int, int, float, str]:
        prefix = 0
        while prefix < min(len(c), len(folded)) and c[prefix] == folded[prefix]:
            prefix += 1
        ratio = SequenceMatcher(None, folded, c).ratio()
        return (-prefix, abs(len(c) - len(folded)), -ratio, c)

    ranked = sorted(candidates, key=key)
    return [c for c in ranked[:n] if SequenceMatcher(None, folded, c).ratio() >= 0.4]


def _short(iri: str) -> str:
    best = max(
        ((k, ns) for k, ns in PREFIXES.items() if iri.startswith(ns)),
        key=lambda kv: len(kv[1]),
        default=None,
    )
    return f"{best[0]}:{iri[len(best[1]) :]}" if best else f"<{iri}>"


def findings(
    data: Iterable[Triple | Quad], tables: CodeTables, source_map: SourceMap | None = None
) -> list[Finding]:
    """The problems of ``data`` as validation ``Finding``s (Violations), at their source cells."""
    from sinlod.validate.findings import Finding

    problems = check_codes(data, tables)
    if source_map is not None and problems:
        source_map.fill({p.subject for p in problems})  # lazily located RDF files
    out: list[Finding] = []
    for p in problems:
        value = f"<{p.target}>"
        locations = source_map.locate(p.subject, f"<{p.predicate}>", value) if source_map else []
        out.append(
            Finding(
                severity="Violation",
                message=p.message,
                focus=p.subject if p.subject.startswith("_:") else p.subject[1:-1],
                path=p.predicate,
                value=value,
                source_shape=None,
                constraint="sinlod:InReferenceTable",
                locations=tuple(locations),
            )
        )
    return out
