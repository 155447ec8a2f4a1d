"""Tests for gepa_cli.config: defaults, overrides, env expansion, paths, errors, round trip."""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gepa_cli.config import (
    BudgetSpec,
    ConfigError,
    ExperimentConfig,
    RuntimeSpec,
    SearchSpec,
    apply_overrides,
    config_to_dict,
    load_config,
    load_config_dict,
)

MINIMAL = """\
name: demo
task:
  type: math
  data:
    train: data/train.jsonl
    val: data/val.jsonl
  prompts:
    solve: Solve it.
models:
  task: {model: openai/gpt-4.1-mini}
"""

DESIGN_EXAMPLE = """\
name: gsm8k-demo                 # used in the run directory's name
seed: 0
task:
  type: math                     # built-in task adapter
  data:
    train: path/train.jsonl      # feedback examples
    val: path/val.jsonl          # the Pareto set
    test: path/test.jsonl        # optional held-out split
  fields: {input: input, answer: answer}
  prompts:
    solve: "Solve the math word problem. End with 'Answer: <number>'."
  options: {}
models:
  task:       {model: embedded/qwen2.5-coder-1.5b, temperature: 0, max_tokens: 512}
  reflection: {model: openai/gpt-4.1-mini, base_url: null, api_key_env: OPENAI_API_KEY, \
temperature: 1.0}
budget:
  max_metric_calls: 300
  max_cost_usd: null
  max_time: null                 # e.g. "30m"
search:
  candidate_selection: pareto
  module_selection: round_robin
  minibatch_size: 3
  skip_perfect: true
  perfect_score: 1.0
  merge: {enabled: false, max_invocations: 5}
  reflection_prompt: null
runtime:
  max_concurrency: 8
  cache: true
  request_timeout: 120
  max_retries: 6
output:
  runs_dir: runs
"""


def minimal_raw() -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load(MINIMAL)
    return raw


def write(directory: Path, text: str, name: str = "config.yaml") -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def load_raw(raw: dict[str, Any], base_dir: Path, overrides: tuple[str, ...] = ()) -> Any:
    return load_config_dict(raw, base_dir, "cfg.yaml", overrides)


def error_of(raw: dict[str, Any], tmp_path: Path, *overrides: str) -> str:
    with pytest.raises(ConfigError) as info:
        load_raw(raw, tmp_path, overrides)
    message = str(info.value)
    assert "\n" not in message
    return message


# --- defaults and the full example ---------------------------------------------------------


def test_minimal_config_takes_every_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = load_config(write(tmp_path / "configs", MINIMAL))
    assert cfg.seed == 0
    assert cfg.task.fields == {} and cfg.task.options == {}
    assert cfg.task.data.test is None
    assert cfg.budget == BudgetSpec(max_metric_calls=300, max_cost_usd=None, max_time_s=None)
    assert cfg.search == SearchSpec()
    assert cfg.search.candidate_selection == "pareto" and cfg.search.minibatch_size == 3
    assert cfg.runtime == RuntimeSpec(max_concurrency=8, cache=True, request_timeout=120.0)
    assert cfg.output.runs_dir == tmp_path.resolve() / "runs"
    task_model = cfg.models.task
    assert (task_model.temperature, task_model.max_tokens, task_model.extra) == (0.0, None, {})
    assert cfg.models.reflection == dataclasses.replace(task_model, temperature=1.0)


def test_design_example_loads(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, DESIGN_EXAMPLE))
    assert cfg.name == "gsm8k-demo"
    assert cfg.task.data.test is not None
    assert cfg.task.data.test.path == tmp_path.resolve() / "path" / "test.jsonl"
    assert cfg.task.fields == {"input": "input", "answer": "answer"}
    assert cfg.task.prompts["solve"].endswith("'Answer: <number>'.")
    assert cfg.models.task.provider == "embedded"
    assert cfg.models.task.model_name == "qwen2.5-coder-1.5b"
    assert cfg.models.task.max_tokens == 512
    assert cfg.models.reflection.api_key_env == "OPENAI_API_KEY"
    assert cfg.models.reflection.temperature == 1.0
    assert cfg.runtime.request_timeout == 120.0
    assert isinstance(cfg.runtime.request_timeout, float)


