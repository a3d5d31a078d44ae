"""Every command that reads records takes the same source options (issue 11), end to end.

``convert``, ``validate``, ``publish``, ``link check`` and ``link suggest`` read a latin-1 CSV
with ``--encoding``, one sheet of a two-sheet workbook with ``--sheet``, a colon-separated file
with ``--delimiter`` and mappings from ``--mapping`` files; without the option each fails with a
hint that names only options the command has.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import click
import openpyxl
import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sinlod.cli import cli
from sinlod.config import Settings
from sinlod.convert import SourceOptions, convert
from sinlod.store import Store
from tests.conftest import FIXTURES, run_cli

STEWARD = FIXTURES / "linking" / "steward"
MAPPINGS = STEWARD / "mappings"
HEADER = ["id", "name", "country", "nuts", "body", "source"]
PLACES = [
    ["zurich", "Zürich", "CHE", "", "", "register"],
    ["koeln", "Köln", "DEU", "", "", "register"],
]
SKOS_PREF = "http://www.w3.org/2004/02/skos/core#prefLabel"

#: The commands that read records, as (name, arguments before the sources' options).
COMMANDS: dict[str, Callable[[Path, Path], list[str]]] = {
    "convert": lambda src, tmp: ["convert", str(src)],
    "validate": lambda src, tmp: ["validate", str(src)],
    "publish": lambda src, tmp: ["publish", str(src), "--store", str(tmp / "store")],
    "link check": lambda src, tmp: ["link", "check", str(src)],
    "link suggest": lambda src, tmp: ["link", "suggest", str(src)],
}


def _options_of(name: str) -> set[str]:
    """Every option string (``--encoding``, ``-q``) of the command called ``name``."""
    command: click.Command = cli
    for part in name.split():
        assert isinstance(command, click.Group)
        found = command.get_command(click.Context(command), part)
        assert found is not None, part
        command = found
    return {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}


def _hinted_options(message: str) -> set[str]:
    return set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", message))


def _records(tmp: Path, folder: str, rows: list[list[str]], *, delimiter: str = ",") -> Path:
    """``places.csv`` in latin-1 with ``rows`` and the steward's ``sources.csv``, in a folder,
    both with ``delimiter`` (an option applies to every file a command reads)."""
    out = tmp / folder
    out.mkdir()
    lines = [delimiter.join(r) for r in [HEADER, *rows]]
    (out / "places.csv").write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    sources = (STEWARD / "good" / "sources.csv").read_text(encoding="utf-8")
    (out / "sources.csv").write_text(sources.replace(",", delimiter), encoding="utf-8")
    return out


def _check_succeeded(command: str, output: str, tmp: Path) -> None:
    """What each command shows when it read both places, names decoded right."""
    if command == "convert":
        assert '"Zürich"@en' in output and '"Köln"@en' in output
    elif command == "validate":
        assert output.endswith("0 violations, 0 warnings, 0 infos\n")
    elif command == "publish":
        with Store.open(tmp / "store", read_only=True) as store:
            names = {
                row["n"].value
                for row in store.query(f"SELECT ?n WHERE {{ ?p <{SKOS_PREF}> ?n }}")  # type: ignore[union-attr]
            }
        assert {"Zürich", "Köln"} <= names
    elif command == "link check":
        assert "0 unknown link targets" in output
    else:  # link suggest: Köln's region found from its decoded name
        assert "/place/koeln,Köln,match,100,http://data.europa.eu/nuts/code/DEA23" in output


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_latin1_file_is_read_with_encoding_and_the_hint_names_it(
    command: str, tmp_path: Path
) -> None:
    records = _records(tmp_path, "records", PLACES)
    args = [*COMMANDS[command](records, tmp_path), "--mappings", str(MAPPINGS)]
    refused = run_cli(args)
    assert refused.exit_code == 2, refused.output
    assert (
        f"{records}/places.csv:2: not valid UTF-8 text (byte 0xfc); use --encoding to name the"
        " file's encoding, e.g. --encoding latin-1" in refused.stderr
    )
    assert _hinted_options(refused.stderr) <= _options_of(command)
    done = run_cli([*args, "--encoding", "latin-1"])
    assert done.exit_code == 0, done.output
    _check_succeeded(command, done.stdout, tmp_path)


def _workbook(path: Path, sheets: dict[str, list[list[str]]]) -> None:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)


@pytest.mark.parametrize("command", list(COMMANDS))
def test_one_sheet_of_a_two_sheet_workbook_is_read_with_sheet(command: str, tmp_path: Path) -> None:
    """The workbook's second sheet has no mapping: without --sheet that stops the command,
    with a hint naming the mapping options; --sheet reads the first alone."""
    records = tmp_path / "records"
    records.mkdir()
    shutil.copy(STEWARD / "good" / "sources.csv", records / "sources.csv")
    draft = [["note"], ["ask Köln about their NUTS region"]]
    _workbook(records / "book.xlsx", {"places": [HEADER, *PLACES], "draft": draft})
    args = [*COMMANDS[command](records, tmp_path), "--mappings", str(MAPPINGS)]
    refused = run_cli(args)
    assert refused.exit_code == 2, refused.output
    assert f'{records}/book.xlsx[draft]: no mapping for table "draft" in ' in refused.stderr
    assert "; use --mappings DIR or --mapping FILE" in refused.stderr
    assert _hinted_options(refused.stderr) <= _options_of(command)
    done = run_cli([*args, "--sheet", "places"])
    assert done.exit_code == 0, done.output
    _check_succeeded(command, done.stdout, tmp_path)


@pytest.mark.parametrize("command", list(COMMANDS))
def test_mapping_files_and_a_delimiter_no_sniffing_finds(command: str, tmp_path: Path) -> None:
    """A colon-separated file (the header sniffer knows , ; tab |) read with --delimiter, its
    mappings given as files, with no mappings directory anywhere."""
    records = _records(tmp_path, "records", PLACES, delimiter=":")
    config = tmp_path / "sinlod.toml"
    config.write_text(f'mappings_dir = "{tmp_path / "nowhere"}"\n', encoding="utf-8")
    mappings = [a for m in sorted(MAPPINGS.glob("*.json")) for a in ("--mapping", str(m))]
    args = ["--config", str(config), *COMMANDS[command](records, tmp_path), *mappings]
    args += ["--encoding", "latin-1"]
    refused = run_cli(args)
    assert refused.exit_code != 0, refused.output
    done = run_cli([*args, "--delimiter", ":"])
    assert done.exit_code == 0, done.output
    _check_succeeded(command, done.stdout, tmp_path)


def test_the_commands_that_read_records_share_one_set_of_source_options() -> None:
    shared = {"--mappings", "--mapping", "--sheet", "--encoding", "--delimiter"}
    for command in COMMANDS:
        assert shared <= _options_of(command), command


def test_publish_fingerprints_its_mapping_files_and_reading_options(tmp_path: Path) -> None:
    """A source published again with the same options is skipped; with another encoding or a
    changed --mapping file it is published again."""
    records = _records(tmp_path, "records", PLACES)
    mapping = tmp_path / "places.json"
    shutil.copy(MAPPINGS / "places.csv-metadata.json", mapping)
    base = ["publish", str(records), "--store", str(tmp_path / "store"), "--no-ontology"]
    base += ["--mapping", str(mapping), "--mapping", str(MAPPINGS / "sources.csv-metadata.json")]
    first = run_cli([*base, "--encoding", "latin-1"])
    assert first.exit_code == 0, first.output
    again = run_cli([*base, "--encoding", "latin-1"])
    assert again.stdout.startswith("Nothing changed"), again.output
    other = run_cli([*base, "--encoding", "cp1252"])  # reads the same here, but is not the same
    assert other.exit_code == 0 and other.stdout.startswith("Published release"), other.output
    text = mapping.read_text(encoding="utf-8").replace('"lang": "en"', '"lang": "de"')
    mapping.write_text(text, encoding="utf-8")
    changed = run_cli([*base, "--encoding", "cp1252"])
    assert changed.stdout.startswith("Published release"), changed.output
    with Store.open(tmp_path / "store", read_only=True) as store:
        names = [q.object for q in store.quads() if q.predicate.value == SKOS_PREF]
    assert ox.Literal("Zürich", language="de") in names


def test_accepted_links_are_written_back_in_the_records_encoding_and_delimiter(
    tmp_path: Path,
) -> None:
    records = _records(tmp_path, "records", PLACES, delimiter=";")
    args = ["link", "suggest", str(records), "--mappings", str(MAPPINGS), "--encoding", "latin-1"]
    done = run_cli([*args, "--delimiter", ";", "--accept", "95"])
    assert done.exit_code == 0, done.output
    assert f"{records}/places.csv: 1 link written to column nuts" in done.stderr
    text = (records / "places.csv").read_bytes().decode("latin-1")  # still latin-1
    assert text.splitlines() == [
        "id;name;country;nuts;body;source",
        "zurich;Zürich;CHE;;;register",
        "koeln;Köln;DEU;DEA23;;register",
    ]


# -- the library: what the options say reaches the readers ----------------------------------------

_NAME = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=255, exclude_characters='"\x7f'),
    min_size=1,
    max_size=20,
).filter(lambda s: s.strip() == s and s.strip())


@settings(max_examples=40, deadline=None)
@given(
    names=st.lists(_NAME, min_size=1, max_size=4),
    delimiter=st.sampled_from([",", ";", "\t", "|", ":"]),
    encoding=st.sampled_from(["latin-1", "cp1252", "utf-8", "utf-16"]),
)
def test_names_come_through_any_encoding_and_delimiter(
    names: list[str], delimiter: str, encoding: str
) -> None:
    """Whatever the text, the delimiter and the encoding, each name reads back as written when
    the options say how the file is written (cells quoted: a name may hold the delimiter)."""
    if encoding == "cp1252" and any(0x80 <= ord(c) < 0xA0 for n in names for c in n):
        return  # C1 controls have no cp1252 byte
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        rows = [[f"p{i}", n, "DEU", "", "", "register"] for i, n in enumerate(names)]
        lines = [delimiter.join(f'"{c}"' for c in r) for r in [HEADER, *rows]]
        (root / "places.csv").write_bytes(("\n".join(lines) + "\n").encode(encoding))
        options = SourceOptions(MAPPINGS, encoding=encoding, delimiter=delimiter)
        result = convert(
            [root / "places.csv"],
            Settings.load(env={}),
            check_references=False,  # sources.csv is not part of this run
            **options.keywords(),
        )
        triples = [t for ts in result.graphs.values() for t in ts if _is_name(t)]
        assert {t.object.value for t in triples if isinstance(t.object, ox.Literal)} == set(names)


def _is_name(t: ox.Triple) -> bool:
    return t.predicate.value == SKOS_PREF


def test_mapping_infer_reads_a_latin1_csv_with_encoding_and_the_hint_names_it(
    tmp_path: Path,
) -> None:
    """``mapping infer`` reads records without mapping them: the reading options only."""
    records = _records(tmp_path, "records", PLACES, delimiter=";")
    args = ["mapping", "infer", str(records / "places.csv"), "--table", "places", "-q"]
    refused = run_cli(args)
    assert refused.exit_code == 2, refused.output
    assert "use --encoding to name the file's encoding, e.g. --encoding latin-1" in refused.stderr
    assert _hinted_options(refused.stderr) <= _options_of("mapping infer")
    assert {"--sheet", "--encoding", "--delimiter"} <= _options_of("mapping infer")
    done = run_cli([*args, "--encoding", "latin-1", "--delimiter", ";"])
    assert done.exit_code == 0, done.output
    assert '"titles": "name"' in done.stdout and '"titles": "country"' in done.stdout


@pytest.mark.parametrize("command", [*COMMANDS, "mapping infer"])
@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--encoding", "klingon", "unknown encoding 'klingon' (see --encoding)"),
        ("--delimiter", ";;", "--delimiter must be one character, got ';;'"),
    ],
)
def test_a_bad_reading_option_is_named_by_the_option_the_command_has(
    command: str, option: str, value: str, message: str, tmp_path: Path
) -> None:
    records = _records(tmp_path, "records", PLACES)
    if command == "mapping infer":
        args = ["mapping", "infer", str(records / "places.csv"), "--table", "places"]
    else:
        args = [*COMMANDS[command](records, tmp_path), "--mappings", str(MAPPINGS)]
    refused = run_cli([*args, option, value])
    assert refused.exit_code == 2, refused.output
    assert message in refused.stderr
    assert _hinted_options(refused.stderr) <= _options_of(command)


def test_validate_context_that_is_no_store_is_named_by_context(tmp_path: Path) -> None:
    """Not the store's own message, which points at --store (validate has none)."""
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("publish first\n", encoding="utf-8")
    records = _records(tmp_path, "records", PLACES)
    args = ["validate", str(records), "--mappings", str(MAPPINGS), "--encoding", "latin-1"]
    refused = run_cli([*args, "--context", str(tmp_path / "notes")])
    assert refused.exit_code == 2, refused.output
    assert refused.stderr == (
        f"Error: no store at {tmp_path / 'notes'} (--context expects a store directory)\n"
    )
    assert _hinted_options(refused.stderr) <= _options_of("validate")


