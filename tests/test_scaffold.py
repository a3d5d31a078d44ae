"""``sinlod init`` (issue 15): a dataset folder made from the model that validates and publishes
as it is, as its own dataset; a workbook with drop-downs and header comments; a refusal to
write into a folder that is not empty."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import pytest

from sinlod.config import Settings
from sinlod.convert import SourceOptions
from sinlod.records import read_records, table_names
from sinlod.scaffold import find_folder, folder_sources
from sinlod.store import Store, datasets
from tests.conftest import run_cli

SHIPPED = Settings.load(env={}).mappings_dir
BASE = "https://w3id.org/sinlod/"


def shipped_tables() -> dict[str, list[str]]:
    """Table → the record columns of its shipped mapping (what the templates must have)."""
    out = {}
    for path in sorted(SHIPPED.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        name = doc["url"].removesuffix(".csv")
        out[name] = [c["name"] for c in doc["tableSchema"]["columns"] if not c.get("virtual")]
    return out


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("init") / "buurt-data"
    result = run_cli(["init", str(target)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith('Created dataset "buurt-data" in ')
    return target


def test_every_table_of_the_model_gets_a_template_and_its_mapping(folder: Path) -> None:
    tables = shipped_tables()
    assert sorted(p.stem for p in (folder / "records").glob("*.csv")) == sorted(tables)
    for table, columns in tables.items():
        with (folder / "records" / f"{table}.csv").open(encoding="utf-8") as f:
            rows = list(csv.reader(f))
        assert rows[0] == columns, table
        assert len(rows) == 2 and rows[1][0] == "example", table
        mapping = json.loads((folder / "mappings" / f"{table}.csv-metadata.json").read_text())
        assert mapping["url"] == f"{table}.csv"
    assert (folder / "sinlod.toml").read_text().splitlines()[-1] == 'dataset = "buurt-data"'
    documents, places = (
        next(csv.DictReader((folder / "records" / f).read_text(encoding="utf-8").splitlines()))
        for f in ("documents.csv", "places.csv")
    )
    assert (documents["language"], places["country"]) == ("ENG", "NLD")
    assert "sinlod validate" in (folder / "README.md").read_text()


def test_the_fresh_folder_validates(folder: Path) -> None:
    result = run_cli(["validate", "-q", str(folder)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("0 violations")


def test_the_workbook_has_a_sheet_per_table_drop_downs_and_comments(folder: Path) -> None:
    path = folder / "templates" / "records.xlsx"
    book = openpyxl.load_workbook(path)
    assert book["_lists"].sheet_state == "hidden"
    assert sorted(n for n in book.sheetnames if n != "_lists") == sorted(shipped_tables())
    sheet = book["organisations"]
    header = {c.value: c for c in sheet[1]}
    assert "country" in (header["country"].comment.text or "").casefold()
    assert "Choose from the list." in header["country"].comment.text
    lists = {
        str(dv.sqref).split(":")[0].rstrip("0123456789"): dv
        for dv in sheet.data_validations.dataValidation
    }
    country = lists[header["country"].column_letter]
    assert country.type == "list" and country.formula1.startswith("'_lists'!$")
    column = country.formula1.split("!$")[1].split("$")[0]
    codes = [c.value for c in book["_lists"][column] if c.value]
    assert "NLD" in codes and "DEU" in codes and len(codes) > 200
    projects = {c.value: c.column_letter for c in book["projects"][1]}
    assert book["projects"].column_dimensions[projects["start"]].number_format == "@"  # 2025-03
    assert book["projects"].column_dimensions[projects["hub_count"]].number_format == "General"
    for name in book.sheetnames[1:]:
        assert all(cell.comment and cell.comment.text for cell in book[name][1]), name
    roles = {str(dv.sqref): dv for dv in book["involvements"].data_validations.dataValidation}
    assert [dv.errorStyle for dv in roles.values()] == ["information"]  # "a;b" is allowed
    # the reader sees the tables, not the hidden lists
    assert "_lists" not in table_names(path)
    assert {r.location.sheet for r in read_records(path)} == set(shipped_tables())


def test_the_workbook_validates_with_the_folder_mappings(folder: Path) -> None:
    workbook = folder / "templates" / "records.xlsx"
    result = run_cli(["validate", "-q", str(workbook), "--mappings", str(folder / "mappings")])
    assert result.exit_code == 0, result.output


def test_the_fresh_folder_publishes_as_its_own_dataset(folder: Path, tmp_path: Path) -> None:
    store_path = tmp_path / "store"
    result = run_cli(["publish", "-q", str(folder), "--store", str(store_path)])
    assert result.exit_code == 0, result.output
    with Store.open(store_path, read_only=True, base_iri=BASE) as store:
        found = {d.name: d for d in datasets(store)}
        assert list(found) == ["buurt-data"]
        assert sorted(g.rsplit("/", 1)[1] for g in found["buurt-data"].graphs) == sorted(
            shipped_tables()
        )
        projects = list(store.graph_quads(BASE + "graph/buurt-data/projects"))
    assert any(q.subject.value == BASE + "id/project/example" for q in projects)


def test_a_folder_that_is_not_empty_is_refused_unless_forced(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    result = run_cli(["init", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {tmp_path}: not empty; choose a new folder, or use --force to write the "
        "templates into it (files of the same names are replaced)\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    result = run_cli(["init", str(tmp_path), "--force", "--dataset", "mine"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert find_folder(tmp_path) is not None


def test_a_name_that_cannot_name_a_dataset_is_refused(tmp_path: Path) -> None:
    result = run_cli(["init", str(tmp_path / "x"), "--dataset", "My Data"])
    assert result.exit_code == 2
    assert "dataset name 'My Data': expected a slug" in result.stderr
    assert not (tmp_path / "x").exists()


def test_folder_sources_reads_records_with_the_folder_mappings(folder: Path) -> None:
    paths, options, config = folder_sources([folder], SourceOptions())
    assert (paths, options.mappings_dir, config) == (
        [folder / "records"],
        folder / "mappings",
        folder / "sinlod.toml",
    )
    given = SourceOptions(mappings_dir=SHIPPED)
    assert folder_sources([folder], given)[1].mappings_dir == SHIPPED  # --mappings wins
    other = folder / "records" / "places.csv"
    assert folder_sources([other], SourceOptions()) == ([other], SourceOptions(), None)


def test_the_next_command_can_be_pasted_for_a_folder_with_a_space(tmp_path: Path) -> None:
    target = tmp_path / "buurt data"
    result = run_cli(["init", str(target)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f'Created dataset "buurt-data" in {target}: ')
    assert f"then `sinlod validate '{target}'`." in result.output
    readme = (target / "README.md").read_text(encoding="utf-8")
    assert f"\nsinlod validate '{target}'\nsinlod publish '{target}' --dry-run\n" in readme


def test_a_table_not_needed_is_kept_as_its_header_as_the_folder_readme_says(
    tmp_path: Path,
) -> None:
    """Deleting quantities.csv breaks projects and events (their mappings refer to it); its
    header alone, with the cells that point into it empty, validates."""
    target = tmp_path / "d"
    assert run_cli(["init", str(target)]).exit_code == 0
    readme = (target / "README.md").read_text(encoding="utf-8")
    assert "keep its file with the header row only" in readme
    records = target / "records"
    for name, columns in [
        ("projects", ["participant_count_quantity", "country_count_quantity"]),
        ("events", ["participant_count_quantity"]),
    ]:
        path = records / f"{name}.csv"
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        for row in rows:
            row.update(dict.fromkeys(columns, ""))
        with path.open("w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    quantities = records / "quantities.csv"
    header = quantities.read_text(encoding="utf-8").splitlines()[0]
    quantities.unlink()
    deleted = run_cli(["validate", str(target), "-q"])
    assert deleted.exit_code == 1
    assert "refers to table quantities, which is not in this conversion" in deleted.output
    quantities.write_text(header + "\n", encoding="utf-8")
    kept = run_cli(["validate", str(target), "-q"])
    assert kept.exit_code == 0, kept.output
