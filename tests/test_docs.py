"""The README stays true: every command, every setting and the quick start are documented."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from sinlod.cli import cli
from sinlod.config import PROJECT_ROOT, settings_markdown
from tests.conftest import run_cli

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    out = []
    for name, command in sorted(group.commands.items()):
        out.append((prefix + name, command))
        if isinstance(command, click.Group):
            out += _commands(command, prefix + name + " ")
    return out


COMMANDS = _commands(cli)


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_every_command_is_in_the_readme_and_has_an_example(
    name: str, command: click.Command
) -> None:
    assert f"sinlod {name}" in README, f"`sinlod {name}` is not shown in README.md"
    assert command.help and "Example:" in command.help, f"`sinlod {name} --help` has no example"


def test_the_settings_table_is_the_generated_one() -> None:
    assert settings_markdown() in README, "run `sinlod settings --markdown` and paste it in README"


def test_quick_start_is_exactly_two_commands() -> None:
    quick = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert re.findall(r"^make \w+", quick, flags=re.M) == ["make run", "make test"]
    assert "http://127.0.0.1:8000/" in quick


def test_makefile_targets_named_in_the_readme_exist() -> None:
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    for target in set(re.findall(r"`make (\w+)`", README)):
        assert re.search(rf"^{target}:", makefile, flags=re.M), f"make {target} is not a target"


def test_ci_runs_the_readme_test_command() -> None:
    ci = (PROJECT_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^make test$", ci, flags=re.M)


def test_the_pasted_counts_of_the_shipped_data_are_what_the_commands_print(tmp_path: Path) -> None:
    """The quoted outputs drift when a table is added (place-coordinates made 13 templates 14)."""
    out = tmp_path / "dataset.nq"
    result = run_cli(["convert", str(PROJECT_ROOT / "data" / "records"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    written = re.search(r"^(\d+) triples written to ", result.output, flags=re.M)
    assert written, result.output
    shown = f"$ sinlod convert data/records -o var/dataset.nq\n{written[1]} triples written"
    assert shown in README

    result = run_cli(["init", str(tmp_path / "buurt-data")])
    assert result.exit_code == 0, result.output
    templates = re.search(r": (\d+) record templates in records/", result.output)
    assert templates, result.output
    assert f'Created dataset "buurt-data" in buurt-data: {templates[1]} record templates' in README


def test_every_graph_the_examples_name_has_the_dataset_in_it() -> None:
    """Data graphs are {base}graph/{dataset}/{table}; an example with graph/projects answers 404."""
    helps = "\n".join(command.help or "" for _, command in COMMANDS)
    shown = re.findall(r"https://w3id\.org/sinlod/graph/([\w/{}-]+)", README + helps)
    assert shown
    single = {g for g in shown if "/" not in g}
    assert single <= {"ontology", "reference", "releases", "vocabularies"}, single
