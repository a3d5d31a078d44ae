"""`sinlod link check|suggest`: exit codes and exact output."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

from sinlod.config import PROJECT_ROOT
from tests.conftest import FIXTURES, run_cli

PLACES = str(FIXTURES / "linking" / "places.nt")
REFERENCE = str(FIXTURES / "linking" / "reference")
STEWARD = FIXTURES / "linking" / "steward"


def test_check_reports_unknown_code_with_line_and_exits_1() -> None:
    result = run_cli(["link", "check", PLACES, "--reference", REFERENCE])
    assert result.exit_code == 1
    assert result.output == (
        f"{PLACES}:3: BE1000 is not a code of NUTS 2021; did you mean BE100?\n"
        "1 unknown link target (3 reference codes)\n"
    )


def test_shipped_dataset_links_are_all_in_the_reference_snapshots() -> None:
    result = run_cli(["link", "check", str(PROJECT_ROOT / "data" / "records")])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("0 unknown link targets (")


def test_suggest_prints_csv_for_unlinked_places() -> None:
    result = run_cli(["link", "suggest", PLACES, "--reference", REFERENCE, "--target", "nuts"])
    assert result.exit_code == 0
    assert result.output == (
        "subject,label,status,score,target,target_label,candidates\n"
        "https://w3id.org/sinlod/id/place/essen,Essen,match,100,"
        'http://data.europa.eu/nuts/code/DEA13,"Essen, Kreisfreie Stadt",DEA13:100\n'
    )


def test_unknown_target_is_a_usage_error() -> None:
    result = run_cli(["link", "suggest", PLACES, "--target", "nutz"])
    assert result.exit_code == 2
    assert "unknown link target 'nutz'; expected one of: nuts, country" in result.output


def test_a_target_suggest_cannot_serve_is_an_error_not_an_empty_success() -> None:
    for target, title in [("wikidata", "Wikidata"), ("geonames", "GeoNames")]:
        result = run_cli(["link", "suggest", PLACES, "--target", target])
        assert result.exit_code == 2, target
        assert f"cannot suggest links into {title}: no offline table for it" in result.output


def _steward_copy(tmp_path: Path) -> tuple[Path, Path]:
    """The steward fixture without its NUTS codes, and a settings file that maps it."""
    records = tmp_path / "records"
    shutil.copytree(STEWARD / "good", records)
    places = records / "places.csv"
    rows = places.read_text(encoding="utf-8").splitlines()
    header = rows[0].split(",")
    nuts = header.index("nuts")
    cut = []
    for row in rows[1:]:
        cells = row.split(",")
        cells[nuts] = ""
        cut.append(",".join(cells))
    places.write_text("\n".join([rows[0], *cut]) + "\n", encoding="utf-8")
    config = tmp_path / "sinlod.toml"
    config.write_text(f'mappings_dir = "{STEWARD / "mappings"}"\n', encoding="utf-8")
    return records, config


def test_suggest_json_flags_and_accept_writes_the_column(tmp_path: Path) -> None:
    records, config = _steward_copy(tmp_path)
    base = ["--config", str(config), "link", "suggest", str(records), "--target", "nuts"]
    result = run_cli([*base, "--format", "json"])
    assert result.exit_code == 0, result.output
    by_label = {s["label"]: s for s in json.loads(result.output)}
    assert by_label["Łódź"]["target"] == "http://data.europa.eu/nuts/code/PL711"
    assert by_label["Denmark"]["status"] == "none"  # a country has no NUTS 3 region
    accepted = run_cli([*base, "--accept", "95"])
    assert accepted.exit_code == 0, accepted.output
    text = (records / "places.csv").read_text(encoding="utf-8")
    got = {r["id"]: r["nuts"] for r in csv.DictReader(text.splitlines())}
    assert got == {
        "denmark": "",
        "essen": "DEA13",
        "wuppertal": "DEA1A",
        "sevilla": "ES618",
        "lodz": "PL711",
        "cadiz": "ES612",
        "gelsenkirchen": "DEA32",
        "barcelona": "ES511",
        "brussels": "",  # "Brussels": an English exonym no table gives, so no match
    }
    assert f"{records / 'places.csv'}: 7 links written to column nuts" in accepted.output
    # the written records validate: the codes are real NUTS 2021 codes, in the right cells
    valid = run_cli(["--config", str(config), "validate", str(records)])
    assert valid.exit_code == 0, valid.output


def test_check_takes_the_source_options_its_hint_names(tmp_path: Path) -> None:
    """A record file without a mapping is refused with a hint naming --mappings and --mapping;
    both work on `link check` as on `convert`."""
    good = str(STEWARD / "good")
    refused = run_cli(["link", "check", good])
    assert refused.exit_code == 2
    assert refused.stdout == ""
    assert refused.stderr.startswith(f'Error: {good}/sources.csv: no mapping for table "sources"')
    assert refused.stderr.rstrip().endswith("use --mappings DIR or --mapping FILE")
    by_dir = run_cli(["link", "check", good, "--mappings", str(STEWARD / "mappings")])
    files = [
        f"--mapping={STEWARD / 'mappings' / t}.csv-metadata.json" for t in ("places", "sources")
    ]
    by_file = run_cli(["link", "check", good, *files])
    for result in (by_dir, by_file):
        assert result.exit_code == 0, result.output
        assert result.output.startswith("0 unknown link targets (")


def test_suggest_reads_records_with_mappings_option(tmp_path: Path) -> None:
    """The same suggestions with --mappings as with the mappings_dir setting."""
    records, config = _steward_copy(tmp_path)
    base = ["link", "suggest", str(records), "--target", "nuts", "--format", "json"]
    by_setting = run_cli(["--config", str(config), *base])
    by_option = run_cli([*base, "--mappings", str(STEWARD / "mappings")])
    assert by_option.exit_code == by_setting.exit_code == 0, by_option.output
    assert json.loads(by_option.output) == json.loads(by_setting.output)
    assert any(s["status"] == "match" for s in json.loads(by_option.output))
