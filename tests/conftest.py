"""Shared fixtures: settings on a temporary store, and a CLI runner that shows crashes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from sinlod.config import Settings

FIXTURES = Path(__file__).parent / "fixtures"
#: Copies of published test suites and shapes (tests/data/README.md says where from).
TEST_DATA = Path(__file__).parent / "data"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Default settings with the store in a fresh temporary directory."""
    return Settings.load(env={}, store_path=tmp_path / "store")


def run_cli(args: Sequence[str], input: str | None = None) -> Result:
    """Run ``sinlod ARGS`` in-process; exceptions that are not ClickExceptions propagate."""
    from sinlod.cli import cli

    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