def test_publish_refuses_one_sheet_of_a_workbook_whose_other_sheets_are_tables(
    tmp_path: Path,
) -> None:
    """A workbook is one graph: --sheet would replace it without the other mapped sheets."""
    records = tmp_path / "records"
    records.mkdir()
    sources = [line.split(",") for line in _steward_sources().splitlines()]
    _workbook(records / "book.xlsx", {"places": [HEADER, *PLACES], "sources": sources})
    store = tmp_path / "store"
    args = ["publish", str(records), "--store", str(store), "--mappings", str(MAPPINGS)]
    assert run_cli(args).exit_code == 0
    with Store.open(store, read_only=True) as published:
        before = set(published.quads())
    refused = run_cli([*args, "--sheet", "places"])
    assert refused.exit_code == 2, refused.output
    assert refused.stderr == (
        f"Error: {records}/book.xlsx: publishing only its sheet 'places' would replace the"
        " workbook's graph without its other tables (sources); publish the whole workbook"
        " (without --sheet)\n"
    )
    assert _hinted_options(refused.stderr) <= _options_of("publish")
    with Store.open(store, read_only=True) as published:
        assert set(published.quads()) == before


def _steward_sources() -> str:
    return (STEWARD / "good" / "sources.csv").read_text(encoding="utf-8")
