"""The sinlod web server: SPARQL, Graph Store, dereferenceable IRIs and pages over the store.

``create_app(settings)`` builds the FastAPI app; ``sinlod serve`` runs it under uvicorn.
"""

from __future__ import annotations

from sinlod.server.app import create_app

__all__ = ["create_app"]
