"""`search.val_policy: full` (the default) stays byte-identical: the event streams and final
states of a few scripted runs equal a golden recorded before staged validation existed.

Regenerate (only when a change of results is intended):
    .venv/bin/python tests/test_val_policy_full_golden.py
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from engine_fakes import IdeaEvaluator, ScriptedReflector, examples, learn_one_rule  # noqa: E402

from gepa_cli.engine import events as ev  # noqa: E402
from gepa_cli.engine.engine import GepaEngine  # noqa: E402
from gepa_cli.engine.settings import EngineSettings  # noqa: E402
from gepa_cli.engine.types import Example, Prompts, Rollout  # noqa: E402

GOLDEN = Path(__file__).parent / "fixtures" / "val_policy_full_golden.json"
IDEAS = ["carry the one", "round down", "carry the one", "round down", "units", "sign"]

SCENARIOS: dict[str, dict[str, Any]] = {
    "k1": {"max_metric_calls": 90},
    "k3": {"max_metric_calls": 150, "parallel_proposals": 3, "seed": 4},
    "merge": {"max_metric_calls": 300, "merge_enabled": True, "parallel_proposals": 2, "seed": 1},
    "greedy": {"max_metric_calls": 70, "candidate_selection": "epsilon_greedy", "seed": 1},
}


class TwoModuleEvaluator(IdeaEvaluator):
    """An example passes when either module's instruction holds its idea (merges can help)."""

    def _one(self, prompts: Prompts, ex: Example) -> Rollout:
        return super()._one({"solve": " ".join(prompts.values())}, ex)


def scenario(name: str, **extra: Any) -> dict[str, Any]:
    """The event lines and the final state of one scripted run."""
    log: list[ev.Event] = []
    engine = GepaEngine(
        EngineSettings(**SCENARIOS[name], **extra),
        ["solve", "check"],
        examples("t", IDEAS * 2),
        examples("v", IDEAS),
        TwoModuleEvaluator(),
        ScriptedReflector(learn_one_rule),
        emit=log.append,
    )
    engine.score_seed({"solve": "Solve it.", "check": "Check it."})
    for _ in range(60):
        if engine.stop_reason() is not None:
            break
        engine.step()
    return {
        "events": [ev.event_to_json(e) for e in log],
        "state": engine.state.to_json(),
    }


def digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


@pytest.mark.parametrize("explicit", [False, True], ids=["default", "explicit"])
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_full_val_policy_reproduces_the_recorded_run(name: str, explicit: bool) -> None:
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))[name]
    got = scenario(name, **({"val_policy": "full"} if explicit else {}))
    assert [e["event"] for e in got["events"]] == golden["event_names"]
    assert digest(got["events"]) == golden["events_sha256"]
    assert digest(got["state"]) == golden["state_sha256"]


def test_staged_val_policy_changes_the_run() -> None:
    """The recorded runs do depend on the policy (so the test above can tell)."""
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))["k3"]
    got = scenario("k3", val_policy="staged")
    assert "ValidationStaged" in {e["event"] for e in got["events"]}
    assert digest(got["state"]) != golden["state_sha256"]


if __name__ == "__main__":
    record = {}
    for key in sorted(SCENARIOS):
        run = scenario(key)
        record[key] = {
            "event_names": [e["event"] for e in run["events"]],
            "events_sha256": digest(run["events"]),
            "state_sha256": digest(run["state"]),
        }
    GOLDEN.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
