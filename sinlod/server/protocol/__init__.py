"""The standard protocols: SPARQL 1.1 Query and Update at ``/sparql`` (with the public endpoint's
policy and limits) and the Graph Store Protocol at ``/graph-store``; writes go through the library's
one gated write (``sinlod.changes``), this package only maps them to HTTP."""
