"""Settings come from defaults, a TOML file, SINLOD_* variables and explicit values, in order."""

from __future__ import annotations

from pathlib import Path

import pytest

from sinlod.config import Settings, settings_table
from sinlod.errors import InputError


def test_precedence_file_then_environment_then_explicit(tmp_path: Path) -> None:
    config = tmp_path / "sinlod.toml"
    config.write_text('[sinlod]\nport = 9000\nquery_timeout = 2.5\nbase_iri = "https://ex.org/"\n')
    env = {"SINLOD_PORT": "9100", "SINLOD_SERVICE_ALLOWLIST": "query.wikidata.org, dbpedia.org"}
    s = Settings.load(config_file=config, env=env, query_timeout=1.0)
    assert s.port == 9100
    assert s.query_timeout == 1.0
    assert s.base_iri == "https://ex.org/"
    assert s.service_allowlist == ("query.wikidata.org", "dbpedia.org")
    assert s.store_path == Path("var/store")


def test_config_file_named_by_environment(tmp_path: Path) -> None:
    config = tmp_path / "other.toml"
    config.write_text("shacl_gate = false\n")
    assert Settings.load(env={"SINLOD_CONFIG": str(config)}).shacl_gate is False


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SINLOD_PORT": "eighty"}, "setting 'port': expected int, got 'eighty'"),
        ({"SINLOD_SHACL_GATE": "maybe"}, "setting 'shacl_gate': expected bool, got 'maybe'"),
        (
            {"SINLOD_BASE_IRI": "https://ex.org/no-slash"},
            "setting 'base_iri': expected an http(s) IRI ending in '/', got 'https://ex.org/no-slash'",
        ),
    ],
)
def test_bad_values_name_the_setting(env: dict[str, str], message: str) -> None:
    with pytest.raises(InputError) as info:
        Settings.load(env=env)
    assert str(info.value) == message


def test_unknown_key_in_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "sinlod.toml"
    config.write_text("[sinlod]\nprot = 1\n")
    known = "known settings: access_log, allowed_hosts, assets_dir, backend, base_iri"
    with pytest.raises(InputError, match=f"unknown setting 'prot'; {known}"):
        Settings.load(config_file=config, env={})


def test_malformed_file_names_the_file(tmp_path: Path) -> None:
    config = tmp_path / "sinlod.toml"
    config.write_text("port = = 1\n")
    with pytest.raises(InputError, match=r"sinlod.toml: not valid TOML: .*line 1"):
        Settings.load(config_file=config, env={})


def test_every_setting_has_help_and_an_environment_variable() -> None:
    rows = settings_table()
    assert len(rows) == len(Settings.__dataclass_fields__)
    for name, env, _default, help_text in rows:
        assert env == "SINLOD_" + name.upper()
        assert help_text.endswith("."), name


def test_a_bad_value_in_the_file_names_the_file(tmp_path: Path) -> None:
    config = tmp_path / "sinlod.toml"
    config.write_text('[sinlod]\ndataset = "Buurt Data"\nport = "eighty"\n')
    with pytest.raises(InputError) as info:
        Settings.load(config_file=config, env={"SINLOD_PORT": "8080"})
    assert str(info.value) == (
        f"{config}: dataset name 'Buurt Data': expected a slug (lower-case letters, digits and "
        "'-', such as steward-2026)"
    )
    fixed = Settings.load(config_file=config, env={"SINLOD_DATASET": "buurt", "SINLOD_PORT": "1"})
    assert fixed.dataset == "buurt"
