"""The load test of ``make loadtest`` (``tests/e2e/load.py``), short: 10 readers and a writer for
5 s against ``sinlod serve --workers 2``, no reader error, no failed or lost write."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.load import load_test

pytestmark = pytest.mark.slow


def test_short_load_has_no_errors(tmp_path: Path) -> None:
    summary = load_test(tmp_path, clients=10, duration=5.0, workers=2)
    print("\n" + summary.text())
    assert summary.reads.errors == []
    assert summary.writes.errors == []
    assert len(summary.reads.latencies) > 30
    assert summary.acknowledged >= 1
