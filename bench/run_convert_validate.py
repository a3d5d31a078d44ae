"""Time convert and validate at 10k, 100k (and with --full 1M) triples against their peers.

For each scale the generator (``bench/generate.py``) writes the records, then each step runs in a
child process of its own, so that wall time, CPU time (user + system) and peak memory (max RSS)
are the step's alone:

- ``convert``: ``sinlod.convert.convert_to_file`` records → N-Triples;
- ``parse floor``: pyoxigraph parsing the same N-Triples (the least any conversion can cost);
- ``sinlod validate``: ``sinlod.validate.validate`` on the N-Triples file (default fast engine);
- ``pyshacl command``: the plain ``pyshacl`` command on the same file, the same shapes, the same
  ontology (merged into one file) and ``-i rdfs``, as sinlod's reference setup;
- whether the two validations found exactly the same findings (severity, message, focus, path,
  value, source shape, constraint), from sinlod's JSON and the pyshacl command's Turtle report;
- ``--batch``: the largest scale is published into a ``sinlod.store.Store``; then 1,000 new
  records that refer into it are converted and validated with the store as context.

    python bench/run_convert_validate.py                 # 10k and 100k
    python bench/run_convert_validate.py --full --batch  # and 1M, and the batch case
    python bench/run_convert_validate.py --scales 10000 --pyshacl-max 0

Prints a table; ``--json FILE`` keeps the numbers. Not part of ``make test``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

from generate import copies_for, generate, generate_batch  # noqa: E402

PYSHACL = Path(sys.executable).with_name("pyshacl")


@dataclass
class Measure:
    scale: int
    step: str
    wall: float
    cpu: float
    peak_mb: float
    triples: int
    note: str = ""

    @property
    def rate(self) -> float:
        return self.triples / self.wall if self.wall else 0.0


# -- the steps, each run in a child process -------------------------------------------------------


def step_convert(records: str, out: str) -> dict[str, Any]:
    from sinlod.config import Settings
    from sinlod.convert import convert_to_file

    n = convert_to_file([records], Settings.load(env={}), Path(out), "nt")
    return {"triples": n}


def step_parse(nt: str) -> dict[str, Any]:
    import pyoxigraph as ox

    n = sum(1 for _ in ox.parse(path=nt, format=ox.RdfFormat.N_TRIPLES))
    return {"triples": n}


def step_validate(nt: str, engine: str, findings_out: str) -> dict[str, Any]:
    from sinlod.config import Settings
    from sinlod.validate import validate

    report = validate([Path(nt)], Settings.load(env={}, validation_engine=engine))
    rows = [_row(f) for f in report.findings]
    Path(findings_out).write_text(json.dumps(rows), encoding="utf-8")
    return {"findings": len(rows), "engine": report.engine, "counts": report.counts()}


def step_publish(nt: str, store_dir: str) -> dict[str, Any]:
    from sinlod.store import ReleaseInfo, Store

    with Store.open(Path(store_dir)) as store:
        store.replace_graphs(
            {"https://w3id.org/sinlod/graph/bench": Path(nt)}, release=ReleaseInfo(agent="bench")
        )
        return {"triples": len(store.oxigraph)}


def step_batch(records: str, store_dir: str, engine: str) -> dict[str, Any]:
    """Open the store, load the rules, then convert + validate the batch: each timed."""
    from sinlod.config import Settings
    from sinlod.convert import convert
    from sinlod.store import Store
    from sinlod.validate import load_rules, validate

    settings = Settings.load(env={}, validation_engine=engine)
    t0 = time.perf_counter()
    store = Store.open(Path(store_dir), read_only=True)
    t1 = time.perf_counter()
    load_rules(settings)
    t2 = time.perf_counter()
    conversion = convert([records], settings, check_references=False)
    t3 = time.perf_counter()
    report = validate(conversion, settings, context=store)
    t4 = time.perf_counter()
    store.close()
    return {
        "triples": conversion.triple_count(),
        "open_store": t1 - t0,
        "load_rules": t2 - t1,
        "convert": t3 - t2,
        "validate": t4 - t3,
        "engine": report.engine,
        "counts": report.counts(),
    }


def _row(f: Any) -> list[Any]:
    return [f.severity, f.message, f.focus, f.path, f.value, f.source_shape, f.constraint]


STEPS = {
    "convert": step_convert,
    "parse": step_parse,
    "validate": step_validate,
    "publish": step_publish,
    "batch": step_batch,
}


# -- measuring a child ---------------------------------------------------------------------------


def measure(argv: list[str]) -> tuple[float, float, float, str]:
    """(wall s, CPU s, peak RSS MB, stdout) of one child process."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err = proc.stderr.read().decode() if proc.stderr else ""
        out.seek(0)
        text = out.read().decode()
    if proc.returncode not in (0, 1):  # pyshacl exits 1 for "does not conform"
        raise RuntimeError(f"{argv[:4]} failed ({proc.returncode}): {err[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, text


def run_step(name: str, *args: str) -> tuple[float, float, float, dict[str, Any]]:
    wall, cpu, peak, text = measure([sys.executable, __file__, "--step", name, *args])
    return wall, cpu, peak, json.loads(text.strip().splitlines()[-1])


# -- comparing findings --------------------------------------------------------------------------


def pyshacl_rows(report_ttl: Path) -> list[list[Any]]:
    """The pyshacl command's report as the same rows sinlod's findings give."""
    import rdflib

    from sinlod.config import Settings
    from sinlod.sourcemap import SourceMap
    from sinlod.validate import load_rules
    from sinlod.validate.engines import pyshacl_findings as _findings

    rules = load_rules(Settings.load(env={}))
    graph = rdflib.Graph().parse(report_ttl, format="turtle")
    return [_row(f) for f in _findings(graph, rules, SourceMap())]


def same(a: list[list[Any]], b: list[list[Any]]) -> tuple[bool, str]:
    sa, sb = sorted(map(json.dumps, a)), sorted(map(json.dumps, b))
    if sa == sb:
        return True, f"identical ({len(sa)} findings)"
    only_a, only_b = set(sa) - set(sb), set(sb) - set(sa)
    return False, f"DIFFERENT: {len(only_a)} only in sinlod, {len(only_b)} only in pyshacl"


# -- the run -------------------------------------------------------------------------------------


def bench_scale(target: int, work: Path, args: argparse.Namespace) -> list[Measure]:
    copies = copies_for(target)
    records, nt = work / f"records-{target}", work / f"data-{target}.nt"
    generate(records, copies, seed=1, defects=args.defects)
    results: list[Measure] = []

    wall, cpu, peak, info = run_step("convert", str(records), str(nt))
    n = info["triples"]
    results.append(Measure(target, "convert", wall, cpu, peak, n))
    wall, cpu, peak, _ = run_step("parse", str(nt))
    results.append(Measure(target, "parse floor (pyoxigraph)", wall, cpu, peak, n))

    ours = work / f"findings-{target}.json"
    wall, cpu, peak, info = run_step("validate", str(nt), args.engine, str(ours))
    note = f"engine {info['engine']}, {info['counts']}"
    results.append(Measure(target, "sinlod validate", wall, cpu, peak, n, note))

    if n <= args.pyshacl_max:
        report = work / f"pyshacl-{target}.ttl"
        cmd = [str(PYSHACL), "-s", str(ROOT / "shapes" / "sinlod.shacl.ttl")]
        cmd += ["-e", str(work / "ontology.nt"), "-i", "rdfs", "-f", "turtle"]
        cmd += ["-o", str(report), str(nt)]
        wall, cpu, peak, _ = measure(cmd)
        _, verdict = same(json.loads(ours.read_text()), pyshacl_rows(report))
        results.append(Measure(target, "pyshacl command", wall, cpu, peak, n, verdict))
    return results


def bench_batch(target: int, work: Path, args: argparse.Namespace) -> list[Measure]:
    nt, store = work / f"data-{target}.nt", work / f"store-{target}"
    wall, cpu, peak, info = run_step("publish", str(nt), str(store))
    results = [Measure(target, "publish (bulk load)", wall, cpu, peak, info["triples"])]
    batch = work / "batch"
    rows = generate_batch(batch, args.batch_records, copies_for(target), seed=2)
    wall, cpu, peak, info = run_step("batch", str(batch), str(store), args.engine)
    inner = info["convert"] + info["validate"]
    note = (
        f"{rows} records: convert {info['convert']:.2f}s + validate "
        f"{info['validate']:.2f}s = {inner:.2f}s (store open {info['open_store']:.2f}s, rules "
        f"{info['load_rules']:.2f}s); engine {info['engine']}, {info['counts']}"
    )
    results.append(Measure(target, "batch vs store", wall, cpu, peak, info["triples"], note))
    return results


def write_ontology(work: Path) -> None:
    """The ontology, vocabularies and reference snapshots in one file, for ``pyshacl -e``."""
    import pyoxigraph as ox

    from sinlod.config import Settings
    from sinlod.validate import load_rules

    rules = load_rules(Settings.load(env={}))
    with (work / "ontology.nt").open("wb") as f:
        ox.serialize(rules.lookup, f, format=ox.RdfFormat.N_QUADS)


def print_table(results: list[Measure]) -> None:
    print(
        f"{'triples':>9} {'step':<26} {'wall s':>8} {'CPU s':>8} {'peak MB':>8} {'triples/s':>11}"
    )
    for m in results:
        print(
            f"{m.triples:>9} {m.step:<26} {m.wall:>8.2f} {m.cpu:>8.2f} {m.peak_mb:>8.0f} "
            f"{m.rate:>11,.0f}  {m.note}"
        )
    by = {(m.scale, m.step): m for m in results}
    for scale in sorted({m.scale for m in results}):
        conv, floor = by.get((scale, "convert")), by.get((scale, "parse floor (pyoxigraph)"))
        ours, peer = by.get((scale, "sinlod validate")), by.get((scale, "pyshacl command"))
        if conv and floor:
            print(f"{scale}: convert takes {conv.wall / floor.wall:.1f}x the parse floor")
        if ours and peer:
            print(
                f"{scale}: sinlod validate takes {ours.wall / peer.wall:.3f}x the pyshacl "
                f"command's wall time ({peer.wall / ours.wall:.0f}x faster), "
                f"{ours.cpu / peer.cpu:.3f}x its CPU time, {ours.peak_mb / peer.peak_mb:.2f}x "
                "its peak memory"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--step", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--scales", default="10000,100000", help="Comma-separated triple counts.")
    parser.add_argument("--full", action="store_true", help="Add 1,000,000 triples.")
    parser.add_argument("--batch", action="store_true", help="The 1,000-records batch case.")
    parser.add_argument("--batch-records", type=int, default=1000)
    parser.add_argument("--engine", default="fast", choices=["fast", "pyshacl"])
    parser.add_argument(
        "--pyshacl-max", type=int, default=2_000_000, help="Skip the pyshacl command above this."
    )
    parser.add_argument("--defects", type=float, default=0.01, help="Fraction of rows broken.")
    parser.add_argument("--work", type=Path, default=None, help="Keep files here (default: tmp).")
    parser.add_argument("--json", type=Path, default=None, help="Write the numbers here.")
    args = parser.parse_args()
    if args.step:
        print(json.dumps(STEPS[args.step[0]](*args.step[1:])))
        return
    scales = [int(s) for s in args.scales.split(",") if s]
    if args.full:
        scales.append(1_000_000)
    with tempfile.TemporaryDirectory(prefix="sinlod-bench-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        write_ontology(work)
        print(
            f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"load average {os.getloadavg()[0]:.2f}; Python {platform.python_version()}"
        )
        results: list[Measure] = []
        for scale in scales:
            results += bench_scale(scale, work, args)
            print_table(results[-4:])
        if args.batch:
            results += bench_batch(max(scales), work, args)
        print()
        print_table(results)
        if args.json:
            args.json.write_text(json.dumps([asdict(m) for m in results], indent=2))


if __name__ == "__main__":
    main()
