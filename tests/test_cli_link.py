"""`sinlod link check|suggest`: exit codes and exact output."""

from __future__ import annotations

from sinlod.config import PROJECT_ROOT
from tests.conftest import FIXTURES, run_cli

PLACES = str(FIXTURES / "linking" / "places.nt")
REFERENCE = str(FIXTURES / "linking" / "reference")


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
        "subject,label,target,target_label\n"
        "https://w3id.org/sinlod/id/place/essen,Essen,http://data.europa.eu/nuts/code/DEA13,"
        '"Essen, Kreisfreie Stadt"\n'
    )


def test_unknown_target_is_a_usage_error() -> None:
    result = run_cli(["link", "suggest", PLACES, "--target", "nutz"])
    assert result.exit_code == 2
    assert "unknown link target 'nutz'; expected one of: nuts, country" in result.output