def test_explicit_reflection_model_is_not_overwritten(tmp_path: Path) -> None:
    raw = minimal_raw()
    raw["models"]["reflection"] = {"model": "openai/big", "temperature": 0.3}
    cfg = load_raw(raw, tmp_path)
    assert cfg.models.reflection.model == "openai/big"
    assert cfg.models.reflection.temperature == 0.3


# --- overrides --------------------------------------------------------------------------------


def test_overrides_parse_yaml_scalars_and_win_over_yaml(tmp_path: Path) -> None:
    raw = minimal_raw()
    raw["search"] = {"minibatch_size": 5}
    cfg = load_raw(
        raw,
        tmp_path,
        (
            "search.merge.enabled=true",
            "budget.max_metric_calls=50",
            "search.minibatch_size=7",
            "name=renamed",
            "task.prompts.solve=Answer: with a colon",
            "models.task.extra={top_k: 5}",
        ),
    )
    assert cfg.search.merge.enabled is True
    assert cfg.budget.max_metric_calls == 50
    assert cfg.search.minibatch_size == 7
    assert cfg.name == "renamed"
    assert cfg.task.prompts["solve"] == "Answer: with a colon"
    assert cfg.models.task.extra == {"top_k": 5}


def test_override_inside_a_split_written_as_a_path(tmp_path: Path) -> None:
    cfg = load_raw(minimal_raw(), tmp_path, ("task.data.val.limit=50",))
    assert cfg.task.data.val.path == tmp_path.resolve() / "data" / "val.jsonl"
    assert cfg.task.data.val.limit == 50


def test_later_override_wins_and_null_clears(tmp_path: Path) -> None:
    overrides = ("runtime.max_retries=1", "runtime.max_retries=2", "budget.max_time=2h")
    cfg = load_raw(minimal_raw(), tmp_path, (*overrides, "budget.max_metric_calls=null"))
    assert cfg.runtime.max_retries == 2
    assert cfg.budget.max_metric_calls is None


def test_apply_overrides_creates_intermediates_without_mutating_input() -> None:
    raw = {"search": {"minibatch_size": 3}}
    result = apply_overrides(raw, ["search.merge.enabled=true", "a.b.c='quoted'"])
    assert result == {
        "search": {"minibatch_size": 3, "merge": {"enabled": True}},
        "a": {"b": {"c": "quoted"}},
    }
    assert raw == {"search": {"minibatch_size": 3}}


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ("search.minibatch_size", "'search.minibatch_size': expected key.path=value"),
        ("search..x=1", "has an empty part"),
        ("name.first=x", "name is 'demo', not a mapping"),
    ],
)
def test_malformed_override_names_it(tmp_path: Path, override: str, fragment: str) -> None:
    message = error_of(minimal_raw(), tmp_path, override)
    assert message.startswith("--set")
    assert fragment in message


def test_error_in_an_overridden_key_is_attributed_to_set(tmp_path: Path) -> None:
    message = error_of(minimal_raw(), tmp_path, "search.minibach_size=4")
    assert message == "--set: [search.minibach_size] unknown key; did you mean minibatch_size?"


# --- environment variables -------------------------------------------------------------------


def test_env_expansion_with_and_without_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GEPA_T_DATA", "/data/sets")
    monkeypatch.setenv("GEPA_T_EMPTY", "")
    monkeypatch.delenv("GEPA_T_UNSET", raising=False)
    raw = minimal_raw()
    raw["task"]["data"]["train"] = "${GEPA_T_DATA}/train.jsonl"
    raw["task"]["data"]["val"] = "${GEPA_T_UNSET:-/fallback}/val.jsonl"
    raw["name"] = "run-${GEPA_T_EMPTY:-anon}"
    raw["task"]["prompts"]["solve"] = "Use $${name} literally; cost is $5."
    raw["task"]["options"] = {"labels": ["${GEPA_T_DATA}"]}
    cfg = load_raw(raw, tmp_path)
    assert cfg.task.data.train.path == Path("/data/sets/train.jsonl")
    assert cfg.task.data.val.path == Path("/fallback/val.jsonl")
    assert cfg.name == "run-anon"
    assert cfg.task.prompts["solve"] == "Use ${name} literally; cost is $5."
    assert cfg.task.options == {"labels": ["/data/sets"]}


