"""Cost of the checks every query and update pays before it runs (issue 13, items 1 and 2).

    .venv/bin/python bench/query_policy.py

Prints microseconds per call of ``check_nesting`` + ``check_remote`` for: a query that mentions
no SERVICE/LOAD (the common case: two substring tests), one with "service" in an IRI (rdflib
parses it), one with a real SERVICE, and nesting scans of texts with more brackets than the limit.
"""

from __future__ import annotations

import timeit

from sinlod.server.protocol.query_policy import check_nesting, check_remote

BASE = "http://127.0.0.1:8000/sparql"
CASES = {
    "plain lookup": (
        "SELECT ?p ?o WHERE { <https://w3id.org/sinlod/id/project/sic> ?p ?o } LIMIT 100"
    ),
    "'service' in an IRI": (
        "PREFIX sd: <http://www.w3.org/ns/sparql-service-description#>"
        " SELECT * WHERE { ?s a sd:Service ; ?p ?o } LIMIT 10"
    ),
    "allowed SERVICE": "SELECT * WHERE { SERVICE <http://ok.example/sparql> { ?s ?p ?o } } LIMIT 1",
    "99 nested groups": "SELECT * WHERE " + "{" * 99 + " ?s ?p ?o " + "}" * 99,
    "2,000 VALUES rows (brackets)": (
        "SELECT * WHERE { VALUES (?a ?b) { " + "(1 2) " * 2000 + "} ?a ?p ?b }"
    ),
}


def main() -> None:
    for name, text in CASES.items():

        def run(text: str = text) -> None:
            check_nesting(text, 100)
            check_remote(text, ["ok.example"], BASE, update=False)

        n, total = timeit.Timer(run).autorange()
        print(f"{name:32s} {len(text):7d} chars  {total / n * 1e6:10.1f} µs")


if __name__ == "__main__":
    main()
