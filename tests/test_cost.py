"""Cost accounting: `models.<role>.price` in the config, dollars from token counts,
`cost_usd` in summary.json and the report, and the `budget.max_cost_usd` stop."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_harness import gepa, is_task_request, write_experiment
from openai_stub_server import StubServer

from gepa_cli.config import ConfigError, ModelSpec, ModelsSpec, config_to_dict, load_config_dict
from gepa_cli.config.schema import Price
from gepa_cli.engine.reflection import SYSTEM_PROMPT
from gepa_cli.lm.usage import UsageMeter
from gepa_cli.run.cost_budget import CostBudget

CONFIG = """\
name: demo
task:
  type: math
  data: {train: t.jsonl, val: v.jsonl}
  prompts: {solve: Solve it.}
models:
  task:
    model: openai/gpt-4.1-mini
    price: {input_per_mtok: 0.4, output_per_mtok: 1.6}
"""
PRICE = {"input_per_mtok": 1000, "output_per_mtok": 2000}  # $0.001 / $0.002 per token


def load(raw: dict[str, Any], tmp_path: Path, *overrides: str) -> Any:
    return load_config_dict(raw, tmp_path, "cfg.yaml", overrides)


def raw_config() -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load(CONFIG)
    return raw


def error_of(raw: dict[str, Any], tmp_path: Path, *overrides: str) -> str:
    with pytest.raises(ConfigError) as info:
        load(raw, tmp_path, *overrides)
    return str(info.value)


# --- the config ------------------------------------------------------------------------------


def test_price_is_read_and_the_default_reflection_model_inherits_it(tmp_path: Path) -> None:
    cfg = load(raw_config(), tmp_path)
    assert cfg.models.task.price == Price(0.4, 1.6)
    assert cfg.models.reflection.price == Price(0.4, 1.6)  # reflection = task at temp 1.0


def test_price_is_optional_and_null_means_not_tracked(tmp_path: Path) -> None:
    raw = raw_config()
    raw["models"]["task"]["price"] = None
    raw["models"]["reflection"] = {"model": "openai/r"}
    cfg = load(raw, tmp_path)
    assert cfg.models.task.price is None and cfg.models.reflection.price is None


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        (
            {"input_per_mtok": 1, "output_per_mtok": 2, "currency": "EUR"},
            "cfg.yaml: [models.task.price.currency] unknown key; allowed keys: "
            "input_per_mtok, output_per_mtok",
        ),
        (
            {"input_per_mtk": 1, "output_per_mtok": 2},
            "[models.task.price.input_per_mtk] unknown key; did you mean input_per_mtok?",
        ),
        ({"input_per_mtok": 1}, "[models.task.price.output_per_mtok] required key is missing"),
        (
            {"input_per_mtok": -1, "output_per_mtok": 2},
            "[models.task.price.input_per_mtok] must be >= 0, got -1.0",
        ),
        (
            {"input_per_mtok": "cheap", "output_per_mtok": 2},
            "[models.task.price.input_per_mtok] expected a number, got 'cheap'",
        ),
        (3, "[models.task.price] expected a mapping, got 3"),
    ],
)
def test_bad_prices_are_located_errors(tmp_path: Path, price: Any, expected: str) -> None:
    raw = raw_config()
    raw["models"]["task"]["price"] = price
    assert expected in error_of(raw, tmp_path)


def test_price_round_trips_and_takes_overrides(tmp_path: Path) -> None:
    cfg = load(raw_config(), tmp_path)
    plain = config_to_dict(cfg)
    assert plain["models"]["task"]["price"] == {"input_per_mtok": 0.4, "output_per_mtok": 1.6}
    assert load_config_dict(yaml.safe_load(yaml.safe_dump(plain)), tmp_path, "c") == cfg
    raw = raw_config()
    raw["models"]["reflection"] = {"model": "openai/r"}
    prices = (
        "models.reflection.price.input_per_mtok=2",
        "models.reflection.price.output_per_mtok=8",
    )
    changed = load(raw, tmp_path, *prices)
    assert changed.models.reflection.price == Price(2.0, 8.0)
    assert "[models.task.price.output_per_mtok]" in error_of(
        raw, tmp_path, "models.task.price.output_per_mtok=-3"
    )


def test_a_cost_cap_alone_needs_a_price(tmp_path: Path) -> None:
    raw = raw_config()
    raw["models"]["task"].pop("price")
    raw["budget"] = {"max_metric_calls": None, "max_cost_usd": 5}
    message = error_of(raw, tmp_path)
    assert message.startswith("cfg.yaml: [budget.max_cost_usd] needs a price")
    assert "models.task.price" in message
    raw["models"]["task"]["model"] = "embedded/smollm2-135m"  # free, so still never binds
    assert "[budget.max_cost_usd] needs a price" in error_of(raw, tmp_path)
    prices = ("models.task.price.input_per_mtok=1", "models.task.price.output_per_mtok=0")
    priced = load(raw, tmp_path, *prices)
    assert priced.budget.max_cost_usd == 5.0
    raw["budget"]["max_time"] = "1h"  # next to another budget: accepted (warned at run start)
    assert load(raw, tmp_path).budget.max_cost_usd == 5.0


# --- dollars from tokens ---------------------------------------------------------------------


USAGE = {
    "task": {"input_tokens": 2_000_000, "output_tokens": 500_000, "calls": 9},
    "reflection": {"input_tokens": 100_000, "output_tokens": 10_000},
}


def models(task: ModelSpec, reflection: ModelSpec) -> ModelsSpec:
    return ModelsSpec(task=task, reflection=reflection)


def test_cost_is_tokens_times_price_per_role() -> None:
    spec = models(
        ModelSpec("openai/a", price=Price(0.4, 1.6)), ModelSpec("openai/b", price=Price(2, 8))
    )
    costs = spec.cost_by_role(USAGE)
    assert costs["task"] == pytest.approx(2 * 0.4 + 0.5 * 1.6)
    assert costs["reflection"] == pytest.approx(0.1 * 2 + 0.01 * 8)
    assert spec.cost_usd(USAGE) == pytest.approx(1.6 + 0.28)
    assert spec.cost_usd({}) == 0.0  # priced but nothing spent yet


def test_unpriced_roles_are_left_out_and_embedded_models_are_free() -> None:
    unpriced = models(ModelSpec("openai/a"), ModelSpec("openai/b"))
    assert unpriced.cost_usd(USAGE) is None and not unpriced.prices_tokens()
    mixed = models(ModelSpec("embedded/smollm2-135m"), ModelSpec("openai/b"))
    assert mixed.cost_by_role(USAGE) == {"task": 0.0, "reflection": None}
    assert mixed.cost_usd(USAGE) == 0.0 and not mixed.prices_tokens()
    half = models(ModelSpec("openai/a"), ModelSpec("openai/b", price=Price(2, 8)))
    assert half.cost_usd(USAGE) == pytest.approx(0.28) and half.prices_tokens()


def test_cost_budget_stops_when_the_worst_step_would_not_fit() -> None:
    meter = UsageMeter()
    spec = models(ModelSpec("openai/a", price=Price(1, 1)), ModelSpec("openai/a"))
    budget = CostBudget(spec, meter, cap=1.0)

    def step(tokens: int) -> None:
        budget.begin_step()
        meter.add("task", input_tokens=tokens)
        budget.end_step()

    step(200_000)  # $0.20
    assert budget.worst_step == pytest.approx(0.2) and not budget.exhausted()
    step(300_000)  # $0.50 so far, worst step $0.30
    step(100_000)  # $0.60 so far: 0.60 + 0.30 fits
    assert not budget.exhausted()
    step(150_000)  # $0.75 so far: 0.75 + 0.30 > 1.00
    assert budget.worst_step == pytest.approx(0.3) and budget.exhausted()
    assert not CostBudget(spec, meter, cap=None).exhausted()
    resumed = CostBudget(spec, meter, cap=2.0, worst=1.5)  # the worst step survives a resume
    assert resumed.exhausted() and not CostBudget(spec, meter, cap=2.0).exhausted()


# --- a whole run -----------------------------------------------------------------------------


def never_learns() -> Any:
    """Task: always the wrong label. Reflection: a new instruction each time (rejected)."""
    count = iter(range(10_000))
    lock = threading.Lock()

    def respond(body: dict[str, Any]) -> str:
        messages = body["messages"]
        if messages[0]["content"] == SYSTEM_PROMPT:
            with lock:
                attempt = next(count)
            return f"```\nLabel the item as alpha or beta (attempt {attempt}).\n```"
        n = int(messages[-1]["content"].split()[-1])
        return "beta" if n % 2 == 0 else "alpha"

    return respond


def expected_cost(summary: dict[str, Any]) -> float:
    rows = summary["tokens"]
    return sum(
        rows[role]["input_tokens"] * 0.001 + rows[role]["output_tokens"] * 0.002
        for role in ("task", "reflection")
    )


@pytest.fixture(scope="module")
def capped_run(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("cost")
    with StubServer(never_learns()) as server:
        config = write_experiment(
            root, server.base_url, task__data__test=None, budget__max_cost_usd=0.8,
            models__task__price=PRICE, models__reflection__price=PRICE,
        )  # fmt: skip
        result = gepa("run", str(config), "--display", "plain", cwd=root)
        run_dir = Path(result.stdout.strip().splitlines()[-1])
        first = json.loads((run_dir / "summary.json").read_text())
        first["report"] = (run_dir / "report.html").read_text()
        resumed = gepa("resume", str(run_dir), "--set", "budget.max_cost_usd=1.6",
                       "--display", "plain", cwd=root)  # fmt: skip
    return result, run_dir, first, resumed


def test_run_stops_at_the_cost_cap_and_reports_the_cost(capped_run: Any) -> None:
    result, run_dir, first, _ = capped_run
    assert result.returncode == 0, result.stderr
    assert first["stopped_because"] == "max_cost"
    assert first["metric_calls"] < 60 and first["iterations"] >= 1  # the metric budget was not it
    assert first["cost_usd"] == pytest.approx(expected_cost(first), abs=1e-6)
    assert first["cost_usd"] <= 0.8 and first["max_cost_usd"] == 0.8
    roles = first["cost_usd_by_role"]
    assert roles["task"] + roles["reflection"] == pytest.approx(first["cost_usd"], abs=2e-6)
    iteration_lines = [line for line in result.stderr.splitlines() if line.startswith("iter ")]
    assert all(re.search(r"\| \$0\.\d{4} of \$0\.80$", line) for line in iteration_lines)
    assert f"cost ${first['cost_usd']:.4f}" in result.stderr
    assert f"${first['cost_usd']:.4f} (cap $0.80)" in first["report"]


def test_the_cap_leaves_no_room_for_another_step_like_the_worst_so_far(capped_run: Any) -> None:
    _, run_dir, first, _ = capped_run
    checkpoint = json.loads((run_dir / "checkpoint.json").read_text())
    worst = checkpoint["worst_step_cost_usd"]
    assert worst > 0 and first["cost_usd"] + worst > 0.8


def test_resume_with_a_higher_cap_continues_the_cost(capped_run: Any) -> None:
    _, run_dir, first, resumed = capped_run
    assert resumed.returncode == 0, resumed.stderr
    second = json.loads((run_dir / "summary.json").read_text())
    assert second["stopped_because"] == "max_cost"
    assert second["iterations"] > first["iterations"]
    assert first["cost_usd"] < second["cost_usd"] <= 1.6
    assert second["cost_usd"] == pytest.approx(expected_cost(second), abs=1e-6)
    assert f"${second['cost_usd']:.4f} (cap $1.60)" in (run_dir / "report.html").read_text()


def test_an_unpriced_cap_next_to_a_metric_budget_is_warned_about(tmp_path: Path) -> None:
    def right_away(body: dict[str, Any]) -> str:
        if not is_task_request(body):
            return "```\nsame\n```"
        return "alpha" if int(body["messages"][-1]["content"].split()[-1]) % 2 == 0 else "beta"

    with StubServer(right_away) as server:
        config = write_experiment(tmp_path, server.base_url, budget__max_cost_usd=1.0)
        result = gepa("run", str(config), "--display", "plain", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "warning: budget.max_cost_usd is set but no model has a price" in result.stderr
    run_dir = Path(result.stdout.strip().splitlines()[-1])
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["cost_usd"] is None and summary["stopped_because"] == "perfect_val"