def test_unset_env_variable_names_key_and_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GEPA_T_UNSET", raising=False)
    raw = minimal_raw()
    raw["task"]["data"]["train"] = "${GEPA_T_UNSET}/train.jsonl"
    message = error_of(raw, tmp_path)
    assert message.startswith("cfg.yaml: [task.data.train] environment variable GEPA_T_UNSET")
    assert "is not set" in message


def test_malformed_env_reference_is_an_error(tmp_path: Path) -> None:
    raw = minimal_raw()
    raw["models"]["task"]["base_url"] = "http://${HOST:8000/v1"
    assert "[models.task.base_url] malformed variable reference" in error_of(raw, tmp_path)


# --- paths and prompt files ------------------------------------------------------------------


def test_relative_paths_follow_the_config_file_and_runs_dir_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    write(tmp_path / "configs", "Reflect hard.", name="meta.txt")
    raw = minimal_raw()
    raw["task"]["data"]["val"] = {"path": "../shared/val.jsonl", "offset": 10, "limit": 50}
    raw["search"] = {"reflection_prompt": "meta.txt"}
    raw["output"] = {"runs_dir": "out/runs"}
    path = write(tmp_path / "configs", yaml.safe_dump(raw))
    cfg = load_config(path)
    configs = (tmp_path / "configs").resolve()
    assert cfg.task.data.train.path == configs / "data" / "train.jsonl"
    assert cfg.task.data.val.path == tmp_path.resolve() / "shared" / "val.jsonl"
    assert (cfg.task.data.val.offset, cfg.task.data.val.limit) == (10, 50)
    assert cfg.search.reflection_prompt == configs / "meta.txt"
    assert cfg.output.runs_dir == work.resolve() / "out" / "runs"


def test_python_task_file_is_made_absolute(tmp_path: Path) -> None:
    raw = minimal_raw()
    raw["task"]["type"] = "python:tasks/my_task.py:MyTask"
    cfg = load_raw(raw, tmp_path / "configs")
    assert cfg.task.type == f"python:{(tmp_path / 'configs/tasks/my_task.py').resolve()}:MyTask"


def test_missing_reflection_prompt_is_an_error(tmp_path: Path) -> None:
    raw = minimal_raw()
    raw["search"] = {"reflection_prompt": "nowhere.txt"}
    assert "[search.reflection_prompt] file not found:" in error_of(raw, tmp_path)


def test_prompt_from_file_is_read_relative_to_the_config(tmp_path: Path) -> None:
    write(tmp_path / "configs" / "prompts", "Line one.\nLine two.\n\n", name="solve.txt")
    raw = minimal_raw()
    raw["task"]["prompts"] = {"solve": {"file": "prompts/solve.txt"}, "check": "Check it."}
    path = write(tmp_path / "configs", yaml.safe_dump(raw))
    cfg = load_config(path)
    assert cfg.task.prompts == {"solve": "Line one.\nLine two.", "check": "Check it."}


def test_missing_or_undecodable_prompt_file_names_the_key(tmp_path: Path) -> None:
    raw = minimal_raw()
    raw["task"]["prompts"] = {"solve": {"file": "absent.txt"}}
    assert "[task.prompts.solve.file] file not found:" in error_of(raw, tmp_path)
    (tmp_path / "latin1.txt").write_bytes(b"caf\xe9")
    raw["task"]["prompts"] = {"solve": {"file": "latin1.txt"}}
    assert "[task.prompts.solve.file]" in error_of(raw, tmp_path)
    assert "not valid UTF-8" in error_of(raw, tmp_path)


@pytest.mark.parametrize(
    ("prompts", "fragment"),
    [
        (None, "[task.prompts] required"),
        ({}, "[task.prompts] required"),
        ({"solve": {"path": "x"}}, "[task.prompts.solve.path] unknown key; allowed keys: file"),
        ({"solve": 3}, "[task.prompts.solve] expected an instruction or {file: path}, got 3"),
        ({"../evil": "x"}, "[task.prompts.'../evil'] module names use letters"),
    ],
)
def test_bad_prompts(tmp_path: Path, prompts: Any, fragment: str) -> None:
    raw = minimal_raw()
    raw["task"]["prompts"] = prompts
    assert fragment in error_of(raw, tmp_path)


