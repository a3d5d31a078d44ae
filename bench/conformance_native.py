"""Run sinlod's W3C SPARQL 1.1 runner against Oxigraph's native server, for comparison.

Every entry of ``tests/conformance/known_failures.py`` must be a test Oxigraph's own server fails
too. This starts ``oxigraph serve`` (the ``oxigraph`` package of the test extra, which
``tests/conformance/test_w3c_strict.py`` also runs beside sinlod on every test run),
runs the same pytest cases against its ``/query``, ``/update`` and ``/store`` endpoints, and prints
for each known failure what the native server did, and which other tests it fails.

    .venv/bin/python bench/conformance_native.py [--oxigraph PATH]

Exit status 1 when a known failure passes on the native server (its entry must go).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conformance.known_failures import KNOWN_FAILURES  # noqa: E402
from tests.conformance.w3c import read_manifests  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"oxigraph exited with status {process.returncode}")
        try:
            httpx.get(url + "/query", params={"query": "ASK {}"}, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"oxigraph did not answer at {url}")


def outcomes(junit: Path) -> dict[str, str]:
    """pytest id (``suite/name``) → passed / failed / xfailed / xpassed / skipped."""
    found: dict[str, str] = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        name = case.get("name", "")
        if "[" not in name:
            continue
        test_id = name[name.index("[") + 1 : -1]
        failure = case.find("failure")
        skipped = case.find("skipped")
        if failure is not None:
            message = failure.get("message", "")
            found[test_id] = "xpassed" if "XPASS" in message else "failed"
        elif skipped is not None:
            found[test_id] = "xfailed" if skipped.get("type") == "pytest.xfail" else "skipped"
        else:
            found[test_id] = "passed"
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--oxigraph", default=shutil.which("oxigraph", path=str(ROOT / ".venv/bin"))
    )
    args = parser.parse_args()
    if not args.oxigraph:
        raise SystemExit("oxigraph not found: .venv/bin/pip install oxigraph (for this check only)")
    version = subprocess.run([args.oxigraph, "--version"], capture_output=True, text=True).stdout
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        server = subprocess.Popen(
            [args.oxigraph, "serve", "--location", f"{tmp}/store", "--bind", f"127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until_up(url, server)
            env = dict(os.environ, SINLOD_W3C_URL=url, SINLOD_W3C_ENDPOINTS="oxigraph")
            junit = Path(tmp) / "native.xml"
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pytest",
                    # the union-mode modules; test_w3c_strict.py runs the native server itself
                    "tests/conformance/test_w3c_sparql.py",
                    "tests/conformance/test_http_rdf_update.py",
                    "-q",
                    "-p",
                    "no:cacheprovider",
                    "--tb=no",
                    f"--junitxml={junit}",
                ],
                cwd=ROOT,
                env=env,
                check=False,
            )
            found = outcomes(junit)
        finally:
            server.terminate()
            server.wait(timeout=10)
    ids = {t.iri: t.id for t in read_manifests()}
    print(f"\nNative server: {version.strip()} at {url}")
    print("Known failures, native outcome (xfailed = the native server fails it too):")
    wrong = 0
    for iri in sorted(KNOWN_FAILURES, key=lambda i: ids.get(i, i)):
        outcome = found.get(ids.get(iri, iri), "not run")
        wrong += outcome != "xfailed"
        print(f"  {'ok ' if outcome == 'xfailed' else 'BAD'} {ids.get(iri, iri):<55} {outcome}")
    others = sorted(t for t, o in found.items() if o == "failed")
    print(f"Other tests the native server fails ({len(others)}):")
    for test_id in others:
        print(f"      {test_id}")
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
