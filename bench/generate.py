"""Deterministic generator of realistic sinlod records at any scale, for the benchmarks.

The shipped dataset (``data/records/*.csv``, 13 tables, 246 rows, about 1,500 triples) is the
template: the generator writes the same tables with the same columns, each table ``copies`` times
over. Copy ``c`` of a row gets the key ``{key}-c{c}`` (copy 0 keeps the shipped key) and a
numbered name, and its references (the CSVW ``foreignKeys`` of ``data/mappings``) point at rows
of the same copy most of the time and, with a seeded chance, at the same row of another copy:
the organisations, projects, events, places and documents of one copy are linked to the others
the way a real network is. Every reference resolves, so the records convert with no problem and
validate as the shipped data does (its warnings, times ``copies``).

``--defects RATE`` breaks that fraction of the rows with one realistic mistake each, all of them
SHACL findings rather than conversion errors: an end date before the start date, a record
without any name, a lower-case currency code, a negative grant amount.

    python bench/generate.py OUT_DIR --triples 100000 [--seed 1] [--defects 0.01]
    python bench/generate.py OUT_DIR --copies 65

``generate_batch`` writes a batch of new records whose references point into already generated
(published) copies: the "1,000 new records against a published store" case.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECORDS = ROOT / "data" / "records"
MAPPINGS = ROOT / "data" / "mappings"
#: Triples the shipped records convert to (``sinlod convert data/records``); one copy's worth.
TRIPLES_PER_COPY = 1536
#: Chance that a reference points at another copy's row instead of the same copy's.
CROSS_LINK = 0.2
#: Columns that identify a real-world thing (an EU corporate body): only copy 0 keeps them.
IDENTITY_COLUMNS = {("organisations", "corporate_body")}
NAME_PREFIXES = ("name_", "label_", "title_")
#: The tables a batch of new records is made of (the rest is referred to in the store).
BATCH_TABLES = {"projects", "events", "grants", "involvements", "memberships"}


@dataclass(frozen=True)
class Table:
    """One shipped table: its header, rows, and which columns refer to which table."""

    name: str
    header: list[str]
    rows: list[dict[str, str]]
    references: dict[str, str]  # column -> referenced table name
    separators: dict[str, str]  # column -> separator of a multi-valued cell


def load_tables() -> list[Table]:
    """The shipped tables, in file-name order, with their foreign keys from the mappings."""
    tables = []
    for path in sorted(RECORDS.glob("*.csv")):
        name = path.stem
        with path.open(encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            header = list(reader.fieldnames or [])
            rows = list(reader)
        meta = json.loads((MAPPINGS / f"{name}.csv-metadata.json").read_text(encoding="utf-8"))
        schema = meta.get("tableSchema", meta)
        references = {
            fk["columnReference"]: fk["reference"]["resource"].removesuffix(".csv")
            for fk in schema.get("foreignKeys", [])
        }
        separators = {c["name"]: c["separator"] for c in schema["columns"] if c.get("separator")}
        tables.append(Table(name, header, rows, references, separators))
    return tables


def copies_for(triples: int) -> int:
    """How many copies of the shipped data make at least ``triples`` triples."""
    return max(1, math.ceil(triples / TRIPLES_PER_COPY))


def key(value: str, copy: int) -> str:
    return value if copy == 0 else f"{value}-c{copy}"


Ref = Callable[[str, str], str]


class _Writer:
    """Rows of one copy: keys, names and references rewritten, defects applied."""

    def __init__(self, rng: random.Random, defects: float) -> None:
        self.rng = rng
        self.defects = defects
        self.defect_counts: dict[str, int] = {}

    def row(self, table: Table, row: dict[str, str], copy: int, ref: Ref) -> list[str]:
        """The row as copy ``copy``; ``ref(table, key)`` rewrites each reference."""
        out = dict(row)
        out["id"] = key(row["id"], copy)
        for column, target in table.references.items():
            if out.get(column):
                sep = table.separators.get(column)
                values = out[column].split(sep) if sep else [out[column]]
                out[column] = (sep or "").join(ref(target, v) for v in values)
        if copy:
            for column in table.header:
                if column.startswith(NAME_PREFIXES) and out[column]:
                    out[column] = f"{out[column]} ({copy})"
                if (table.name, column) in IDENTITY_COLUMNS:
                    out[column] = ""
        if self.defects and self.rng.random() < self.defects:
            self._break(table.name, out)
        return [out[c] for c in table.header]

    def _break(self, table: str, row: dict[str, str]) -> None:
        """One realistic mistake the shapes catch, chosen among those that fit the table."""
        options = []
        if row.get("start") and row.get("end") and row["start"][:4] < row["end"][:4]:
            options.append("end-before-start")
        names = [c for c in row if c.startswith(("name_", "title_")) and row[c]]
        if names and table in {"organisations", "projects", "events", "people", "places"}:
            options.append("no-name")
        if table == "grants" and row.get("currency"):
            options.append("currency-lowercase")
        if table == "grants" and row.get("amount"):
            options.append("amount-negative")
        if not options:
            return
        kind = self.rng.choice(options)
        if kind == "end-before-start":
            row["start"], row["end"] = row["end"], row["start"]
        elif kind == "no-name":
            for c in row:
                if c.startswith(("name_", "label_", "title_", "given_", "family_")):
                    row[c] = ""
        elif kind == "currency-lowercase":
            row["currency"] = row["currency"].lower()
        else:
            row["amount"] = "-" + row["amount"]
        self.defect_counts[kind] = self.defect_counts.get(kind, 0) + 1


def generate(out_dir: Path, copies: int, *, seed: int = 1, defects: float = 0.0) -> dict[str, int]:
    """Write ``copies`` copies of every shipped table into ``out_dir``; returns defects made.

    Deterministic: the same arguments write byte-identical files.
    """
    writer = _Writer(random.Random(seed), defects)
    out_dir.mkdir(parents=True, exist_ok=True)
    for table in load_tables():
        with (out_dir / f"{table.name}.csv").open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(table.header)
            for copy in range(copies):

                def ref(target: str, value: str, copy: int = copy) -> str:
                    cross = writer.rng.random() < CROSS_LINK
                    return key(value, writer.rng.randrange(copies) if cross else copy)

                for row in table.rows:
                    w.writerow(writer.row(table, row, copy, ref))
    return writer.defect_counts


def generate_batch(out_dir: Path, records: int, published_copies: int, *, seed: int = 2) -> int:
    """About ``records`` new rows that refer into ``published_copies`` published copies.

    What a steward adds: new projects, events and grants, and who takes part in them
    (involvements, memberships), referring to organisations, people, places, networks and
    documents that are already published. References among the new tables stay in the batch;
    the others point at a random published copy, so the batch converts only with the store as
    context (``convert(..., check_references=False)``). Returns the number of rows written.
    """
    writer = _Writer(random.Random(seed), 0.0)
    tables = [t for t in load_tables() if t.name in BATCH_TABLES]
    per_copy = sum(len(t.rows) for t in tables)
    copies = max(1, round(records / per_copy))
    out_dir.mkdir(parents=True, exist_ok=True)
    for table in tables:
        with (out_dir / f"{table.name}.csv").open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(table.header)
            for copy in range(published_copies, published_copies + copies):

                def ref(target: str, value: str, copy: int = copy) -> str:
                    if target in BATCH_TABLES:
                        return key(value, copy)
                    return key(value, writer.rng.randrange(published_copies))

                for row in table.rows:
                    w.writerow(writer.row(table, row, copy, ref))
    return per_copy * copies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path)
    size = parser.add_mutually_exclusive_group(required=True)
    size.add_argument("--triples", type=int, help="About this many triples (rounded up).")
    size.add_argument("--copies", type=int, help="This many copies of the shipped tables.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--defects", type=float, default=0.0, help="Fraction of rows to break.")
    args = parser.parse_args()
    copies = args.copies or copies_for(args.triples)
    made = generate(args.out_dir, copies, seed=args.seed, defects=args.defects)
    rows = sum(len(t.rows) for t in load_tables()) * copies
    print(f"{rows} rows in {copies} copies (~{copies * TRIPLES_PER_COPY} triples); defects {made}")


if __name__ == "__main__":
    main()
