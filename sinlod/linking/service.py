"""A client of any Reconciliation Service API (0.1/0.2): ``sinlod link suggest --service URL``.

Wikidata's service (``https://wikidata.reconci.link/en/api``), another sinlod server's
``/reconcile`` or any service OpenRefine can use. The manifest says which entities the service
names (``identifierSpace``): things that already link into that namespace are skipped, the rest
are sent in batches (form field ``queries``, as OpenRefine does) and each answer becomes a
``Suggestion`` like the offline ones:

* ``match`` only when the service itself marks its top candidate a match (scores of different
  services are not on one scale; the service knows what its scores mean);
* ``ambiguous`` when it does not, but a candidate scores at least the threshold;
* ``none`` otherwise, with the best candidates for a person to look at.

Network and protocol failures are ``InputError``s that name the URL: an unreachable service
must never look like "nothing to link". Only the standard library speaks HTTP here.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pyoxigraph import NamedNode, Quad, Triple

from sinlod import __version__
from sinlod.errors import InputError
from sinlod.linking.suggest import THRESHOLD, Candidate, Query, Suggestion

#: Queries per request: OpenRefine's default, and small enough for any service's limit.
BATCH = 10
TIMEOUT = 30.0


@dataclass(frozen=True)
class Service:
    """A reconciliation service: its endpoint URL and manifest."""

    url: str
    manifest: dict[str, Any]
    timeout: float = TIMEOUT

    @property
    def identifier_space(self) -> str:
        return str(self.manifest.get("identifierSpace", ""))

    @property
    def name(self) -> str:
        return str(self.manifest.get("name", self.url))

    @classmethod
    def connect(cls, url: str, timeout: float = TIMEOUT) -> Service:
        """Read the service manifest at ``url``; ``InputError`` if it is not a service."""
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise InputError(f"--service must be an http(s) URL, got {url!r}")
        manifest = _call(url, None, timeout)
        if not isinstance(manifest, dict) or not {"name", "identifierSpace"} <= set(manifest):
            raise InputError(f"{url} is not a reconciliation service (no service manifest)")
        return cls(url, manifest, timeout)

    def reconcile(self, batch: dict[str, dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
        """Send one batch; the candidates per query key."""
        answer = _call(self.url, {"queries": json.dumps(batch)}, self.timeout)
        if not isinstance(answer, dict):
            raise InputError(f"{self.url}: the answer to a batch is not a JSON object")
        out: dict[str, list[dict[str, Any]]] = {}
        for key in batch:
            entry = answer.get(key)
            results = entry.get("result") if isinstance(entry, dict) else None
            if not isinstance(results, list):
                raise InputError(f"{self.url}: no result for query {key!r} in its answer")
            out[key] = [r for r in results if isinstance(r, dict) and "id" in r]
        return out


def _call(url: str, form: dict[str, str] | None, timeout: float) -> Any:
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(
        url,
        data=data,
        headers={"Accept": "application/json", "User-Agent": f"sinlod/{__version__}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (http(s) checked)
            body = response.read(50_000_000)
    except urllib.error.HTTPError as exc:
        raise InputError(f"reconciliation service {url} answered HTTP {exc.code}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise InputError(f"cannot reach reconciliation service {url}: {reason}") from exc
    try:
        return json.loads(body)
    except ValueError as exc:
        raise InputError(f"reconciliation service {url} did not answer JSON") from exc


def _suggestion(
    query: Query, results: list[dict[str, Any]], space: str, threshold: float
) -> Suggestion:
    candidates = tuple(
        Candidate(
            _iri(str(r["id"]), space),
            _code(str(r["id"]), space),
            str(r.get("name", "")),
            _number(r.get("score")),
        )
        for r in results
    )
    label = query.labels[0] if query.labels else ""
    matched = [c for c, r in zip(candidates, results, strict=True) if r.get("match") is True]
    if len(matched) == 1:
        top = matched[0]
        return Suggestion(query.subject, label, "match", top.iri, top.label, top.score, (top,))
    close = tuple(c for c in candidates if c.score >= threshold)
    if close:
        return Suggestion(query.subject, label, "ambiguous", None, None, close[0].score, close)
    return Suggestion(query.subject, label, "none", None, None, 0.0, candidates[:3])


def _iri(id_: str, space: str) -> str:
    """An entity's IRI: ids are IRIs (sinlod) or local to ``identifierSpace`` (Wikidata: Q64)."""
    return id_ if id_.startswith(("http://", "https://")) else space + id_


def _code(id_: str, space: str) -> str:
    iri = _iri(id_, space)
    if space and iri.startswith(space):
        return iri[len(space) :]
    return re.split(r"[/#]", iri.rstrip("/#"))[-1]


def _number(value: object) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def shared_namespace(accepted: Sequence[Suggestion]) -> str:
    """The namespace every accepted target shares (cut after its last ``/`` or ``#``), which
    ``--accept`` strips to write codes ("PL711", "Q64") into the records' column."""
    iris = [s.target_iri for s in accepted if s.target_iri]
    if not iris:
        return ""
    prefix = os.path.commonprefix(iris)
    return prefix[: max(prefix.rfind("/"), prefix.rfind("#")) + 1]


def suggest_with_service(
    data: Iterable[Triple | Quad],
    service: Service,
    *,
    of_class: str,
    type_id: str | None = None,
    threshold: float = THRESHOLD,
    limit: int = 5,
) -> list[Suggestion]:
    """A suggestion for every thing of ``of_class`` that does not yet link into the service's
    ``identifierSpace``, from the service's candidates (``type_id`` narrows them). Raises
    ``InputError`` when the service cannot be reached or answers outside the protocol."""
    from sinlod.linking import LinkTarget, queries

    space = service.identifier_space
    triples = [t.triple if isinstance(t, Quad) else t for t in data]
    # Every thing of the class (a namespace nothing is in), then without those that link into
    # the service's space already; a thing inside that space (another sinlod server with the
    # same base) links there internally, which is not a reconciliation.
    everything = LinkTarget("service", service.name, "\x00", service.url, False)
    linked = {
        t.subject.value
        for t in triples
        if isinstance(t.subject, NamedNode)
        and isinstance(t.object, NamedNode)
        and space
        and t.object.value.startswith(space)
        and not t.subject.value.startswith(space)
    }
    todo = [
        q
        for q in queries(triples, everything, of_class=of_class, level=None)
        if q.subject not in linked
    ]
    out: list[Suggestion] = []
    for start in range(0, len(todo), BATCH):
        chunk = todo[start : start + BATCH]
        batch: dict[str, dict[str, Any]] = {}
        for i, q in enumerate(chunk):
            item: dict[str, Any] = {"query": q.labels[0], "limit": limit}
            if type_id:
                item["type"] = type_id
            batch[f"q{i}"] = item
        answers = service.reconcile(batch)
        out.extend(_suggestion(q, answers[f"q{i}"], space, threshold) for i, q in enumerate(chunk))
    return out


__all__: Sequence[str] = ("Service", "shared_namespace", "suggest_with_service")
