"""The W3C SPARQL 1.1 suites with ``union_default_graph=false``, beside Oxigraph's own server.

With the setting off, sinlod's default graph is the store's own, so the runner drives it as any
plain SPARQL 1.1 client would: each test's data goes with the Graph Store Protocol into the
default graph and into the named graphs its manifest names, and the query or update is sent as
it is: no ``default-graph-uri`` added, no graph left out of the comparison. Query, update,
syntax, result formats, the Protocol and the Graph Store Protocol: every manifest entry of
``test_w3c_sparql.py``.

Each test runs, in the same runner, on Oxigraph's native server too (``oxigraph serve``, from the
``oxigraph`` package of the test extra, the version of sinlod's pyoxigraph). The expected
failures are exactly the native server's, found on every run rather than listed: a test both
fail is an expected failure (xfail, giving both messages); a test sinlod fails and the native
server passes is a failure. A test only the native server fails must be one of
``NATIVE_SERVER_ONLY`` (its own HTTP handling, which sinlod's server does not share), and each
entry there must still be one.
"""

from __future__ import annotations

import pytest

from tests.conformance.known_failures import NATIVE_SERVER_ONLY
from tests.conformance.runner import run, skip_reason
from tests.conformance.targets import HttpTarget
from tests.conformance.test_w3c_sparql import TESTS
from tests.conformance.w3c import W3CTest


def failure(test: W3CTest, target: HttpTarget) -> str | None:
    """What was wrong when ``target`` ran ``test`` (None: it passed)."""
    try:
        run(test, target)
    except AssertionError as exc:
        return str(exc) or "assertion failed"
    return None


@pytest.mark.parametrize("test", [pytest.param(t, id=t.id) for t in TESTS])
def test_w3c_strict(test: W3CTest, strict_target: HttpTarget, native_target: HttpTarget) -> None:
    reason = skip_reason(test, strict_target)
    if reason is not None:
        pytest.skip(reason)
    ours = failure(test, strict_target)
    native = failure(test, native_target)
    if native is None:
        assert ours is None, f"fails, where Oxigraph's own server passes: {ours}"
        assert test.id not in NATIVE_SERVER_ONLY, "the native server passes it now: drop the entry"
        return
    if ours is None:
        assert test.id in NATIVE_SERVER_ONLY, f"only Oxigraph's own server fails it: {native}"
        return
    assert test.id not in NATIVE_SERVER_ONLY, f"sinlod fails it now: {ours}"
    pytest.xfail(f"Oxigraph's own server fails it too: {_line(native)}; sinlod: {_line(ours)}")


def _line(message: str) -> str:
    """The start of a failure message on one line, for the short summary."""
    return " ".join(message.split())[:160]
