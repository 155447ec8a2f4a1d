"""The engine's complete state: the candidate pool, the score matrix, counters.

`EngineState` is the one mutable object of the engine. It serializes to a JSON
dict (with `schema_version`) that the run directory stores as the checkpoint,
and is rebuilt from it on resume.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gepa_cli.engine.plausibility import check_plausible
from gepa_cli.engine.types import Prompts, Rollout
from gepa_cli.errors import BadInputError

SCHEMA_VERSION = 1


class CheckpointError(BadInputError, ValueError):
    """A checkpoint cannot be loaded (newer schema, corrupt content)."""


def candidate_id(prompts: Prompts) -> str:
    """A candidate's id: a short hash of its prompts (module -> text)."""
    canonical = json.dumps(dict(sorted(prompts.items())), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class Candidate:
    """One program in the pool: its prompts and where it came from."""

    id: str
    prompts: Mapping[str, str]
    parents: tuple[str, ...]
    origin: str  # seed | mutation | merge
    iteration: int
    metric_calls_at_discovery: int

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "parents": list(self.parents),
            "origin": self.origin,
            "iteration": self.iteration,
            "prompts": dict(self.prompts),
            "metric_calls_at_discovery": self.metric_calls_at_discovery,
        }

    @staticmethod
    def from_json(raw: Mapping[str, Any]) -> Candidate:
        return Candidate(
            id=raw["id"],
            prompts=dict(raw["prompts"]),
            parents=tuple(raw["parents"]),
            origin=raw["origin"],
            iteration=int(raw["iteration"]),
            metric_calls_at_discovery=int(raw["metric_calls_at_discovery"]),
        )


