"""The W3C SPARQL 1.1 test suites, run over HTTP against a live server.

One pytest case per manifest entry (id ``suite/test-name``), read from
``tests/data/w3c/sparql11/manifest-all.ttl`` and the manifests it includes: query and update
evaluation, syntax, result formats, the Protocol and the Graph Store Protocol (both written as
``ht:`` HTTP exchanges in their manifests). The service-description tests exist only as names in
their manifest, so their exchanges are written out here, citing the test IRIs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pyoxigraph import NamedNode, RdfFormat, parse

from tests.conformance.known_failures import KNOWN_FAILURES
from tests.conformance.runner import run, skip_reason
from tests.conformance.targets import HttpTarget
from tests.conformance.w3c import W3CTest, media_type, read_manifests

#: Service-description entries carry no data to run: they are the explicit cases below.
TESTS = [t for t in read_manifests() if t.kind != "ServiceDescriptionTest"]


def _params(tests: list[W3CTest]) -> Iterator[Any]:
    for test in tests:
        marks = []
        if test.iri in KNOWN_FAILURES:
            marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[test.iri]))
        yield pytest.param(test, id=test.id, marks=marks)


@pytest.mark.parametrize("test", list(_params(TESTS)))
def test_w3c(test: W3CTest, w3c_target: HttpTarget) -> None:
    reason = skip_reason(test, w3c_target)
    if reason is not None:
        pytest.skip(reason)
    run(test, w3c_target)


# --------------------------------------------------------------------------- service description

SD_MANIFEST = "http://www.w3.org/2009/sparql/docs/tests/data-sparql11/service-description/manifest#"
SD = "http://www.w3.org/ns/sparql-service-description#"
RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
#: Accepted RDF serializations of a service description.
SD_ACCEPT = "text/turtle, application/rdf+xml;q=0.9, application/n-triples;q=0.8"


def _sd_param(name: str) -> Any:
    iri = SD_MANIFEST + name
    marks = (
        [pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[iri])]
        if (iri in KNOWN_FAILURES)
        else []
    )
    return pytest.param(iri, id=f"service-description/{name}", marks=marks)


def _service_description(target: HttpTarget) -> tuple[str, list[Any]]:
    """GET the query endpoint without a query, as the SD spec says; (endpoint URL, triples)."""
    endpoint = target.base_url + target.endpoints.query
    response = target.request("GET", target.endpoints.query, {"accept": SD_ACCEPT}, None)
    assert response.status == 200, f"GET {endpoint}: status {response.status}"
    fmt = RdfFormat.from_media_type(media_type(response.content_type))
    assert fmt is not None, f"GET {endpoint}: not RDF: {response.content_type!r}"
    return endpoint, list(parse(response.body, fmt, base_iri=endpoint))


@pytest.mark.parametrize("iri", [_sd_param("returns-rdf")])
def test_sd_returns_rdf(iri: str, w3c_target: HttpTarget) -> None:
    """:returns-rdf: "GET on endpoint returns RDF" (a parseable RDF document, non-empty)."""
    _, triples = _service_description(w3c_target)
    assert triples, "the service description is empty"


@pytest.mark.parametrize("iri", [_sd_param("has-endpoint-triple")])
def test_sd_has_endpoint_triple(iri: str, w3c_target: HttpTarget) -> None:
    """:has-endpoint-triple: the description names the URL it was fetched from as sd:endpoint."""
    endpoint, triples = _service_description(w3c_target)
    endpoints = [t.object for t in triples if t.predicate == NamedNode(SD + "endpoint")]
    assert NamedNode(endpoint) in endpoints, f"sd:endpoint {endpoints}, expected <{endpoint}>"


@pytest.mark.parametrize("iri", [_sd_param("conforms-to-schema")])
def test_sd_conforms_to_schema(iri: str, w3c_target: HttpTarget) -> None:
    """:conforms-to-schema: the terms are used with the domains and ranges the SD vocabulary gives.

    Checked: the subject of sd:endpoint is an sd:Service; sd:supportedLanguage takes one of the
    three sd:Language instances and the service names SPARQL 1.1 Query; sd:resultFormat,
    sd:inputFormat, sd:feature and sd:endpoint take IRIs.
    """
    _, triples = _service_description(w3c_target)

    def p(local: str) -> NamedNode:
        return NamedNode(SD + local)

    services = {t.subject for t in triples if t.predicate == p("endpoint")}
    assert services, "no sd:endpoint triple"
    typed = {t.subject for t in triples if t.predicate == RDF_TYPE and t.object == p("Service")}
    assert services <= typed, "the subject of sd:endpoint is not typed sd:Service"
    languages = {t.object for t in triples if t.predicate == p("supportedLanguage")}
    allowed = {p("SPARQL10Query"), p("SPARQL11Query"), p("SPARQL11Update")}
    assert p("SPARQL11Query") in languages and languages <= allowed, languages
    for prop in ("endpoint", "resultFormat", "inputFormat", "feature"):
        for t in triples:
            if t.predicate == p(prop):
                assert isinstance(t.object, NamedNode), f"sd:{prop} {t.object} is not an IRI"
