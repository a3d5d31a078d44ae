"""Settings: declared once, as data, with help text; read from a TOML file and ``SINLOD_*``.

This is the only module that reads the environment or builds paths to the project's data
(``ontology/``, ``shapes/``, ``data/``). Precedence, lowest first: defaults, the settings file
(``sinlod.toml`` in the working directory or ``SINLOD_CONFIG``), ``SINLOD_*`` environment
variables, explicit keyword arguments (what the CLI passes from its options).
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sinlod.errors import InputError
from sinlod.minting import check_dataset
from sinlod.namespaces import DEFAULT_BASE

#: The checkout (or installed tree) that holds ontology/, shapes/ and data/.
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _setting(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    """Everything configurable in sinlod. Each field's ``help`` is what the README table shows."""

    base_iri: str = _setting(
        DEFAULT_BASE, "Base IRI of minted identifiers ({base}id/{type}/{key})."
    )
    store_path: Path = _setting(Path("var/store"), "Directory of the Oxigraph store on disk.")
    keep_releases: int = _setting(
        3,
        "Past releases whose data the store keeps besides the current one, for sinlod diff,"
        " rollback and --release (older ones are pruned; the release log keeps every release).",
    )
    backend: str = _setting(
        "embedded",
        "Where the published data lives: embedded (pyoxigraph at store_path) or remote (a SPARQL"
        ' 1.1 store at remote_query_url; docs/store.md, "A remote backend").',
    )
    remote_query_url: str | None = _setting(
        None, "SPARQL 1.1 Query endpoint of the remote store (backend remote)."
    )
    remote_update_url: str | None = _setting(
        None, "SPARQL 1.1 Update endpoint of the remote store (unset: remote_query_url)."
    )
    remote_graph_store_url: str | None = _setting(
        None,
        "Graph Store Protocol endpoint of the remote store, used to upload and read whole graphs"
        " (unset: INSERT DATA and CONSTRUCT through the other two).",
    )
    remote_user: str | None = _setting(None, "User name for the remote store's writes.")
    remote_password: str | None = _setting(None, "Password of remote_user.")
    remote_auth: str = _setting(
        "basic", "How remote_user signs in: basic or digest (Virtuoso's /sparql-auth)."
    )
    remote_token: str | None = _setting(
        None, "Bearer token sent to the remote store (instead of remote_user)."
    )
    remote_namespace: str | None = _setting(
        None,
        "Prefix of the graph names sinlod keeps on the remote store (unset: {base}store/); sinlod"
        " stores with different prefixes can share one server.",
    )
    remote_refresh_interval: float = _setting(
        1.0,
        "Seconds a server reuses what it knows of the remote store's published release before"
        " asking again (each ask is one small query).",
    )
    ontology_dir: Path = _setting(
        PROJECT_ROOT / "ontology", "Ontology (sinlod.ttl) and vocabularies/*.ttl."
    )
    shapes_dir: Path = _setting(PROJECT_ROOT / "shapes", "SHACL shapes (*.ttl).")
    data_dir: Path = _setting(
        PROJECT_ROOT / "data", "Shipped dataset: records/, mappings/, reference/."
    )
    mappings_dir: Path = _setting(
        PROJECT_ROOT / "data" / "mappings", "CSVW metadata used to map records to RDF."
    )
    assets_dir: Path = _setting(
        PROJECT_ROOT / "node_modules",
        "Front-end assets installed from npm by `make assets` (YASGUI for the query page).",
    )
    update_token: str | None = _setting(
        None, "Bearer token that SPARQL Update and Graph Store writes need (unset: refused)."
    )
    update_tokens: tuple[str, ...] = _setting(
        (),
        "More write tokens, each with the name the release log records"
        " (name:token,name2:token2; update_token is named default).",
    )
    query_cache_entries: int = _setting(
        256, "Query results kept in the server's in-process cache (0: no cache)."
    )
    query_cache_bytes: int = _setting(
        64_000_000, "Largest total size of the cached query results, in bytes."
    )
    memory_copy_max_quads: int = _setting(
        2_000_000,
        "The server keeps a read-only copy of the published release in memory and runs queries on"
        " it when the release has at most this many quads (0: always query the store on disk)."
        " Queries run 2-5 times faster; it costs about 0.5 KB of RAM per quad and worker.",
    )
    union_default_graph: bool = _setting(
        True,
        "A SPARQL query's default graph is the union of all graphs (sd:UnionDefaultGraph); off,"
        " it is the store's own default graph, as in plain SPARQL 1.1 (fill it with"
        " /graph-store?default).",
    )
    query_timeout: float = _setting(10.0, "Seconds a SPARQL query may run before it is stopped.")
    worker_memory_limit: int = _setting(
        3000,
        "MB of resident memory a server worker may use; a query that takes it further is stopped"
        " (503 memory-limit) and the worker replaced (0: no limit). Keep it well above the"
        " memory copy of the release (about 0.5 KB per quad).",
    )
    warm_spare: bool = _setting(
        True,
        "`sinlod serve` keeps one started, idle worker ready to replace a worker that dies or is"
        " recycled, so the switch is instant (it costs one more worker's memory).",
    )
    drain_seconds: float = _setting(
        0.0,
        "On SIGTERM, `sinlod serve` keeps answering for this many seconds while /healthz answers"
        " 503 (draining), so a load balancer's health check takes it out before it stops; then"
        " it finishes what is running and exits. Behind HAProxy: more than fall x inter"
        " (docs/deploy.md). A second signal stops at once.",
    )
    max_results: int = _setting(100_000, "Largest number of rows or triples a query may return.")
    max_request_bytes: int = _setting(10_000_000, "Largest request body accepted, in bytes.")
    validate_max_bytes: int = _setting(
        5_000_000,
        "Largest file /validate accepts, in bytes (413 above it); the request body limit,"
        " max_request_bytes, applies too.",
    )
    validate_timeout: float = _setting(
        60.0, "Seconds /validate may spend checking one uploaded file before it gives up."
    )
    max_query_depth: int = _setting(
        100,
        "Deepest nesting of groups, parentheses and brackets a SPARQL query or update may have"
        " (x10 chained UNION/OPTIONAL/MINUS/||/&&/!); deeper ones are refused with 400 before"
        " they run, as pyoxigraph's stack overflows from about 2,200 levels (0: no limit).",
    )
    service_allowlist: tuple[str, ...] = _setting(
        (), "Hosts that SERVICE and LOAD may reach (comma-separated; none by default)."
    )
    shacl_gate: bool = _setting(True, "Refuse writes over HTTP that would violate the shapes.")
    validation_engine: str = _setting(
        "fast", "SHACL engine: fast (the shacl package, same findings) or pyshacl (the reference)."
    )
    host: str = _setting("127.0.0.1", "Address `sinlod serve` listens on.")
    port: int = _setting(8000, "Port `sinlod serve` listens on.")
    access_log: bool = _setting(
        True, "Log every request (uvicorn's access log; about a tenth of a small query's cost)."
    )
    public_url: str | None = _setting(
        None, "URL the server is reached at, if not the one requests arrive on."
    )
    allowed_hosts: tuple[str, ...] = _setting(
        ("localhost", "127.0.0.1", "[::1]", "testserver"),
        "Host names requests may name in their Host header (others get 400); absolute URLs in"
        " answers are built from public_url, else from the request's Host, so only these can"
        " appear. The host of public_url and the `host` setting are added; .example.org matches"
        " its subdomains; * allows any (only behind a proxy that checks Host itself).",
    )
    dataset: str = _setting(
        "sinlod",
        "Dataset `sinlod publish` publishes into when --dataset is not given; its graphs are"
        " {base}graph/{dataset}/{table} (the shipped data is the dataset sinlod).",
    )
    dataset_title: str = _setting(
        "Social Innovation Linked Open Data",
        "Title of the published dataset (catalogue, VoID, pages).",
    )
    dataset_description: str = _setting(
        "Actors, projects, events, funding and places of European social innovation, as linked"
        " open data with links to EU open datasets.",
        "Description of the published dataset.",
    )
    publisher_name: str = _setting(
        "sinlod project", "Name of the publisher (DCAT-AP dct:publisher)."
    )
    license_iri: str = _setting(
        "http://creativecommons.org/licenses/by/4.0/", "Licence of the published data (an IRI)."
    )
    contact_email: str = _setting(
        "sinlod@example.org", "Contact point of the dataset (DCAT-AP dcat:contactPoint)."
    )

    @property
    def def_iri(self) -> str:
        return self.base_iri + "def/"

    # The rule-file layout: validation (``validate/rules.py``) and ``publish`` find the files here.

    @property
    def ontology_file(self) -> Path:
        """The ontology: ``sinlod.ttl`` in ``ontology_dir``."""
        return self.ontology_dir / "sinlod.ttl"

    @property
    def reference_dir(self) -> Path:
        """The offline snapshots of the reference tables: ``reference/`` in ``data_dir``."""
        return self.data_dir / "reference"

    def shape_files(self) -> list[Path]:
        """The SHACL shapes, sorted: ``shapes_dir/*.ttl``."""
        return sorted(self.shapes_dir.glob("*.ttl"))

    def vocabulary_files(self) -> list[Path]:
        """The SKOS vocabularies, sorted: ``vocabularies/*.ttl`` in ``ontology_dir``."""
        return sorted((self.ontology_dir / "vocabularies").glob("*.ttl"))

    def reference_files(self) -> list[Path]:
        """The reference tables' snapshots, sorted: ``*.ttl`` in ``reference_dir``."""
        return sorted(self.reference_dir.glob("*.ttl"))

    @classmethod
    def load(
        cls, config_file: Path | None = None, env: Mapping[str, str] | None = None, **overrides: Any
    ) -> Settings:
        """Build settings from defaults, a TOML file, ``SINLOD_*`` variables and ``overrides``.

        Raises ``InputError`` for an unreadable file, an unknown key or a value of the wrong type.
        """
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        # Values from the settings file: a wrong one names the file to fix (a dataset folder's
        # sinlod.toml is not where a steward looks when `sinlod publish DIR` fails).
        origins: dict[str, str] = {}
        path = config_file or (Path(env["SINLOD_CONFIG"]) if env.get("SINLOD_CONFIG") else None)
        if path is None and Path("sinlod.toml").is_file():
            path = Path("sinlod.toml")
        if path is not None:
            values.update(_read_toml(path))
            origins |= dict.fromkeys(values, str(path))
        for f in dataclasses.fields(cls):
            key = "SINLOD_" + f.name.upper()
            if key in env:
                values[f.name] = env[key]
                origins.pop(f.name, None)
        given = {k: v for k, v in overrides.items() if v is not None}
        values.update(given)
        for k in given:
            origins.pop(k, None)
        coerced = {}
        for k, v in values.items():
            try:
                coerced[k] = _coerce(k, v)
            except InputError as exc:
                if k not in origins:
                    raise
                raise InputError(f"{origins[k]}: {exc}") from exc
        return cls(**coerced)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read settings file: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML: {exc}") from exc
    section = data.get("sinlod", data)
    if not isinstance(section, dict):
        raise InputError(f"{path}: expected a [sinlod] table")
    return dict(section)


