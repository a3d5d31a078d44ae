"""Three `sinlod serve` replicas behind HAProxy running ``deploy/haproxy.cfg`` (the file the
docs give operators): a release published on the first store and replicated to the others is
served alike by all, clients that keep HAProxy's cookie never see a release go back, and a
replica that is stopped is taken out by the health check with no failed request.

HAProxy comes from Debian's package (``make haproxy``, part of ``make test``)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from sinlod.config import PROJECT_ROOT, Settings
from sinlod.server.operations.run import bind_socket
from sinlod.store import ReleaseInfo, Store
from sinlod.store.replicate import replicate, sequence
from tests.e2e.serving import sinlod_serve

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
CONFIG = PROJECT_ROOT / "deploy" / "haproxy.cfg"
#: More than HAProxy's fall (2) x inter (1 s) in deploy/haproxy.cfg, as docs/deploy.md says.
DRAIN = "3"
THING = "/doc/project/sic"
QUERY = "/sparql?query=SELECT%20(COUNT(*)%20AS%20%3Fn)%20WHERE%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D"


@dataclass
class Cluster:
    url: str
    stores: list[Path]
    replicas: list[tuple[str, subprocess.Popen[bytes]]]
    admin: Path

    def states(self) -> dict[str, str]:
        """HAProxy's view of each replica (``UP``, ``DOWN``, ...), from its admin socket."""
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(str(self.admin))
            sock.sendall(b"show stat\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        lines = data.decode().splitlines()
        header = lines[0].lstrip("# ").split(",")
        rows = [dict(zip(header, line.split(","), strict=False)) for line in lines[1:] if line]
        return {
            r["svname"]: r["status"]
            for r in rows
            if r["pxname"] == "replicas" and r["svname"].startswith("replica")
        }


def free_port() -> int:
    with bind_socket("127.0.0.1", 0) as probe:
        return int(probe.getsockname()[1])


def publish_small(store: Path, value: str) -> str:
    """A new release on the first store (a one-triple graph), as a publish would make."""
    triple = ox.Triple(
        ox.NamedNode("https://example.org/replica-test"),
        ox.NamedNode("https://example.org/value"),
        ox.Literal(value),
    )
    with Store.open(store) as s:
        s.replace_graphs(
            {"https://w3id.org/sinlod/graph/replica-test": [triple]},
            release=ReleaseInfo(agent="test_replicas", comment=value),
        )
        assert s.release_id is not None
        return s.release_id


@pytest.fixture
def cluster(shipped_store: Path, tmp_path: Path) -> Iterator[Cluster]:
    if not Path(HAPROXY).exists():
        pytest.fail("haproxy is not installed: run `make haproxy` (make test does)")
    stores = [tmp_path / f"store{i}" for i in (1, 2, 3)]
    shutil.copytree(shipped_store, stores[0], symlinks=True)
    for store in stores[1:]:
        replicate(stores[0], store)
    env = {"SINLOD_WARM_SPARE": "false", "SINLOD_DRAIN_SECONDS": DRAIN}
    admin = tmp_path / "haproxy.sock"
    with (
        sinlod_serve(Settings.load(env={}, store_path=stores[0]), env=env) as r1,
        sinlod_serve(Settings.load(env={}, store_path=stores[1]), env=env) as r2,
        sinlod_serve(Settings.load(env={}, store_path=stores[2]), env=env) as r3,
    ):
        port = free_port()
        haproxy_env = {
            **os.environ,
            "SINLOD_LISTEN": f"127.0.0.1:{port}",
            "SINLOD_REPLICA1": r1[0],
            "SINLOD_REPLICA2": r2[0],
            "SINLOD_REPLICA3": r3[0],
            "HAPROXY_ADMIN_SOCKET": str(admin),
        }
        proxy = subprocess.Popen(
            [HAPROXY, "-f", str(CONFIG), "-db"],
            env=haproxy_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            found = Cluster(f"http://127.0.0.1:{port}", stores, [r1, r2, r3], admin)
            deadline = time.monotonic() + 30
            while True:
                try:
                    if list(found.states().values()) == ["UP"] * 3:
                        break
                except OSError:
                    pass  # the admin socket is not there yet
                if proxy.poll() is not None or time.monotonic() > deadline:
                    assert proxy.stderr is not None
                    pytest.fail(f"haproxy did not start: {proxy.stderr.read().decode()[-2000:]}")
                time.sleep(0.1)
            yield found
        finally:
            proxy.terminate()
            proxy.wait(timeout=10)
            assert proxy.stderr is not None
            proxy.stderr.close()


@dataclass
class Seen:
    """What one client saw, in order: (release, replica's worker pid) per /healthz answer;
    failed requests; /healthz answers "draining" (from a replica being stopped)."""

    releases: list[tuple[str, int]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    draining: int = 0
    slowest: float = 0.0


def keep_asking(url: str, seen: Seen, stop: threading.Event, *, cookies: bool) -> None:
    """A client in a loop: /healthz (which release, which replica), a page, a query. With
    ``cookies`` it keeps HAProxy's replica cookie, as a browser does; without, every request
    is balanced anew (curl, most SPARQL libraries)."""
    with httpx.Client(base_url=url, timeout=30) as client:
        while not stop.is_set():
            if not cookies:
                client.cookies.clear()
            for path in ("/healthz", THING, QUERY):
                start = time.monotonic()
                try:
                    accept = "text/turtle" if path == THING else "application/json"
                    answer = client.get(path, headers={"Accept": accept})
                except httpx.HTTPError as exc:
                    seen.failures.append(f"{path}: {exc!r}")
                    continue
                seen.slowest = max(seen.slowest, time.monotonic() - start)
                if path == "/healthz" and answer.status_code == 503:
                    # A draining replica says so: right for a health check, not a failure.
                    assert answer.json()["status"] == "draining"
                    seen.draining += 1
                elif answer.status_code != 200:
                    seen.failures.append(f"{path}: {answer.status_code} {answer.text[:200]}")
                elif path == "/healthz":
                    body = answer.json()
                    seen.releases.append((body["release"], body["worker"]))


def goes_back(releases: list[tuple[str, int]]) -> list[tuple[str, str]]:
    """Pairs (newer seen, older seen after it)."""
    out, newest = [], ""
    for release, _ in releases:
        if newest and sequence(release) < sequence(newest):
            out.append((newest, release))
        newest = max(newest, release, key=lambda r: sequence(r) if r else -1)
    return out


def test_replicated_releases_are_served_alike_and_never_go_back(cluster: Cluster) -> None:
    stop = threading.Event()
    sticky = [Seen() for _ in range(4)]
    roaming = Seen()
    threads = [
        threading.Thread(target=keep_asking, args=(cluster.url, s, stop), kwargs={"cookies": True})
        for s in sticky
    ]
    threads.append(
        threading.Thread(
            target=keep_asking, args=(cluster.url, roaming, stop), kwargs={"cookies": False}
        )
    )
    for t in threads:
        t.start()
    try:
        time.sleep(1.0)
        releases = []
        for value in ("second", "third"):
            releases.append(publish_small(cluster.stores[0], value))  # replica 1 serves it now
            time.sleep(0.5)
            for store in cluster.stores[1:]:  # stage everywhere, then switch everywhere
                assert not replicate(cluster.stores[0], store, switch=False).switched
            time.sleep(0.3)
            for store in cluster.stores[1:]:
                assert replicate(cluster.stores[0], store).switched
            time.sleep(1.0)
        deadline = time.monotonic() + 30  # every client has asked since (a loaded machine)
        while time.monotonic() < deadline and any(
            not s.releases or s.releases[-1][0] != releases[-1] for s in [*sticky, roaming]
        ):
            time.sleep(0.1)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    for seen in [*sticky, roaming]:
        assert seen.failures == []
        assert seen.releases and seen.releases[-1][0] == releases[-1]
    # Each sticky client stayed on one replica, and the clients were spread over several.
    homes = {pid for seen in sticky for _, pid in seen.releases}
    for seen in sticky:
        assert len({pid for _, pid in seen.releases}) == 1
        assert goes_back(seen.releases) == []
    assert len(homes) >= 2
    assert len({pid for _, pid in roaming.releases}) == 3  # balanced over all three
    # Once every store has the release: the same release, ETag and Last-Modified from each
    # replica, directly and through HAProxy, and a 304 everywhere for that ETag.
    # Direct requests name HAProxy's host, as the proxied ones do: the ETag covers the host,
    # since absolute URLs in an answer are built from it (without public_url).
    front = {"Host": cluster.url.removeprefix("http://")}
    answers = []
    for host, _ in cluster.replicas:
        answers += [
            httpx.get(f"http://{host}{path}", headers=front) for path in ("/healthz", THING, QUERY)
        ]
    with httpx.Client(base_url=cluster.url) as client:
        for _ in range(6):
            client.cookies.clear()
            answers += [client.get(path) for path in ("/healthz", THING, QUERY)]
    assert {a.json()["release"] for a in answers if a.url.path == "/healthz"} == {releases[-1]}
    for path in (THING, "/sparql"):
        same = [a for a in answers if a.url.path == path]
        assert len(same) == 9 and all(a.status_code == 200 for a in same)
        assert len({a.headers["ETag"] for a in same}) == 1
        assert len({a.headers["Last-Modified"] for a in same}) == 1
        etag = same[0].headers["ETag"]
        for host, _ in cluster.replicas:
            target = f"http://{host}{THING if path == THING else QUERY}"
            assert httpx.get(target, headers={**front, "If-None-Match": etag}).status_code == 304


def draining_yet_serving(host: str, headers: dict[str, str]) -> bool:
    """The replica at ``host`` fails its health check and answers a page, with
    ``Connection: close`` (so keep-alive clients move on)."""
    try:
        with httpx.Client(base_url=f"http://{host}", headers=headers, timeout=5) as client:
            health = client.get("/healthz")
            page = client.get(THING)
    except httpx.HTTPError:
        return False
    return (
        health.status_code == 503
        and health.json()["status"] == "draining"
        and page.status_code == 200
        and page.headers.get("connection") == "close"
    )


def test_a_stopped_replica_is_taken_out_with_no_failed_request(cluster: Cluster) -> None:
    stop = threading.Event()
    clients = [Seen() for _ in range(4)]
    threads = [
        threading.Thread(
            target=keep_asking, args=(cluster.url, s, stop), kwargs={"cookies": i % 2 == 0}
        )
        for i, s in enumerate(clients)
    ]
    for t in threads:
        t.start()
    _, victim = cluster.replicas[1]
    front = {"Host": cluster.url.removeprefix("http://")}
    victim_pid = httpx.get(f"http://{cluster.replicas[1][0]}/healthz").json()["worker"]
    try:
        time.sleep(1.5)
        victim.send_signal(signal.SIGTERM)
        stopped_at = time.monotonic()
        down_at = exited_at = None
        drained = False
        deadline = stopped_at + 30
        while (down_at is None or exited_at is None) and time.monotonic() < deadline:
            if down_at is None and cluster.states()["replica2"].startswith("DOWN"):
                down_at = time.monotonic()
            if exited_at is None and victim.poll() is not None:
                exited_at = time.monotonic()
            if not drained and exited_at is None:
                drained = draining_yet_serving(cluster.replicas[1][0], front)
            time.sleep(0.02)
        time.sleep(1.0)  # and the clients go on a while without it
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert down_at is not None, "HAProxy never took the stopped replica out"
    assert exited_at is not None and victim.returncode == 0
    # Taken out by the health check while it still answered (the drain), not by a closed port.
    assert down_at < exited_at
    states = cluster.states()
    assert states["replica2"] == "DOWN"
    assert states["replica1"].startswith("UP") and states["replica3"].startswith("UP")
    for seen in clients:
        assert seen.failures == []
    # While it drained, the stopped replica said so to health checks and answered everything
    # else (a request HAProxy sent it before the checks failed was served, not queued at a
    # port nobody accepts on any more).
    assert drained, "the replica never answered /healthz 503 while serving data"
    slowest = max(seen.slowest for seen in clients)
    answered = [pid for seen in clients for _, pid in seen.releases]
    assert victim_pid in answered  # the stopped replica had its share before
    requests = 3 * sum(len(s.releases) + s.draining for s in clients)
    print(
        f"replica2 SIGTERM → DOWN in HAProxy {down_at - stopped_at:.2f} s, exited "
        f"{exited_at - stopped_at:.2f} s; about {requests} requests, none failed, the slowest "
        f"in {slowest:.2f} s"
    )
