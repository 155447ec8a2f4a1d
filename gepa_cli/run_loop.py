"""The outer loop of one run: seed scoring, iterations until a stop reason,
a checkpoint after every iteration, and the closing summary with test scores."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gepa_cli.config import ExperimentConfig
from gepa_cli.display import Display
from gepa_cli.engine import events as ev
from gepa_cli.engine.engine import GepaEngine
from gepa_cli.engine.state import EngineState
from gepa_cli.engine.types import Example, Prompts
from gepa_cli.evaluation import ConcurrentEvaluator
from gepa_cli.lm.cache import CachedLM
from gepa_cli.lm.usage import UsageMeter
from gepa_cli.model_wiring import ModelSet
from gepa_cli.rundir import RunDir
from gepa_cli.stopping import Clock, StopSignals, external_stop_reason

OUTAGE_MIN_EVALS = 3
OUTAGE_ERROR_SHARE = 0.9
INTERRUPTS = ("sigint", "sigterm")


class RunFailure(Exception):
    """The run cannot go on (e.g. the model is unreachable); the checkpoint is kept."""


@dataclass(frozen=True)
class Splits:
    train: list[Example]
    val: list[Example]
    test: list[Example] | None


@dataclass(frozen=True)
class RunResult:
    run_dir: Path
    summary: dict[str, Any]
    interrupted: bool


class RunLoop:
    """Drives a `GepaEngine` to a stop and keeps the run directory current."""

    def __init__(
        self,
        cfg: ExperimentConfig,
        rundir: RunDir,
        splits: Splits,
        models: ModelSet,
        evaluator: ConcurrentEvaluator,
        display: Display,
        meter: UsageMeter,
        state: EngineState | None,
        extra: dict[str, Any],
    ) -> None:
        from gepa_cli.runner import engine_settings

        self.cfg, self.rundir, self.splits = cfg, rundir, splits
        self.evaluator, self.display, self.meter = evaluator, display, meter
        self.models = models
        for role, lm in (("task", models.task), ("reflection", models.reflection)):
            if isinstance(lm, CachedLM):
                lm.restore(extra.get("cache_samples", {}).get(role, {}))
        self.last_error = "unknown"
        self.clock = Clock(float(extra.get("elapsed_s", 0.0)))
        self.engine = GepaEngine(
            engine_settings(cfg), list(cfg.task.prompts), splits.train, splits.val,
            evaluator, models.reflection, emit=self._emit, state=state,
        )  # fmt: skip

    def _emit(self, event: ev.Event) -> None:
        if isinstance(event, ev.ExampleFailed):
            self.last_error = event.error
        self.rundir.append_event(event)
        self.display.handle(event)

    def run(self) -> RunResult:
        with StopSignals() as signals:
            self._seed()
            reason = self._iterate(signals)
        interrupted = reason in INTERRUPTS
        summary = self._finish(reason, score_test=not interrupted)
        return RunResult(self.rundir.path, summary, interrupted)

    def _seed(self) -> None:
        if self.engine.seeded:
            return
        self.engine.score_seed(self.cfg.task.prompts)
        self._check_outage(0, len(self.splits.val), 0, "scoring the seed")
        self._checkpoint()

    def _iterate(self, signals: StopSignals) -> str:
        while True:
            reason = (
                external_stop_reason(
                    signals, self.rundir.path, self.clock, self.cfg.budget.max_time_s
                )
                or self.engine.stop_reason()
            )
            if reason is not None:
                return reason
            calls, errors = self.engine.state.metric_calls, self.engine.state.errors
            self.engine.step()
            self._checkpoint()
            self._check_outage(calls, self.engine.state.metric_calls, errors, "this iteration")

    def _check_outage(
        self, calls_before: int, calls_after: int, errors_before: int, what: str
    ) -> None:
        evaluated = calls_after - calls_before
        failed = self.engine.state.errors - errors_before
        if evaluated >= OUTAGE_MIN_EVALS and failed >= OUTAGE_ERROR_SHARE * evaluated:
            self._finish("outage", score_test=False)
            raise RunFailure(
                f"{failed} of {evaluated} evaluations failed in {what} "
                f"(last error: {self.last_error}); the checkpoint is saved, "
                f"fix the cause and run: gepa resume {self.rundir.path}"
            )

    def _checkpoint(self) -> None:
        extra = {
            "usage": self.meter.snapshot(),
            "elapsed_s": round(self.clock.elapsed(), 3),
            "cache_samples": self._cache_samples(),
        }
        self.rundir.save_checkpoint(self.engine.state, extra)
        self.rundir.save_views(self.engine.state, [ex.id for ex in self.splits.val])

    def _cache_samples(self) -> dict[str, dict[str, int]]:
        """The response cache's per-request sample counters, so a resume replays them."""
        lms = {"task": self.models.task, "reflection": self.models.reflection}
        return {role: lm.snapshot() for role, lm in lms.items() if isinstance(lm, CachedLM)}

    def _finish(self, reason: str, score_test: bool) -> dict[str, Any]:
        state = self.engine.state
        best = state.best_id()
        self.engine.emit(
            ev.RunFinished(
                reason, best, state.mean_val_score(best), state.metric_calls, state.iteration
            )
        )
        self._checkpoint()
        summary = self._summary(reason, score_test)
        self.rundir.write_summary(summary)
        self.display.finish(summary)
        return summary

    def _summary(self, reason: str, score_test: bool) -> dict[str, Any]:
        state = self.engine.state
        best, seed = state.best_id(), state.seed_id()
        test = self._test_scores(seed, best) if score_test and self.splits.test else None
        return {
            "best_candidate": best,
            "best_val_score": state.mean_val_score(best),
            "seed_candidate": seed,
            "seed_val_score": state.mean_val_score(seed),
            "test": test,
            "metric_calls": state.metric_calls,
            "max_metric_calls": self.cfg.budget.max_metric_calls,
            "lm_calls": self.meter.total_calls(),
            "lm_calls_cached": self.meter.total_cached_calls(),
            "tokens": self.meter.snapshot(),
            "cost_usd": None,
            "candidates": len(state.candidates),
            "iterations": state.iteration,
            "errors": state.errors,
            "elapsed_s": round(self.clock.elapsed(), 3),
            "stopped_because": reason,
        }

    def _test_scores(self, seed: str, best: str) -> dict[str, Any]:
        test = self.splits.test or []
        seed_mean = self._mean_on(self.engine.state.candidate(seed).prompts, test)
        best_mean = (
            seed_mean
            if best == seed
            else self._mean_on(self.engine.state.candidate(best).prompts, test)
        )
        return {"seed": seed_mean, "best": best_mean, "n": len(test)}

    def _mean_on(self, prompts: Prompts, examples: list[Example]) -> float:
        rollouts = self.evaluator.evaluate(prompts, examples)
        return sum(r.score for r in rollouts) / len(rollouts) if rollouts else 0.0
