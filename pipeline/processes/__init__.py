"""Entry points of worker processes, one module per kind, each with its `main`."""
