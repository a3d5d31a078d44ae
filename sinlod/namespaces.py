"""Vocabulary namespaces, one place for every IRI prefix sinlod reads or writes."""

from __future__ import annotations

DEFAULT_BASE = "https://w3id.org/sinlod/"

#: Prefixes understood in mappings (compact IRIs such as ``org:memberOf``) and written in Turtle.
#: The RDFa 1.1 initial context that CSVW uses is a subset; sinlod adds the EU Core Vocabularies.
PREFIXES: dict[str, str] = {
    "sinlod": DEFAULT_BASE + "def/",
    "roles": DEFAULT_BASE + "def/roles/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dct": "http://purl.org/dc/terms/",
    "dcterms": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "org": "http://www.w3.org/ns/org#",
    "schema": "https://schema.org/",
    "prov": "http://www.w3.org/ns/prov#",
    "dcat": "http://www.w3.org/ns/dcat#",
    "dcatap": "http://data.europa.eu/r5r/",
    "void": "http://rdfs.org/ns/void#",
    "sd": "http://www.w3.org/ns/sparql-service-description#",
    "m8g": "http://data.europa.eu/m8g/",
    "locn": "http://www.w3.org/ns/locn#",
    "person": "http://www.w3.org/ns/person#",
    "adms": "http://www.w3.org/ns/adms#",
    "time": "http://www.w3.org/2006/time#",
    "frapo": "http://purl.org/cerif/frapo/",
    "eurio": "http://data.europa.eu/s66#",
    "sh": "http://www.w3.org/ns/shacl#",
    "csvw": "http://www.w3.org/ns/csvw#",
    "vann": "http://purl.org/vocab/vann/",
    "wd": "http://www.wikidata.org/entity/",
    "nuts": "http://data.europa.eu/nuts/code/",
    "country": "http://publications.europa.eu/resource/authority/country/",
    "corporate-body": "http://publications.europa.eu/resource/authority/corporate-body/",
}


def expand(name: str, prefixes: dict[str, str] | None = None) -> str:
    """Expand a compact IRI (``skos:prefLabel``); absolute IRIs and unknown prefixes stay as is.

    >>> expand("skos:prefLabel")
    'http://www.w3.org/2004/02/skos/core#prefLabel'
    >>> expand("https://example.org/x")
    'https://example.org/x'
    """
    table = PREFIXES if prefixes is None else prefixes
    prefix, sep, local = name.partition(":")
    if sep and not local.startswith("//") and prefix in table:
        return table[prefix] + local
    return name
