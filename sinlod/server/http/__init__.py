"""HTTP plumbing every route shares: dependencies, content negotiation, the error → status table,
caching validators, URL ↔ IRI mapping, request limits, security headers and the HTML templates."""
