"""`gepa validate` and `gepa run --dry-run`: check a config, its task and data
without calling a model, and say what the budget affords."""

from __future__ import annotations

from pathlib import Path

import yaml

from gepa_cli.config import ExperimentConfig, config_to_dict
from gepa_cli.engine.budget import proposals_affordable


def budget_lines(cfg: ExperimentConfig, val_size: int, train_size: int) -> list[str]:
    """Plain-language arithmetic of the metric-call budget."""
    budget = cfg.budget.max_metric_calls
    batch = min(cfg.search.minibatch_size, train_size)
    lines = [
        f"seed scoring: {val_size} metric calls (the seed on every val example)",
        f"each iteration: up to {2 * batch} calls on a minibatch of {batch}, "
        f"plus {val_size} more when the child is accepted",
    ]
    if budget is None:
        return [*lines, "budget: unlimited metric calls"]
    if budget < val_size:
        return [*lines, f"warning: max_metric_calls={budget} cannot even score the seed"]
    worst = proposals_affordable(budget, val_size, batch)
    best = (budget - val_size) // (2 * batch) if batch else 0
    lines.append(
        f"budget {budget}: between {worst} (every child accepted) and {best} "
        f"(none accepted) proposals"
    )
    if worst < 2:
        lines.append("warning: the budget affords fewer than 2 accepted proposals; raise it")
    return lines


def describe_plan(cfg: ExperimentConfig, config_dir: Path) -> str:
    """Load the task and every split; return the resolved config and the budget plan."""
    from gepa_cli.runner import absolutize_task_type, load_task_and_data

    cfg = absolutize_task_type(cfg, config_dir.resolve())
    task, splits = load_task_and_data(cfg)
    sizes = f"train {len(splits.train)}, val {len(splits.val)}"
    if splits.test is not None:
        sizes += f", test {len(splits.test)}"
    parts = [
        "# resolved config",
        yaml.safe_dump(config_to_dict(cfg), sort_keys=False, allow_unicode=True).rstrip(),
        "",
        f"# task: {cfg.task.type} with modules {', '.join(task.modules)}; {sizes}",
        *[f"# {line}" for line in budget_lines(cfg, len(splits.val), len(splits.train))],
        "# ok: config, task and data are valid (no model was called)",
    ]
    return "\n".join(parts)
