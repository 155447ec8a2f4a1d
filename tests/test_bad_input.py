"""Bad input through the real CLI entry: exit 2, one clear line on stderr, no traceback,
and nothing half-written (no run directory is left behind by a refused run).

The named cases cover each kind of bad input the issue lists; property tests then
throw random bytes, truncated YAML, wrong-typed values and broken data lines at
`gepa validate` and `gepa run`.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from fault_server import write_ideas_experiment
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from gepa_cli.cli.app import app
from gepa_cli.engine.state import EngineState

DEAD_URL = "http://127.0.0.1:9/v1"  # never reached: every case fails before any request
RUNNER = CliRunner()


def gepa_in_process(*args: str) -> Any:
    return RUNNER.invoke(app, list(args), env={"GEPA_DEBUG": "", "FAULT_KEY": "sk-x"})


def assert_refused(result: Any, fragment: str = "") -> str:
    """Exit 2 with one `error:` line that mentions `fragment`, and no traceback."""
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, (result.exit_code, result.stderr, result.exception)
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    assert fragment in lines[0], lines[0]
    return lines[0]


def assert_nothing_written(root: Path) -> None:
    runs = root / "runs"
    assert not runs.exists() or not any(runs.iterdir()), list(runs.iterdir())


# --- the named cases ---------------------------------------------------------------------


def _edit_config(root: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    path = root / "exp.yaml"
    config = yaml.safe_load(path.read_text())
    edit(config)
    path.write_text(yaml.safe_dump(config))


def _rows(root: Path, split: str) -> list[dict[str, Any]]:
    return [
        json.loads(line) for line in (root / "data" / f"{split}.jsonl").read_text().splitlines()
    ]


def _write_rows(root: Path, split: str, rows: list[dict[str, Any]]) -> None:
    text = "".join(json.dumps(r) + "\n" for r in rows)
    (root / "data" / f"{split}.jsonl").write_text(text)


def _set(path: str, value: Any) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        def change(config: dict[str, Any]) -> None:
            node = config
            *parents, leaf = path.split(".")
            for key in parents:
                node = node[key]
            node[leaf] = value

        _edit_config(root, change)

    return edit


def _data_line(split: str, number: int, text: bytes) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        path = root / "data" / f"{split}.jsonl"
        lines = path.read_bytes().split(b"\n")
        lines[min(number, len(lines)) - 1] = text
        path.write_bytes(b"\n".join(lines))

    return edit


def _drop_field(split: str, field: str, null: bool = False) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        rows = _rows(root, split)
        if null:
            rows[1][field] = None
        else:
            del rows[1][field]
        _write_rows(root, split, rows)

    return edit


def _duplicate_id(root: Path) -> None:
    rows = _rows(root, "val")
    rows[3]["id"] = rows[0]["id"]
    _write_rows(root, "val", rows)


def _file(relative: str, content: bytes) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(content)

    return edit


def _python_task(source: str, cls: str = "Task") -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        (root / "my_task.py").write_text(source)
        _set("task.type", f"python:my_task.py:{cls}")(root)
        _set("task.options", {})(root)

    return edit


def _both(*edits: Callable[[Path], None]) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        for one in edits:
            one(root)

    return edit


def _under_a_file(root: Path) -> None:
    (root / "plain").write_text("x")
    _set("task.data.train", str(root / "plain" / "train.jsonl"))(root)


def _runs_dir_under_a_file(root: Path) -> None:
    (root / "blocker").write_text("x")
    _set("output.runs_dir", str(root / "blocker" / "runs"))(root)


GOOD_TASK = (
    "class Task:\n    modules = ('label',)\n    required_fields = ('input',)\n"
    "    def run(self, example, prompts, lm): ...\n    def score(self, example, output): ...\n"
)

CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "malformed JSONL": (
        _data_line("train", 3, b'{"id": "x", "input": '),
        "train.jsonl:3: not valid JSON",
    ),
    "JSONL line not an object": (
        _data_line("val", 2, b"[1, 2]"),
        "val.jsonl:2: expected a JSON object",
    ),
    "missing field": (_drop_field("val", "answer"), "val.jsonl:2: missing field 'answer'"),
    "null field": (_drop_field("train", "input", null=True), "field 'input' is null"),
    "mapped field missing": (
        _set("task.fields", {"input": "question"}),
        "missing field 'question'",
    ),
    "duplicate ids": (_duplicate_id, "duplicate id 'val10' (first on line 1)"),
    "empty split": (_file("data/val.jsonl", b"\n\n"), "split 'val' has no examples"),
    "empty after offset": (
        _set("task.data.val", {"path": "data/val.jsonl", "offset": 50}),
        "empty after offset=50",
    ),
    "non-UTF-8 data": (
        _data_line("train", 2, b'{"id": "t", "input": "caf\xe9"}'),
        "train.jsonl:2: not valid UTF-8",
    ),
    "non-UTF-8 config": (_file("exp.yaml", b"name: caf\xe9\n"), "not valid UTF-8"),
    "missing data file": (_set("task.data.test", "data/nope.jsonl"), "nope.jsonl: no such file"),
    "data path is a directory": (_set("task.data.train", "data"), "is a directory"),
    "unreadable data path": (_under_a_file, "cannot read"),
    "missing prompt file": (
        _set("task.prompts", {"label": {"file": "prompts/none.txt"}}),
        "file not found",
    ),
    "non-UTF-8 prompt file": (
        _both(_file("p.txt", b"\xff\xfe"), _set("task.prompts", {"label": {"file": "p.txt"}})),
        "is not valid UTF-8",
    ),
    "unknown task type": (_set("task.type", "clasify"), "did you mean 'classify'"),
    "python task file missing": (_set("task.type", "python:nowhere.py:Task"), "no such file"),
    "python task syntax error": (_python_task("def broken(:\n"), "could not import"),
    "python task import error": (_python_task("import no_such_module_xyz\n"), "could not import"),
    "python task exits on import": (_python_task("import sys\nsys.exit(3)\n"), "could not import"),
    "python task class missing": (_python_task(GOOD_TASK, "Tusk"), "has no class 'Tusk'"),
    "python task constructor fails": (
        _python_task("class Task:\n    def __init__(self):\n        raise RuntimeError('nope')\n"),
        "failed to start",
    ),
    "python object is no task": (_python_task("class Task:\n    pass\n"), "is not a task"),
    "unknown key": (_set("search.minibach_size", 2), "did you mean minibatch_size"),
    "wrong type": (_set("budget.max_metric_calls", "lots"), "expected an integer"),
    "truncated YAML": (
        _file("exp.yaml", b"name: x\ntask: {type: classify, data: [\n"),
        "malformed YAML",
    ),
    "empty config": (_file("exp.yaml", b""), "the file is empty"),
    "config is a list": (_file("exp.yaml", b"- a\n- b\n"), "expected a mapping"),
    "API key in config": (_set("models.task.api_key", "sk-123"), "API keys are never read"),
    "budget below seed scoring": (_set("budget.max_metric_calls", 3), "cannot even score the seed"),
    "unset API key variable": (
        _both(
            _set("models.task.base_url", None), _set("models.task.api_key_env", "NO_SUCH_KEY_VAR")
        ),
        "NO_SUCH_KEY_VAR is not set",
    ),
    "missing reflection prompt": (_set("search.reflection_prompt", "meta.txt"), "file not found"),
    "non-UTF-8 reflection prompt": (
        _both(_file("meta.txt", b"\xc3\x28"), _set("search.reflection_prompt", "meta.txt")),
        "is not valid UTF-8",
    ),
    "unknown embedded model": (
        _both(
            _set("models.task", {"model": "embedded/nope-7b"}),
            _set("models.reflection", {"model": "embedded/nope-7b"}),
        ),
        "unknown embedded model",
    ),
    "two prompts for a one-module task": (
        _set("task.prompts", {"a": "x", "b": "y"}),
        "exactly one module",
    ),
    "task option missing": (_set("task.options", {}), "labels"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_refused_with_one_line_and_nothing_written(case, tmp_path):
    edit, fragment = CASES[case]
    config = write_ideas_experiment(tmp_path, DEAD_URL)
    edit(tmp_path)
    assert_refused(gepa_in_process("run", str(config), "--display", "none"), fragment)
    assert_nothing_written(tmp_path)
    assert_refused(gepa_in_process("validate", str(config)), fragment)
    assert_refused(gepa_in_process("run", str(config), "--dry-run"), fragment)


def test_an_unwritable_runs_dir_is_refused_and_validate_does_not_write(tmp_path):
    config = write_ideas_experiment(tmp_path, DEAD_URL)
    _runs_dir_under_a_file(tmp_path)
    assert_refused(gepa_in_process("run", str(config)), "cannot create directory")
    assert gepa_in_process("validate", str(config)).exit_code == 0


def test_a_missing_config_and_a_bad_override_are_refused(tmp_path):
    assert_refused(gepa_in_process("run", str(tmp_path / "none.yaml")), "file not found")
    config = write_ideas_experiment(tmp_path, DEAD_URL)
    result = gepa_in_process("run", str(config), "--set", "search.minibatch_size=0")
    assert_refused(result, "--set: [search.minibatch_size] must be >= 1")
    assert_nothing_written(tmp_path)


NO_ITERATION = "no iteration fits after the seed scoring, so the run would only score the seed"
FEW_PROPOSALS = "the budget affords fewer than 2 accepted proposals, too few to learn much"


@pytest.mark.parametrize(
    "budget, warning",
    [
        (6, f"{NO_ITERATION}; raise max_metric_calls to at least 16"),
        (20, f"{FEW_PROPOSALS}; raise max_metric_calls to at least 26"),
        (80, None),
    ],
)
def test_validate_warns_when_the_budget_is_too_small_to_learn(budget, warning, tmp_path):
    config = write_ideas_experiment(tmp_path, DEAD_URL, budget__max_metric_calls=budget)
    result = gepa_in_process("validate", str(config))
    assert result.exit_code == 0, result.stderr
    warnings = [line for line in result.stdout.splitlines() if line.startswith("# warning:")]
    assert warnings == ([f"# warning: {warning}"] if warning else [])


def _fake_run_dir(root: Path, extra: dict[str, Any]) -> Path:
    config = write_ideas_experiment(root, DEAD_URL)
    run_dir = root / "fake-run"
    run_dir.mkdir()
    (run_dir / "config.yaml").write_text(config.read_text().replace("data/", f"{root}/data/"))
    payload = {"schema_version": 1, "engine": EngineState().to_json(), **extra}
    (run_dir / "checkpoint.json").write_text(json.dumps(payload))
    return run_dir


@pytest.mark.parametrize(
    "make, fragment",
    [
        (lambda root: root / "missing", "no such run directory"),
        (lambda root: root, "not a run directory"),
        (lambda root: _fake_run_dir(root, {"usage": "lots"}), "corrupt 'usage' field"),
        (
            lambda root: _fake_run_dir(root, {"cache_samples": {"task": {"k": "x"}}}),
            "corrupt 'cache_samples'",
        ),
        (lambda root: _fake_run_dir(root, {"events_bytes": -1}), "corrupt 'events_bytes'"),
    ],
    ids=["missing", "not-a-run", "bad-usage", "bad-cache-samples", "bad-events-bytes"],
)
def test_resume_of_a_bad_run_directory_is_refused(make, fragment, tmp_path):
    run_dir = make(tmp_path)
    before = sorted(p.name for p in run_dir.iterdir()) if run_dir.is_dir() else None
    assert_refused(gepa_in_process("resume", str(run_dir), "--display", "none"), fragment)
    after = sorted(p.name for p in run_dir.iterdir()) if run_dir.is_dir() else None
    assert after == before or set(after or []) - set(before or []) == {".lock"}


def test_a_broken_config_yaml_in_a_run_directory_is_refused(tmp_path):
    run_dir = _fake_run_dir(tmp_path, {})
    (run_dir / "config.yaml").write_text("name: [unclosed\n")
    assert_refused(gepa_in_process("resume", str(run_dir)), "config.yaml")


# --- property tests ----------------------------------------------------------------------

FUZZ = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


@contextmanager
def _fresh_experiment() -> Iterator[tuple[Path, Path]]:
    with tempfile.TemporaryDirectory(prefix="gepa-fuzz-") as name:
        root = Path(name)
        yield root, write_ideas_experiment(root, DEAD_URL)


def _check_any_outcome(root: Path, config: Path, *args: str) -> None:
    """validate accepts (0) or refuses cleanly (2); a refused `run` writes nothing."""
    checked = gepa_in_process("validate", str(config), *args)
    if checked.exit_code == 0:
        return
    assert_refused(checked)
    assert_refused(gepa_in_process("run", str(config), "--display", "none", *args))
    assert_nothing_written(root)


@FUZZ
@given(st.binary(max_size=400))
def test_random_bytes_as_config_are_refused(data):
    with _fresh_experiment() as (root, config):
        config.write_bytes(data)
        assert_refused(gepa_in_process("validate", str(config)))
        assert_refused(gepa_in_process("run", str(config), "--display", "none"))
        assert_nothing_written(root)


@FUZZ
@given(st.data())
def test_truncated_config_never_crashes(data):
    with _fresh_experiment() as (root, config):
        text = config.read_bytes()
        config.write_bytes(text[: data.draw(st.integers(0, len(text) - 1))])
        _check_any_outcome(root, config)


SCALARS = (
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.floats() | st.text(max_size=20)
)
YAML_VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(node: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    return found


@FUZZ
@given(st.data(), YAML_VALUES)
def test_a_wrong_typed_value_anywhere_never_crashes(data, value):
    with _fresh_experiment() as (root, config):
        raw = yaml.safe_load(config.read_text())
        path = data.draw(st.sampled_from(_paths(raw)))
        node = raw
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        config.write_text(yaml.safe_dump(raw))
        _check_any_outcome(root, config)


@FUZZ
@given(st.sampled_from(["train", "val", "test"]), st.integers(1, 6), st.binary(max_size=80))
def test_a_broken_data_line_never_crashes(split, line, junk):
    with _fresh_experiment() as (root, config):
        _data_line(split, line, junk.replace(b"\n", b" "))(root)
        _check_any_outcome(root, config)


def _config_keys() -> list[str]:
    with _fresh_experiment() as (_, config):
        return [".".join(path) for path in _paths(yaml.safe_load(config.read_text()))]


@FUZZ
@given(st.sampled_from(_config_keys()), st.text(max_size=30))
def test_a_random_override_never_crashes(key, text):
    with _fresh_experiment() as (root, config):
        _check_any_outcome(root, config, "--set", f"{key}={text}")
