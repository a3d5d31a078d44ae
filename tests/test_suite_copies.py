"""The copies of published test suites in tests/data/ are complete, bounded and attributed, and
nothing in the project reads outside the repository (a clone must test itself alone, issue 10).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sinlod.config import PROJECT_ROOT
from tests.conftest import TEST_DATA
from tests.data.suites import SUITES, Suite, closure, files_of

#: Folders of the checkout that are not the project's own text.
NOT_OURS = {".git", ".venv", "node_modules", "var", ".mypy_cache", ".ruff_cache", ".pytest_cache"}


@pytest.mark.parametrize("suite", SUITES.values(), ids=list(SUITES))
def test_each_w3c_copy_is_exactly_the_closure_of_its_manifests(suite: Suite) -> None:
    """Every file a manifest names is here (none missing), and nothing else is (none stray)."""
    assert files_of(suite.copy) == closure(suite.copy, suite.roots)


@pytest.mark.parametrize("folder", ["w3c/sparql11", "w3c/shacl", "dcat-ap"])
def test_each_copy_has_its_licence_and_provenance(folder: str) -> None:
    readme = (TEST_DATA / folder / "README.md").read_text(encoding="utf-8")
    licence = (TEST_DATA / folder / "LICENSE.md").read_text(encoding="utf-8")
    assert "github.com/" in readme and "commit" in readme
    expected = "CC BY 4.0" if folder == "dcat-ap" else "W3C 3-clause BSD Licence"
    assert expected in licence


def test_the_dcat_ap_copy_is_the_three_shape_files_the_catalogue_test_reads() -> None:
    assert files_of(TEST_DATA / "dcat-ap") == {
        "shapes.ttl",
        "range.ttl",
        "mdr-vocabularies.shape.ttl",
    }


def test_the_closure_follows_includes_and_named_files(tmp_path: Path) -> None:
    """Lists and single includes are followed; files named by an entry count; others do not."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "root.ttl").write_text(
        "@prefix mf: <http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#> .\n"
        "<> mf:include ( <sub/manifest.ttl> ) .\n",
        encoding="utf-8",
    )
    (tmp_path / "sub" / "manifest.ttl").write_text(
        "@prefix mf: <http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#> .\n"
        "<> mf:entries ( <#t1> ) . <#t1> mf:action <q.rq> ; mf:result <missing.srx> .\n",
        encoding="utf-8",
    )
    for name in ("q.rq", "unnamed.rq"):
        (tmp_path / "sub" / name).write_text("ASK {}", encoding="utf-8")
    assert closure(tmp_path, ["root.ttl"]) == {"root.ttl", "sub/manifest.ttl", "sub/q.rq"}


def _project_files() -> list[Path]:
    found = []
    for path in PROJECT_ROOT.rglob("*"):
        parts = path.relative_to(PROJECT_ROOT).parts
        if path.is_file() and not NOT_OURS & set(parts) and path.suffix != ".md":
            found.append(path)
    return found


def test_nothing_in_the_project_reads_a_folder_beside_the_checkout() -> None:
    """No code, test, data or build file reads the shared folder beside the checkout."""
    needles = ("../sh" + "ared", '"sh' + 'ared"', "parents" + "[3]")  # split: not found here
    offending = []
    for path in _project_files():
        if path.suffix not in {".py", ".toml", ".cfg", ".ini", ".json", ".csv", ".ttl", ""}:
            continue
        if "tests/data/w3c" in path.as_posix():
            continue  # the suites' own files, unchanged
        text = path.read_text(encoding="utf-8", errors="replace")
        offending += [f"{path.relative_to(PROJECT_ROOT)}: {n}" for n in needles if n in text]
    assert offending == []