@dataclass
class EngineState:
    """Everything needed to continue a run exactly where it stopped."""

    candidates: list[Candidate] = field(default_factory=list)
    val_scores: dict[str, dict[str, float]] = field(default_factory=dict)
    train_rollouts: dict[str, dict[str, Rollout]] = field(default_factory=dict)
    module_pointer: dict[str, int] = field(default_factory=dict)
    tried_children: set[str] = field(default_factory=set)
    tried_merges: set[str] = field(default_factory=set)
    merges_accepted: int = 0
    merges_due: int = 0
    iteration: int = 0
    metric_calls: int = 0
    errors: int = 0
    idle_iterations: int = 0
    reflections: dict[str, int] = field(default_factory=dict)
    """Reflection counters: calls, new, unchanged, unusable, retries (wall time is the
    runner's business: it reads it off the events)."""
    exhausted: set[str] = field(default_factory=set)
    """Parent/minibatch pairs whose reflection retries were spent without a new instruction;
    not drawn again until the pool changes."""
    copy_prone: set[str] = field(default_factory=set)
    """`candidate:module` keys of instructions the reflection copied back when asked for a
    rewrite, and of their children's (the parent plus a few rules); their later reflections
    ask for rules to splice in first (`rule_edit`)."""
    partial: set[str] = field(default_factory=set)
    """Candidates whose staged validation stopped early: their val rows hold only the
    first stage's examples. Never parents, frontier members, merge parents or best."""

    # --- queries ---------------------------------------------------------------

    def candidate(self, cid: str) -> Candidate:
        for cand in self.candidates:
            if cand.id == cid:
                return cand
        raise KeyError(cid)

    def has(self, cid: str) -> bool:
        return cid in self.val_scores

    def is_partial(self, cid: str) -> bool:
        """True for a candidate scored on only part of val (staged validation stopped it)."""
        return cid in self.partial

    def complete_ids(self) -> list[str]:
        """The candidates scored on all of val, in pool order: the ones that can be
        parents, frontier members or the best."""
        return [c.id for c in self.candidates if c.id not in self.partial]

    def mean_val_score(self, cid: str) -> float:
        """The mean over the candidate's scored val examples (all of val unless partial)."""
        scores = self.val_scores[cid]
        return sum(scores.values()) / len(scores) if scores else 0.0

    def best_id(self) -> str:
        """The complete candidate with the highest mean val score (earliest wins ties)."""
        ids = self.complete_ids()
        best = ids[0]
        for cid in ids[1:]:
            if self.mean_val_score(cid) > self.mean_val_score(best):
                best = cid
        return best

    def seed_id(self) -> str:
        return self.candidates[0].id

    # --- updates ---------------------------------------------------------------

    def add_candidate(self, cand: Candidate, val_scores: Mapping[str, float]) -> None:
        self.candidates.append(cand)
        self.val_scores[cand.id] = dict(val_scores)
        self.exhausted.clear()  # the pool changed: every parent is worth another try

    def add_partial_candidate(self, cand: Candidate, val_scores: Mapping[str, float]) -> None:
        """Keep a candidate scored on part of val; the parents' pool is unchanged."""
        self.candidates.append(cand)
        self.val_scores[cand.id] = dict(val_scores)
        self.partial.add(cand.id)

    def count_reflection(self, outcome: str, attempt: int, request: str = "rewrite") -> None:
        """Add one reflection call with its outcome to the counters; `rules` and
        `rules_new` count the calls that asked only for rules, and those that gave new."""
        counts = self.reflections
        counts["calls"] = counts.get("calls", 0) + 1
        counts[outcome] = counts.get(outcome, 0) + 1
        if attempt > 0:
            counts["retries"] = counts.get("retries", 0) + 1
        if request == "rules":
            counts["rules"] = counts.get("rules", 0) + 1
            counts["rules_new"] = counts.get("rules_new", 0) + (outcome == "new")

    def reflection_summary(self) -> dict[str, int]:
        """The counters with every key present (the `reflections` block of summary.json)."""
        keys = ("calls", "new", "unchanged", "unusable", "retries", "rules", "rules_new")
        return {k: int(self.reflections.get(k, 0)) for k in keys}

    # --- persistence -----------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        raw = self._core_json()
        if self.partial:  # only staged validation writes it (full runs stay as they were)
            raw["partial"] = sorted(self.partial)
        if self.copy_prone:  # written once a copy happened (runs without one stay as they were)
            raw["copy_prone"] = sorted(self.copy_prone)
        return raw

    def _core_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "iteration": self.iteration,
            "metric_calls": self.metric_calls,
            "errors": self.errors,
            "idle_iterations": self.idle_iterations,
            "candidates": [c.to_json() for c in self.candidates],
            "val_scores": self.val_scores,
            "train_rollouts": {
                cid: {eid: r.to_json() for eid, r in rows.items()}
                for cid, rows in self.train_rollouts.items()
            },
            "module_pointer": self.module_pointer,
            "tried_children": sorted(self.tried_children),
            "tried_merges": sorted(self.tried_merges),
            "merges_accepted": self.merges_accepted,
            "merges_due": self.merges_due,
            "reflections": self.reflections,
            "exhausted": sorted(self.exhausted),
        }

    @staticmethod
    def from_json(raw: Mapping[str, Any]) -> EngineState:
        version = raw.get("schema_version")
        if not isinstance(version, int) or version > SCHEMA_VERSION:
            raise CheckpointError(
                f"checkpoint schema_version {version!r} is not supported "
                f"(this gepa-cli reads up to {SCHEMA_VERSION}); upgrade gepa-cli"
            )
        try:
            state = _state_from_json(raw)
            check_plausible(state)
            return state
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CheckpointError(f"checkpoint is corrupt: {type(exc).__name__}: {exc}") from exc


def _state_from_json(raw: Mapping[str, Any]) -> EngineState:
    return EngineState(
        candidates=[Candidate.from_json(c) for c in raw["candidates"]],
        val_scores={
            cid: {eid: float(s) for eid, s in row.items()} for cid, row in raw["val_scores"].items()
        },
        train_rollouts={
            cid: {eid: Rollout.from_json(r) for eid, r in rows.items()}
            for cid, rows in raw["train_rollouts"].items()
        },
        module_pointer={k: int(v) for k, v in raw["module_pointer"].items()},
        tried_children=_id_set(raw["tried_children"]),
        tried_merges=_id_set(raw.get("tried_merges", [])),
        merges_accepted=int(raw.get("merges_accepted", 0)),
        merges_due=int(raw.get("merges_due", 0)),
        iteration=int(raw["iteration"]),
        metric_calls=int(raw["metric_calls"]),
        errors=int(raw.get("errors", 0)),
        idle_iterations=int(raw.get("idle_iterations", 0)),
        reflections={str(k): int(v) for k, v in raw.get("reflections", {}).items()},
        exhausted=_id_set(raw.get("exhausted", [])),
        partial=_id_set(raw.get("partial", [])),
        copy_prone=_id_set(raw.get("copy_prone", [])),
    )


def _id_set(raw: Any) -> set[str]:
    """A checkpoint's list of ids as a set; TypeError unless every item is a string (a
    wrong-typed item would only fail later, when the next checkpoint sorts the set)."""
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise TypeError("expected a list of strings")
    return set(raw)
