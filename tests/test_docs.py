"""The generated docs stay in step with the config's declaration."""

from __future__ import annotations

from pathlib import Path

from gepa_cli.config import key_help, reference_markdown

ROOT = Path(__file__).resolve().parent.parent


def test_the_config_reference_is_the_declaration_rendered() -> None:
    text = (ROOT / "docs" / "CONFIG.md").read_text(encoding="utf-8")
    assert reference_markdown() in text, "regenerate docs/CONFIG.md (see its header)"


def test_every_declared_key_is_in_the_reference() -> None:
    text = (ROOT / "docs" / "CONFIG.md").read_text(encoding="utf-8")
    missing = [path for path in key_help() if f"| `{path}` |" not in text]
    assert not missing
    assert "| `search.reflection_retries` |" in text
