"""Shared test setup: makes the tests/ helpers importable."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


def pytest_configure(config):  # type: ignore[no-untyped-def]
    """Markers of the optional extras' tests (selected with -m ray / -m mlflow; they run
    by default and skip with a one-line reason when the extra is not installed)."""
    config.addinivalue_line("markers", "ray: needs the optional extra gepa-cli[ray]")
    config.addinivalue_line("markers", "mlflow: needs the optional extra gepa-cli[mlflow]")