# --- unknown keys, types and ranges ---------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "bad_key", "expected"),
    [
        ((), "nmae", "[nmae] unknown key; did you mean name?"),
        (
            ("search",),
            "minibach_size",
            "[search.minibach_size] unknown key; did you mean minibatch_size?",
        ),
        (
            ("search", "merge"),
            "enabeld",
            "[search.merge.enabeld] unknown key; did you mean enabled?",
        ),
        (
            ("models", "task"),
            "temprature",
            "[models.task.temprature] unknown key; did you mean temperature?",
        ),
        (("task", "data"), "tset", "[task.data.tset] unknown key; did you mean test?"),
        (("runtime",), "zzz", "[runtime.zzz] unknown key; allowed keys: max_concurrency, cache,"),
    ],
)
def test_unknown_keys_suggest_the_closest(
    tmp_path: Path, path: tuple[str, ...], bad_key: str, expected: str
) -> None:
    raw = minimal_raw()
    node = raw
    for part in path:
        node = node.setdefault(part, {})
    node[bad_key] = 1
    assert error_of(raw, tmp_path).startswith(f"cfg.yaml: {expected}")


def test_free_form_sections_accept_any_keys(tmp_path: Path) -> None:
    raw = minimal_raw()
    raw["task"]["options"] = {"labels": ["a", "b"], "anything": {"nested": True}}
    raw["task"]["fields"] = {"question": "input"}
    raw["models"]["task"]["extra"] = {"top_k": 20, "chat_template_kwargs": {"x": 1}}
    cfg = load_raw(raw, tmp_path)
    assert cfg.task.options["anything"] == {"nested": True}
    assert cfg.models.task.extra["top_k"] == 20


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("search.minibatch_size=three", "[search.minibatch_size] expected an integer, got 'three'"),
        ("search.minibatch_size=true", "[search.minibatch_size] expected an integer, got true"),
        ("search.minibatch_size=2.5", "[search.minibatch_size] expected an integer, got 2.5"),
        ("search.minibatch_size=0", "[search.minibatch_size] must be >= 1, got 0"),
        ("runtime.max_concurrency=0", "[runtime.max_concurrency] must be >= 1, got 0"),
        ("runtime.max_retries=-1", "[runtime.max_retries] must be >= 0, got -1"),
        ("runtime.cache=yes please", "[runtime.cache] expected true or false, got 'yes please'"),
        ("runtime.request_timeout=0", "[runtime.request_timeout] must be > 0"),
        ("budget.max_metric_calls=0", "[budget.max_metric_calls] must be >= 1, got 0"),
        ("budget.max_time=soon", "[budget.max_time] expected a duration"),
        ("models.task.temperature=-0.5", "[models.task.temperature] must be >= 0, got -0.5"),
        ("models.task.temperature=.nan", "[models.task.temperature] expected a finite number"),
        ("models.task.top_p=1.5", "[models.task.top_p] must be between 0 and 1, got 1.5"),
        ("search.epsilon=1.5", "[search.epsilon] must be between 0 and 1, got 1.5"),
        ("search.candidate_selection=paretto", "unknown value 'paretto'; did you mean pareto?"),
        ("search.module_selection=every", "expected one of round_robin, all"),
        ("search=3", "[search] expected a mapping, got 3"),
        ("models.task.model=gpt-4", "[models.task.model] expected provider/name"),
        ("models.task.model=anthropic/claude", "unknown provider 'anthropic'"),
        ("models.task.base_url=localhost:8000", "expected an http:// or https:// URL"),
        ("task.data.train=5", "[task.data.train] expected a path or {path, offset, limit}, got 5"),
        ("task.data.val.limit=0", "[task.data.val.limit] must be >= 1, got 0"),
        ("task.data.val.offset=x", "[task.data.val.offset] expected an integer, got 'x'"),
        ("task.data.val=null", "[task.data.val] required key is missing"),
        ("name=", "[name] expected a string, got null"),
        ("seed=-1", "[seed] must be >= 0, got -1"),
    ],
)
def test_type_and_range_errors_name_the_key(tmp_path: Path, override: str, expected: str) -> None:
    assert expected in error_of(minimal_raw(), tmp_path, override)


def test_ints_are_accepted_where_floats_are_expected(tmp_path: Path) -> None:
    cfg = load_raw(minimal_raw(), tmp_path, ("models.task.temperature=1", "search.epsilon=0"))
    assert cfg.models.task.temperature == 1.0 and isinstance(cfg.models.task.temperature, float)
    assert cfg.search.epsilon == 0.0


