"""The experiment config as frozen dataclasses: the typed form of DESIGN §3.

Values only. `loader` builds them from YAML (checking every key, type and range)
and `serialize` turns them back into a plain dict. Paths are absolute, prompt
files are already read, and `max_time` is stored in seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROVIDERS = ("openai", "embedded")
CANDIDATE_SELECTIONS = ("pareto", "current_best", "epsilon_greedy")
MODULE_SELECTIONS = ("round_robin", "all")


def default_runs_dir() -> Path:
    """`runs` under the current working directory, as an absolute path."""
    return Path("runs").resolve()


@dataclass(frozen=True)
class SplitSpec:
    """One dataset split: a JSONL file and the slice of its rows to use."""

    path: Path
    """Absolute path of the JSONL file (relative paths are taken from the config's folder)."""
    offset: int = 0
    """Rows skipped at the start of the file."""
    limit: int | None = None
    """At most this many rows after `offset`; None takes the rest."""


@dataclass(frozen=True)
class DataSpec:
    """The splits: `train` feeds minibatches, `val` is the Pareto set, `test` is held out."""

    train: SplitSpec
    val: SplitSpec
    test: SplitSpec | None = None


@dataclass(frozen=True)
class TaskSpec:
    """The program being optimized, its data and its seed prompts."""

    type: str
    """A built-in adapter name (qa, math, ...) or `python:/abs/path/file.py:ClassName`."""
    data: DataSpec
    fields: Mapping[str, str] = field(default_factory=dict)
    """The task's field name -> the dataset field it is read from, e.g. {input: question}."""
    prompts: Mapping[str, str] = field(default_factory=dict)
    """The seed candidate: module name -> instruction text."""
    options: Mapping[str, Any] = field(default_factory=dict)
    """Task-specific settings, validated by the task itself."""


@dataclass(frozen=True)
class Price:
    """What a model's tokens cost, in US dollars per million tokens."""

    input_per_mtok: float
    output_per_mtok: float

    def cost_usd(self, input_tokens: int, output_tokens: int) -> float:
        """The dollars `input_tokens` prompt and `output_tokens` completion tokens cost."""
        return (input_tokens * self.input_per_mtok + output_tokens * self.output_per_mtok) / 1e6


FREE = Price(0.0, 0.0)
"""The price of an embedded model that has no `price` of its own."""


@dataclass(frozen=True)
class ModelSpec:
    """One model endpoint and its sampling parameters."""

    model: str
    """`provider/name`: openai/<name> (any OpenAI-compatible server) or embedded/<name>."""
    base_url: str | None = None
    api_key_env: str | None = None
    """Name of the environment variable holding the API key (never the key itself)."""
    temperature: float = 0.0
    max_tokens: int | None = None
    top_p: float | None = None
    seed: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Passed through to the API as extra body fields."""
    price: Price | None = None
    """For cost accounting; None means the cost is not tracked (embedded models: free)."""
    replicas: tuple[str, ...] = ()
    """Every URL when `base_url` was given as a list (replicas of one model); `base_url`
    is then the first of them. Requests go to the least busy replica."""

    @property
    def provider(self) -> str:
        """`openai` or `embedded`."""
        return self.model.partition("/")[0]

    @property
    def model_name(self) -> str:
        """The part after the provider, e.g. `gpt-4.1-mini` (may itself contain `/`)."""
        return self.model.partition("/")[2]

    @property
    def effective_price(self) -> Price | None:
        """The configured price; an embedded model without one costs nothing."""
        if self.price is None and self.provider == "embedded":
            return FREE
        return self.price


@dataclass(frozen=True)
class ModelsSpec:
    """The model that runs the task and the one that rewrites instructions."""

    task: ModelSpec
    reflection: ModelSpec

    def by_role(self) -> dict[str, ModelSpec]:
        return {"task": self.task, "reflection": self.reflection}

    def cost_by_role(self, usage: Mapping[str, Mapping[str, int]]) -> dict[str, float | None]:
        """Each role's spending: its tokens in `usage` (a `UsageMeter` snapshot, role ->
        counters) times its price; None for a role whose cost is not tracked."""
        costs: dict[str, float | None] = {}
        for role, spec in self.by_role().items():
            price, row = spec.effective_price, usage.get(role, {})
            tokens = (row.get("input_tokens", 0), row.get("output_tokens", 0))
            costs[role] = None if price is None else price.cost_usd(*tokens)
        return costs

    def cost_usd(self, usage: Mapping[str, Mapping[str, int]]) -> float | None:
        """The total over the roles with a price; None when no role has one."""
        known = [cost for cost in self.cost_by_role(usage).values() if cost is not None]
        return sum(known) if known else None

    def prices_tokens(self) -> bool:
        """True if some role has a price above zero (so a cost budget can ever run out)."""
        prices = [spec.price for spec in self.by_role().values() if spec.price is not None]
        return any(p.input_per_mtok > 0 or p.output_per_mtok > 0 for p in prices)


@dataclass(frozen=True)
class BudgetSpec:
    """When to stop; None means no limit of that kind."""

    max_metric_calls: int | None = 300
    """(candidate, example) evaluations not served from the cache."""
    max_cost_usd: float | None = None
    """Dollars; needs a `price` on a model. Checked before each iteration against the
    cost so far plus the most expensive step seen so far."""
    max_time_s: float | None = None
    """Wall-clock limit in seconds (YAML key `max_time`, e.g. "30m", "1h30m" or 90)."""


@dataclass(frozen=True)
class MergeSpec:
    """System-aware crossover of two frontier candidates."""

    enabled: bool = False
    max_invocations: int = 5
    """At most this many accepted merges."""


@dataclass(frozen=True)
class SearchSpec:
    """How the engine picks parents, modules and minibatches."""

    candidate_selection: str = "pareto"
    """pareto | current_best | epsilon_greedy."""
    epsilon: float = 0.1
    """Exploration rate of epsilon_greedy."""
    module_selection: str = "round_robin"
    """round_robin | all."""
    minibatch_size: int = 3
    skip_perfect: bool = True
    """Skip reflection when the parent already scores `perfect_score` on the whole minibatch."""
    perfect_score: float = 1.0
    merge: MergeSpec = field(default_factory=MergeSpec)
    reflection_prompt: Path | None = None
    """An existing file holding a custom meta-prompt, as an absolute path."""
    parallel_proposals: int = 1
    """Proposals run at once per iteration, each from an independently selected parent."""


@dataclass(frozen=True)
class RuntimeSpec:
    """Concurrency, caching and network behaviour of model calls."""

    max_concurrency: int = 8
    """In-flight LM requests per endpoint."""
    cache: bool = True
    request_timeout: float = 120.0
    """Seconds per request."""
    max_retries: int = 6


@dataclass(frozen=True)
class OutputSpec:
    """Where run directories go."""

    runs_dir: Path = field(default_factory=default_runs_dir)
    """Absolute; a relative YAML value is taken from the current working directory."""


@dataclass(frozen=True, kw_only=True)
class ExperimentConfig:
    """A whole experiment: what to optimize, with which models, within which budget."""

    name: str
    """Used in the run directory's name."""
    seed: int = 0
    task: TaskSpec
    models: ModelsSpec
    budget: BudgetSpec = field(default_factory=BudgetSpec)
    search: SearchSpec = field(default_factory=SearchSpec)
    runtime: RuntimeSpec = field(default_factory=RuntimeSpec)
    output: OutputSpec = field(default_factory=OutputSpec)
