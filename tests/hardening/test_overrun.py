"""A query past its limits stops costing anything, and nobody else notices (issue 13, item 3).

Against a live ``sinlod serve --workers 2`` on the shipped data (3,654 triples: a three-way
cartesian product has 4.9e10 rows) with a 1.5 s ``query_timeout``:

* each runaway query (ORDER BY over a cartesian product, a three-way COUNT(*), the same nested in
  groups) ends with its clear problem document;
* within 2 s of that answer the workers' CPU and memory are back to idle (before the supervisor
  recycled overrunning workers, the abandoned evaluation burnt a core for minutes and the ORDER
  BY grew by ~290 MB/s);
* all the while, a client sending a cheap lookup on one keep-alive connection gets every answer,
  within 100 ms at p99;

and with ``worker_memory_limit`` set, the ORDER BY runs into the memory ceiling before its time
is up and gets its own problem document naming the limit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from sinlod.config import Settings
from sinlod.publish import publish
from sinlod.store import Store
from tests.e2e.serving import cpu_seconds, rss_bytes, sinlod_serve, wait_idle, workers_of

pytestmark = pytest.mark.slow

CARTESIAN_ORDER = "SELECT * {?a ?b ?c . ?d ?e ?f . ?g ?h ?i} ORDER BY ?c ?f ?i LIMIT 1"
CARTESIAN_COUNT = "SELECT (COUNT(*) AS ?n) {?a ?b ?c . ?d ?e ?f . ?g ?h ?i}"
NESTED_COUNT = "SELECT (COUNT(*) AS ?n) { { { ?a ?b ?c } { ?d ?e ?f } } { { ?g ?h ?i } } }"
LOOKUP = (
    "CONSTRUCT { <https://w3id.org/sinlod/id/organisation/drift> ?p ?o }"
    " WHERE { <https://w3id.org/sinlod/id/organisation/drift> ?p ?o }"
)
JSON = "application/sparql-results+json"


@pytest.fixture(scope="module")
def shipped_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The shipped dataset published as ``make publish`` does (0.3 s; 3,654 triples)."""
    path = tmp_path_factory.mktemp("overrun") / "store"
    settings = Settings.load(env={}, store_path=path)
    with Store.open(path) as store:
        publish([settings.data_dir / "records"], settings, store, agent="tests")
    return settings


