"""Shared test setup: makes the tests/ helpers importable."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
