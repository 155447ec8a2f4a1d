"""The outer loop of one run: seed scoring, iterations until a stop reason, a
checkpoint after every completed step, and the closing summary with test scores.

A step is committed (checkpointed) only when it ran healthily. When the model is
out (nearly every evaluation of the step failed, or a model failed call after
call), the step is thrown away: the run rolls back to the last checkpoint, writes
the summary and raises `RunFailure`, so `gepa resume` replays that step once the
model is back, exactly as an uninterrupted run would have run it.

Each checkpoint records the size of events.jsonl; a resume cuts the log back to
it, so the events of an unfinished step (and the closing RunFinished, logged
after the last checkpoint) are replaced by those of the replay, not duplicated.

The dollar budget (`budget.max_cost_usd`) is kept by a `CostBudget`, and every
run ends with `report.html` written next to `summary.json`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gepa_cli.display.plain import RunFacts
from gepa_cli.engine import events as ev
from gepa_cli.engine.engine import GepaEngine
from gepa_cli.engine.staged_val import staged_summary
from gepa_cli.engine.state import EngineState
from gepa_cli.errors import Interruption, RuntimeFailure
from gepa_cli.lm.cache import CachedLM
from gepa_cli.report import write_report
from gepa_cli.run.concurrency import thread_map
from gepa_cli.run.cost_budget import CostBudget
from gepa_cli.run.phase_clock import PhaseClock, PhasedEvaluator, PhasedLM
from gepa_cli.run.resume_check import FINGERPRINT_KEY
from gepa_cli.run.run_parts import RunParts, RunResult
from gepa_cli.run.select import closing_scores
from gepa_cli.run.spend import FETCH_SEQ_KEY, keep_usage, recorded_mark
from gepa_cli.run.stopping import Clock, EvaluationWatch, StopSignals, external_stop_reason
from gepa_cli.rundir.views import non_dominated

INTERRUPTS = ("sigint", "sigterm")


class RunFailure(RuntimeFailure):
    """The run cannot go on (e.g. the model is unreachable); the checkpoint is kept."""


class RunInterrupted(Interruption):
    """A second Ctrl-C stopped the run mid-step; the last checkpoint is kept."""


class RunLoop:
    """Drives a `GepaEngine` to a stop and keeps the run directory current."""

    def __init__(
        self, parts: RunParts, state: EngineState | None, extra: Mapping[str, Any]
    ) -> None:
        self.parts = parts
        self.cfg, self.rundir, self.splits = parts.cfg, parts.rundir, parts.splits
        for role, lm in (("task", parts.models.task), ("reflection", parts.models.reflection)):
            if isinstance(lm, CachedLM):
                lm.restore(extra.get("cache_samples", {}).get(role, {}))
        self.last_error = "unknown"
        self.fetch_mark = recorded_mark(extra)  # answers fetched up to here are counted
        self.clock = Clock(float(extra.get("elapsed_s", 0.0)))
        wasted = extra.get("reflection_wasted_s", 0.0)
        self.reflection_wasted_s = float(wasted) if isinstance(wasted, int | float) else 0.0
        self.phases = PhaseClock(extra.get("phase_s"))
        self.watch = EvaluationWatch(
            PhasedEvaluator(parts.evaluator, self.phases, parts.splits.val)
        )
        worst = extra.get("worst_step_cost_usd")
        self.cost = CostBudget(
            parts.cfg.models, parts.meter, parts.cfg.budget.max_cost_usd,
            float(worst) if isinstance(worst, int | float) else 0.0,
        )  # fmt: skip
        self.engine = GepaEngine(
            parts.settings, list(parts.cfg.task.prompts), parts.splits.train,
            parts.splits.val, self.watch, PhasedLM(parts.models.reflection, self.phases),
            emit=self._emit,
            state=state, map_fn=thread_map,
        )  # fmt: skip

    def _emit(self, event: ev.Event) -> None:
        if isinstance(event, ev.ExampleFailed):
            self.last_error = event.error
        if isinstance(event, ev.ReflectionAttempted) and event.outcome != "new":
            self.reflection_wasted_s += event.seconds
        self.rundir.append_event(event)
        wins = None
        if isinstance(event, ev.FrontierChanged):  # win counts are not in the event
            wins = {m.id: m.wins for m in non_dominated(self.engine.state)}
        self.parts.display.facts(RunFacts(self.cost.spent(), self.cost.cap, wins))
        self.parts.display.handle(event)

    def run(self) -> RunResult:
        if self.cost.cap is not None and not self.cfg.models.prices_tokens():
            self.parts.display.warning(
                "budget.max_cost_usd is set but no model has a price, so it never binds "
                "(set models.<role>.price: {input_per_mtok: N, output_per_mtok: N})"
            )
        try:
            with StopSignals() as signals:
                self._seed()
                reason = self._iterate(signals)
        except KeyboardInterrupt:
            self.parts.display.finish({"stopped_because": "interrupted"})
            raise RunInterrupted(
                f"interrupted mid-step; the last checkpoint is kept. "
                f"Resume with: gepa resume {self.rundir.path}"
            ) from None
        interrupted = reason in INTERRUPTS
        summary = self._finish(reason, score_test=not interrupted)
        return RunResult(self.rundir.path, summary, interrupted)

    def _seed(self) -> None:
        if self.engine.seeded:
            return
        self._begin_step()
        with self.phases.marking("seed"):
            self.engine.score_seed(self.cfg.task.prompts)
        self.cost.end_step()
        self._commit_or_fail("while scoring the seed")

    def _iterate(self, signals: StopSignals) -> str:
        while True:
            reason = (
                external_stop_reason(
                    signals, self.rundir.path, self.clock, self.cfg.budget.max_time_s
                )
                or self.engine.stop_reason()
                or ("max_cost" if self.cost.exhausted() else None)
            )
            if reason is not None:
                return reason
            self._begin_step()
            self.engine.step()
            self.cost.end_step()
            self._commit_or_fail(f"in iteration {self.engine.state.iteration}")

    def _begin_step(self) -> None:
        self.watch.begin_step()
        self.cost.begin_step()

    # --- committing a step, or rolling it back -----------------------------------------

    def _commit_or_fail(self, where: str) -> None:
        cause = self._outage_cause(where)
        if cause is None:
            self._checkpoint()
            return
        self._rollback()
        usage = self.parts.meter.snapshot()  # what the lost step spent still counts
        keep_usage(self.rundir, usage, self._fetch_mark(), self.parts.fingerprint)
        kept = (
            f"the checkpoint after iteration {self.engine.state.iteration} is kept"
            if self.engine.seeded
            else "nothing was scored yet"
        )
        message = (
            f"model outage: {cause}; this step was not saved and {kept}. "
            f"Fix the cause, then run: gepa resume {self.rundir.path}"
        )
        self._finish("outage", score_test=False, commit=False, error=message)
        raise RunFailure(message)

    def _outage_cause(self, where: str) -> str | None:
        failures = self.watch.outage()
        if failures is not None:
            return f"{failures} {where} (last error: {self.last_error})"
        for role, guard in self.parts.guards.items():
            if guard.tripped:
                return (
                    f"the {role} model failed {guard.limit} calls in a row {where} "
                    f"(last error: {guard.last_error})"
                )
        return None

    def _rollback(self) -> None:
        """Put the engine back to the state of the last checkpoint (or before the seed)."""
        state = self.rundir.load_checkpoint()[0] if self.rundir.has_checkpoint else EngineState()
        self.engine.state = state

    def _checkpoint(self) -> None:
        extra = {
            "usage": self.parts.meter.snapshot(),
            "elapsed_s": round(self.clock.elapsed(), 3),
            "reflection_wasted_s": round(self.reflection_wasted_s, 3),
            "phase_s": self.phases.seconds(),
            "cache_samples": self._cache_samples(),
            FINGERPRINT_KEY: dict(self.parts.fingerprint),
            "events_bytes": self.rundir.events_size(),
            "worst_step_cost_usd": self.cost.worst_step,
            FETCH_SEQ_KEY: self._fetch_mark(),
        }
        self.rundir.save_checkpoint(self.engine.state, extra)
        self.rundir.save_views(self.engine.state, [ex.id for ex in self.splits.val])

    def _fetch_mark(self) -> int:
        """The last answer fetched into the cache (all are in the meter by now)."""
        lm = self.parts.models.task
        return lm.cache.last_fetch_seq() if isinstance(lm, CachedLM) else self.fetch_mark

    def _cache_samples(self) -> dict[str, dict[str, int]]:
        """The response cache's per-request sample counters, so a resume replays them."""
        models = self.parts.models
        lms = {"task": models.task, "reflection": models.reflection}
        return {role: lm.snapshot() for role, lm in lms.items() if isinstance(lm, CachedLM)}

    # --- the end ------------------------------------------------------------------------

    def _finish(
        self, reason: str, score_test: bool, commit: bool = True, error: str | None = None
    ) -> dict[str, Any]:
        if commit:
            self._checkpoint()
        state = self.engine.state
        if state.candidates:  # logged after the checkpoint: a resume drops it and goes on
            best = state.best_id()
            self.engine.emit(
                ev.RunFinished(
                    reason, best, state.mean_val_score(best), state.metric_calls, state.iteration
                )
            )
        summary = self._summary(reason, score_test)
        summary.update(staged_summary(state, self.parts.settings, len(self.splits.val)))
        if summary.get("final_candidate"):  # chosen on select: best/ holds it from now on
            self.rundir.write_best(state.candidate(summary["final_candidate"]).prompts)
        if error is not None:
            summary["error"] = error
        self.rundir.write_summary(summary)
        self._write_report()
        self.parts.display.finish(summary)
        return summary

    def _write_report(self) -> None:
        """report.html in the run directory; a failure here never fails the run."""
        try:
            write_report(self.rundir.path)
        except Exception as exc:
            detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
            self.parts.display.warning(f"report.html not written ({detail})")

    def _summary(self, reason: str, score_test: bool) -> dict[str, Any]:
        state = self.engine.state
        best = state.best_id() if state.candidates else None
        seed = state.seed_id() if state.candidates else None
        closing: dict[str, Any] = {"test": None}
        if score_test and best is not None and seed is not None:
            frontier = self.engine.frontier_ids()
            with self.phases.timing("test"):  # test, and select with a select split
                closing = closing_scores(state, frontier, self.splits, self.parts.evaluator)
        return {
            "best_candidate": best,
            "best_val_score": state.mean_val_score(best) if best else None,
            "seed_candidate": seed,
            "seed_val_score": state.mean_val_score(seed) if seed else None,
            "test": closing.pop("test"),
            "metric_calls": state.metric_calls,
            "max_metric_calls": self.cfg.budget.max_metric_calls,
            **self._usage_fields(),
            "candidates": len(state.candidates),
            "iterations": state.iteration,
            "errors": state.errors,
            "elapsed_s": round(self.clock.elapsed(), 3),
            "reflections": {
                **state.reflection_summary(),
                "wasted_s": round(self.reflection_wasted_s, 3),
            },
            "phase_s": self.phases.seconds(),
            "stopped_because": reason,
            "unspent_metric_calls": self._unspent(),
            **closing,  # final_candidate and select, with a select split
        }

    def _usage_fields(self) -> dict[str, Any]:
        """LM calls, errors, retries, tokens and cost: the summary's usage part."""
        meter = self.parts.meter
        usage = meter.snapshot()
        costs = self.cfg.models.cost_by_role(usage)
        spent = self.cfg.models.cost_usd(usage)
        return {
            "lm_calls": meter.total_calls(),
            "lm_calls_cached": meter.total_cached_calls(),
            "lm_errors": {role: row.get("errors", 0) for role, row in usage.items()},
            "lm_retries": {role: row.get("retries", 0) for role, row in usage.items()},
            "tokens": usage,
            "cost_usd": None if spent is None else round(spent, 6),
            "cost_usd_by_role": {r: None if c is None else round(c, 6) for r, c in costs.items()},
            "max_cost_usd": self.cfg.budget.max_cost_usd,
        }

    def _unspent(self) -> int | None:
        """Metric calls left in the budget at the stop (None without a cap)."""
        cap = self.cfg.budget.max_metric_calls
        return None if cap is None else max(0, cap - self.engine.state.metric_calls)