def test_missing_required_keys_are_named(tmp_path: Path) -> None:
    raw = minimal_raw()
    del raw["models"]
    assert "[models.task.model] required key is missing" in error_of(raw, tmp_path)
    raw = minimal_raw()
    del raw["task"]["data"]["val"]
    assert "[task.data.val] required key is missing" in error_of(raw, tmp_path)


def test_a_budget_is_required(tmp_path: Path) -> None:
    message = error_of(minimal_raw(), tmp_path, "budget.max_metric_calls=null")
    assert "[budget] set at least one of" in message


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("30m", 1800.0),
        ("2h", 7200.0),
        ("90s", 90.0),
        ("1h30m", 5400.0),
        (90, 90.0),
        ("1.5h", 5400.0),
    ],
)
def test_max_time_accepts_durations(tmp_path: Path, value: Any, seconds: float) -> None:
    raw = minimal_raw()
    raw["budget"] = {"max_time": value}
    assert load_raw(raw, tmp_path).budget.max_time_s == seconds


@pytest.mark.parametrize(
    ("where", "name"),
    [
        (("models", "task"), "api_key"),
        (("models", "reflection"), "apiKey"),
        (("models", "task", "extra"), "api_key"),
    ],
)
def test_api_keys_in_the_config_are_refused(
    tmp_path: Path, where: tuple[str, ...], name: str
) -> None:
    raw = minimal_raw()
    raw["models"]["reflection"] = {"model": "openai/x"}
    node = raw
    for part in where:
        node = node.setdefault(part, {})
    node[name] = "sk-secret-value"
    message = error_of(raw, tmp_path)
    assert f"[{'.'.join(where)}.{name}]" in message and "api_key_env" in message
    assert "sk-secret-value" not in message


def test_api_key_env_holding_a_key_is_refused_without_echoing_it(tmp_path: Path) -> None:
    message = error_of(minimal_raw(), tmp_path, "models.task.api_key_env=sk-abc-123")
    assert "[models.task.api_key_env] expected the name of an environment variable" in message
    assert "sk-abc-123" not in message


# --- the file itself -------------------------------------------------------------------------


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "name: demo\nseed: 1\ntask:\n  type: math\n  data: x: y\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path}:5: malformed YAML: mapping values are not allowed here"


def test_duplicate_key_is_malformed_yaml(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "search: {}\nsearch: {minibatch_size: 2}\n")
    with pytest.raises(
        ConfigError, match=r":12: malformed YAML: duplicate key 'search' \(first at line 11\)"
    ):
        load_config(path)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "the file is empty"),
        (b"# only a comment\n", "the file is empty"),
        (b"- a\n- b\n", "expected a mapping of config keys at the top level, got a list"),
        (b"name: caf\xe9\n", "not valid UTF-8 (byte 0xe9 at offset 9)"),
    ],
)
def test_unusable_files_are_named(tmp_path: Path, content: bytes, fragment: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path}: {fragment}"


def test_missing_file_and_directory_are_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="absent.yaml: file not found"):
        load_config(tmp_path / "absent.yaml")
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path)


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + MINIMAL.encode())
    assert load_config(path).name == "demo"


# --- round trip ------------------------------------------------------------------------------


def full_config(tmp_path: Path) -> ExperimentConfig:
    write(tmp_path / "cfg", "Meta ${not a var}.", name="meta.txt")
    write(tmp_path / "cfg", "From a file with $${dollars}.\n", name="p.txt")
    raw = minimal_raw()
    raw["seed"] = 7
    raw["task"]["data"] = {
        "train": {"path": "t.jsonl", "offset": 5, "limit": 20},
        "val": "v.jsonl",
        "test": {"path": "x.jsonl", "limit": 9},
    }
    raw["task"]["prompts"] = {"solve": "Say $${HOME} and ${X:-y}.", "check": {"file": "p.txt"}}
    raw["task"]["options"] = {"labels": ["a", "$${b}"], "deep": {"n": 1.5}}
    raw["models"]["reflection"] = {"model": "openai/r", "base_url": "http://127.0.0.1:9/v1",
                                   "api_key_env": "KEY", "top_p": 0.9, "seed": 3,
                                   "max_tokens": 100, "extra": {"k": [1, 2]}}  # fmt: skip
    raw["budget"] = {"max_metric_calls": None, "max_cost_usd": 2.5, "max_time": "1h30m"}
    raw["search"] = {"candidate_selection": "epsilon_greedy", "epsilon": 0.2,
                     "module_selection": "all", "merge": {"enabled": True},
                     "reflection_prompt": "meta.txt"}  # fmt: skip
    return load_raw(raw, tmp_path / "cfg")