_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}


def _coerce(name: str, value: Any) -> Any:
    """Turn a file or environment value into the field's type, with a message naming the setting."""
    if name not in _FIELDS:
        known = ", ".join(sorted(_FIELDS))
        raise InputError(f"unknown setting {name!r}; known settings: {known}")
    kind = str(_FIELDS[name].type)
    try:
        if "Path" in kind:
            return Path(value)
        if kind.startswith("bool"):
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
                raise ValueError(value)
            return text in {"1", "true", "yes", "on"}
        if kind.startswith("int"):
            return int(value)
        if kind.startswith("float"):
            return float(value)
        if kind.startswith("tuple"):
            items = value.split(",") if isinstance(value, str) else list(value)
            return tuple(s.strip() for s in items if str(s).strip())
        if name == "dataset":
            return check_dataset(str(value))
        if name == "base_iri":
            text = str(value)
            if not text.startswith(("http://", "https://")) or not text.endswith("/"):
                raise InputError(
                    f"setting 'base_iri': expected an http(s) IRI ending in '/', got {text!r}"
                )
            return text
    except (TypeError, ValueError) as exc:
        raise InputError(f"setting {name!r}: expected {kind}, got {value!r}") from exc
    return value if value is None else str(value)


def settings_table() -> list[tuple[str, str, str, str]]:
    """(name, environment variable, default, help) per setting, for docs and ``--help``."""
    rows = []
    for f in dataclasses.fields(Settings):
        default = f.default
        if isinstance(default, Path) and default.is_absolute():
            default = default.relative_to(PROJECT_ROOT)
        rows.append((f.name, "SINLOD_" + f.name.upper(), repr(default), f.metadata["help"]))
    return rows


def settings_markdown() -> str:
    """The README's configuration table, generated so that it cannot drift from ``Settings``."""
    lines = ["| setting | environment variable | default | what |", "|---|---|---|---|"]
    for name, env, default, help_text in settings_table():
        lines.append(f"| `{name}` | `{env}` | `{default}` | {help_text.replace('|', '/')} |")
    return "\n".join(lines) + "\n"
