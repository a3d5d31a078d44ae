"""W3C SPARQL 1.1 conformance: manifest reader, comparison, targets and the pytest cases."""