def test_round_trip_through_config_to_dict(tmp_path: Path) -> None:
    cfg = full_config(tmp_path)
    assert cfg.task.prompts["solve"] == "Say ${HOME} and y."
    assert cfg.task.prompts["check"] == "From a file with $${dollars}."
    plain = config_to_dict(cfg)
    assert plain["budget"]["max_time"] == 5400.0
    assert plain["task"]["data"]["val"] == str((tmp_path / "cfg" / "v.jsonl").resolve())
    elsewhere = tmp_path / "elsewhere"
    assert load_config_dict(plain, elsewhere, "config.yaml") == cfg


def test_round_trip_through_a_yaml_file(tmp_path: Path) -> None:
    cfg = full_config(tmp_path)
    stored = write(tmp_path / "run", yaml.safe_dump(config_to_dict(cfg), sort_keys=False))
    assert load_config(stored) == cfg


def test_round_trip_applies_overrides_on_top(tmp_path: Path) -> None:
    cfg = full_config(tmp_path)
    again = load_config_dict(config_to_dict(cfg), tmp_path, "c", ["budget.max_metric_calls=9"])
    assert again == dataclasses.replace(
        cfg, budget=dataclasses.replace(cfg.budget, max_metric_calls=9)
    )


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text())
def test_any_prompt_text_round_trips_through_yaml(scratch: Path, text: str) -> None:
    base = load_raw(minimal_raw(), scratch)
    cfg = dataclasses.replace(base, task=dataclasses.replace(base.task, prompts={"solve": text}))
    # As the run directory stores it (allow_unicode=True would lose U+0085 in PyYAML).
    dumped = yaml.safe_dump(config_to_dict(cfg), sort_keys=False)
    assert load_config_dict(yaml.safe_load(dumped), scratch, "x") == cfg


# --- robustness: nothing but ConfigError comes out -------------------------------------------

YAMLISH = st.text(
    alphabet=st.sampled_from(list(":-{}[]\n #&*!|>'\"%@`,?$\\ \tabc019.~é\x00")), max_size=80
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["${X}", "${", "$${Y}", "/tmp", "openai/x", "~", "python:a.py:B", "\x00"])
)
KEYS = st.text(max_size=8) | st.integers() | st.none() | st.sampled_from(
    ["name", "task", "models", "search", "prompts", "data", "train", "api_key", "file"]
)  # fmt: skip
NESTED = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=12,
)


def _assert_only_config_error(load: Any) -> None:
    try:
        result = load()
    except ConfigError as err:
        assert "\n" not in str(err)
    else:
        assert isinstance(result, ExperimentConfig)


@settings(max_examples=200, deadline=None)
@given(content=st.binary(max_size=200) | YAMLISH.map(lambda s: s.encode("utf-8")))
def test_random_file_content_only_raises_config_error(scratch: Path, content: bytes) -> None:
    path = scratch / "random.yaml"
    path.write_bytes(content)
    _assert_only_config_error(lambda: load_config(path))


@settings(max_examples=200, deadline=None)
@given(raw=st.dictionaries(KEYS, NESTED, max_size=5))
def test_random_structures_only_raise_config_error(scratch: Path, raw: dict[Any, Any]) -> None:
    _assert_only_config_error(lambda: load_config_dict(raw, scratch, "r"))


@settings(max_examples=300, deadline=None)
@given(
    path=st.lists(st.sampled_from(["task", "data", "train", "prompts", "solve", "models", "task",
                                   "search", "merge", "budget", "max_time", "extra", "x"]),
                  min_size=1, max_size=4),
    value=NESTED,
    overrides=st.lists(st.text(max_size=20), max_size=2),
)  # fmt: skip
def test_mutated_valid_config_only_raises_config_error(
    scratch: Path, path: list[str], value: Any, overrides: list[str]
) -> None:
    raw = minimal_raw()
    node: Any = raw
    for part in path[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[path[-1]] = value
    _assert_only_config_error(lambda: load_config_dict(raw, scratch, "m", overrides))
