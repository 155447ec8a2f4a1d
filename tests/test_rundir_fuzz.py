"""Every file a command reads from a run directory, damaged at random (random bytes,
truncation, a wrong-typed value anywhere in its JSON or YAML): each command either
works (exit 0) or refuses with one `error:` line and exit 2, never a traceback."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from fault_server import FaultServer
from hardening_harness import assert_refused, cli, finish_a_run, private_copy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FUZZ = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)
READERS: dict[str, tuple[tuple[str, ...], ...]] = {
    "checkpoint.json": (("resume", "--display", "none"), ("report",)),
    "config.yaml": (("eval", "--split", "val"), ("report",), ("resume", "--display", "none")),
    "candidates.jsonl": (("show-frontier",), ("export-prompt",), ("eval",), ("report",)),
    "frontier.json": (("show-frontier",), ("show-frontier", "--json"), ("export-prompt",)),
    "summary.json": (("report",),),
    "score_matrix.csv": (("report",),),
    "events.jsonl": (("report",), ("resume", "--display", "none")),
    "cache.sqlite": (("eval",), ("resume", "--display", "none")),
}
SCALARS = st.none() | st.booleans() | st.integers(-(10**9), 10**9) | st.floats() | st.text()
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=5,
)


@pytest.fixture(scope="module", autouse=True)
def _cwd_in_a_temp_dir() -> Iterator[None]:
    """A fuzzed config may turn on tracking that writes beside the working directory
    (MLflow's default ./mlruns); it must land in a temp dir, never in the checkout."""
    here = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="gepa-fuzz-cwd-") as name:
        os.chdir(name)
        try:
            yield
        finally:
            os.chdir(here)


@pytest.fixture(scope="module")
def finished() -> Iterator[tuple[Path, Path]]:
    root = Path(tempfile.mkdtemp(prefix="gepa-fuzz-run-"))
    with FaultServer() as server:
        yield root, finish_a_run(root, server)
    shutil.rmtree(root)


@contextmanager
def damaged_copy(finished: tuple[Path, Path]) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="gepa-fuzz-") as name:
        yield private_copy(*finished, Path(name))


def check_commands(run_dir: Path, name: str) -> None:
    """Each command reading `name` works or refuses cleanly (its output goes nowhere)."""
    out = run_dir.parent / "out.html"
    for command in READERS[name]:
        extra = ("-o", str(out)) if command == ("report",) else ()
        result = cli(command[0], str(run_dir), *command[1:], *extra)
        if result.exit_code != 0:
            assert_refused(result)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


def _replaced(node: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    node[path[0]] = _replaced(node[path[0]], path[1:], value)
    return node


def _retyped(text: str, name: str, draw: Callable[[Any], Any]) -> str:
    """`text` (JSON, JSONL or YAML) with one value anywhere replaced by a random one."""
    if name.endswith(".jsonl"):
        lines = text.splitlines()
        index = draw(st.integers(0, len(lines) - 1))
        lines[index] = _retyped(lines[index], ".json", draw)
        return "\n".join(lines) + "\n"
    load: Callable[[str], Any] = yaml.safe_load if name.endswith(".yaml") else json.loads
    raw = load(text)
    path = draw(st.sampled_from(_paths(raw)))
    changed = _replaced(raw, path, draw(VALUES))
    return yaml.safe_dump(changed) if name.endswith(".yaml") else json.dumps(changed)


@FUZZ
@given(st.sampled_from(sorted(READERS)), st.binary(max_size=300))
def test_random_bytes_in_any_run_file(finished, name, junk):
    with damaged_copy(finished) as run_dir:
        (run_dir / name).write_bytes(junk)
        check_commands(run_dir, name)


@FUZZ
@given(st.sampled_from(sorted(READERS)), st.floats(0, 1, exclude_max=True))
def test_any_run_file_truncated(finished, name, keep):
    with damaged_copy(finished) as run_dir:
        data = (run_dir / name).read_bytes()
        (run_dir / name).write_bytes(data[: int(len(data) * keep)])
        check_commands(run_dir, name)


TYPED = ["checkpoint.json", "config.yaml", "candidates.jsonl", "frontier.json", "summary.json"]


@FUZZ
@given(st.sampled_from(TYPED), st.data())
def test_a_wrong_typed_value_anywhere_in_a_run_file(finished, name, data):
    with damaged_copy(finished) as run_dir:
        path = run_dir / name
        path.write_text(_retyped(path.read_text(), name, data.draw))
        check_commands(run_dir, name)
