"""The project's build tooling: run from a checkout (``python -m tools.docs``), never installed."""