@dataclass
class Prober:
    """One keep-alive client sending the lookup every 20 ms; latencies and failures."""

    url: str
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(base_url=f"http://{self.url}", timeout=10) as client:
            while not self.stop.is_set():
                started = time.perf_counter()
                try:
                    r = client.get(
                        "/sparql", params={"query": LOOKUP}, headers={"Accept": "text/turtle"}
                    )
                    if r.status_code != 200 or b"drift" not in r.content:
                        self.failures.append(f"{r.status_code} {r.text[:200]}")
                except httpx.HTTPError as exc:
                    self.failures.append(repr(exc))
                self.latencies.append(time.perf_counter() - started)
                self.stop.wait(0.02)

    def p99(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[int(len(ordered) * 0.99)]


@pytest.fixture
def probing(shipped_settings: Settings) -> Iterator[tuple[str, int, Prober]]:
    """The server (2 workers, 1.5 s time limit) and a prober running against it."""
    env = {"SINLOD_QUERY_TIMEOUT": "1.5", "SINLOD_QUERY_CACHE_ENTRIES": "0"}
    with sinlod_serve(shipped_settings, workers=2, env=env) as (url, proc):
        wait_idle(proc.pid)
        prober = Prober(url)
        thread = threading.Thread(target=prober.run, daemon=True)
        thread.start()
        try:
            yield url, proc.pid, prober
        finally:
            prober.stop.set()
            thread.join(timeout=15)


def _usage(pid: int, watched: set[int], seconds: float) -> tuple[float, int]:
    """CPU cores used over ``seconds`` by the ``watched`` workers (those that were there before
    the query: a replacement's start-up is not the runaway's cost), and the largest RSS of any
    worker."""
    before = {w: cpu_seconds(w) for w in watched}
    time.sleep(seconds)
    after = {w: cpu_seconds(w) for w in watched}
    used = sum(after[w] - before[w] for w in watched if after[w] >= before[w])
    return used / seconds, max((rss_bytes(w) for w in workers_of(pid)), default=0)


def _idle_within(
    pid: int, watched: set[int], limit: float, baseline_rss: int
) -> tuple[float, float, int]:
    """Seconds until the workers are idle (under 0.25 core, RSS within 60 MB of the baseline)."""
    started = time.monotonic()
    while True:
        cores, rss = _usage(pid, watched, 0.25)
        waited = time.monotonic() - started
        if cores < 0.25 and rss < baseline_rss + 60_000_000:
            return waited, cores, rss
        if waited > limit:
            pytest.fail(
                f"still busy {waited:.1f} s after the answer: {cores:.2f} cores,"
                f" largest worker {rss / 1e6:.0f} MB (baseline {baseline_rss / 1e6:.0f} MB)"
            )


@pytest.mark.parametrize(
    "query", [CARTESIAN_ORDER, CARTESIAN_COUNT, NESTED_COUNT], ids=["order", "count", "nested"]
)
def test_a_runaway_query_ends_and_stops_costing(
    probing: tuple[str, int, Prober], query: str
) -> None:
    url, pid, prober = probing
    time.sleep(0.5)  # the prober is answering
    watched = workers_of(pid)
    baseline_rss = max(rss_bytes(w) for w in watched)
    started = time.monotonic()
    r = httpx.get(
        f"http://{url}/sparql", params={"query": query}, headers={"Accept": JSON}, timeout=30
    )
    answered = time.monotonic() - started
    assert r.status_code == 503, r.text
    body = r.json()
    assert body["code"] == "query-timeout"
    assert "1.5 s" in body["detail"]
    assert answered < 3.0
    waited, cores, rss = _idle_within(pid, watched, 2.0, baseline_rss)
    time.sleep(0.5)  # the prober keeps going on the replacement worker
    print(
        f"\n{query[:40]}: answered in {answered:.2f} s, idle {waited:.2f} s later"
        f" ({cores:.2f} cores, {rss / 1e6:.0f} MB); lookups: {len(prober.latencies)},"
        f" p99 {prober.p99() * 1000:.1f} ms, failures {len(prober.failures)}"
    )
    assert prober.failures == []
    assert prober.p99() < 0.1


def test_the_memory_ceiling_ends_a_query_with_its_own_error(shipped_settings: Settings) -> None:
    env = {
        "SINLOD_QUERY_TIMEOUT": "60",
        "SINLOD_QUERY_CACHE_ENTRIES": "0",
        "SINLOD_WORKER_MEMORY_LIMIT": "400",
    }
    with sinlod_serve(shipped_settings, workers=1, env=env) as (url, proc):
        wait_idle(proc.pid)
        watched = workers_of(proc.pid)
        baseline_rss = max(rss_bytes(w) for w in watched)
        assert baseline_rss < 300_000_000
        started = time.monotonic()
        r = httpx.get(
            f"http://{url}/sparql",
            params={"query": CARTESIAN_ORDER},
            headers={"Accept": JSON},
            timeout=60,
        )
        answered = time.monotonic() - started
        assert r.status_code == 503, r.text
        body = r.json()
        assert body["code"] == "memory-limit"
        assert "400 MB" in body["detail"]
        assert answered < 30
        waited, cores, rss = _idle_within(proc.pid, watched, 2.0, baseline_rss)
        print(
            f"\nmemory ceiling: answered in {answered:.2f} s, idle {waited:.2f} s later"
            f" ({cores:.2f} cores, {rss / 1e6:.0f} MB)"
        )
        # The replacement answers.
        r = httpx.get(
            f"http://{url}/sparql",
            params={"query": LOOKUP},
            headers={"Accept": "text/turtle"},
            timeout=10,
        )
        assert r.status_code == 200


def test_the_nesting_that_crashed_a_worker_is_refused_and_nothing_dies(
    probing: tuple[str, int, Prober],
) -> None:
    """The issue's 6 KB request (3,000 nested groups) segfaulted pyoxigraph: now a 400 before
    the engine sees it (``max_query_depth``), no worker is lost, the prober never notices."""
    url, pid, prober = probing
    time.sleep(0.5)
    before = workers_of(pid)
    query = "SELECT * WHERE " + "{" * 3000 + "}" * 3000
    r = httpx.post(
        f"http://{url}/sparql",
        content=query,
        headers={"Content-Type": "application/sparql-query", "Accept": JSON},
        timeout=30,
    )
    assert r.status_code == 400, r.text[:300]
    time.sleep(0.5)
    assert workers_of(pid) == before
    assert prober.failures == []
    assert prober.p99() < 0.1
