"""The values a run loop is wired with and hands back: the example `Splits`, the
`RunParts` the runner assembles, and the `RunResult` of a finished run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gepa_cli.config import ExperimentConfig
from gepa_cli.display.plain import Display
from gepa_cli.engine.settings import EngineSettings
from gepa_cli.engine.types import Example
from gepa_cli.lm.usage import UsageMeter
from gepa_cli.run.evaluator import ConcurrentEvaluator
from gepa_cli.run.models import ModelSet
from gepa_cli.run.stopping import FailFastLM
from gepa_cli.rundir.directory import RunDir


@dataclass(frozen=True)
class Splits:
    train: list[Example]
    val: list[Example]
    test: list[Example] | None
    select: list[Example] | None = None


@dataclass(frozen=True)
class RunResult:
    run_dir: Path
    summary: dict[str, Any]
    interrupted: bool


@dataclass(frozen=True)
class RunParts:
    """Everything a run loop works with, wired by the runner."""

    cfg: ExperimentConfig
    settings: EngineSettings
    rundir: RunDir
    splits: Splits
    models: ModelSet
    guards: Mapping[str, FailFastLM]  # role -> the fail-fast guard inside that role's model
    evaluator: ConcurrentEvaluator
    display: Display
    meter: UsageMeter
    fingerprint: Mapping[str, Any]
