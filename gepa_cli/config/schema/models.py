"""The `models:` section's values and key declarations: the task and reflection models,
their endpoints, sampling parameters and prices."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from gepa_cli.config.declaration import YamlRequired, also_accepts

PROVIDERS = ("openai", "embedded")
REFLECTION_TEMPERATURE = 1.0
"""Temperature of the reflection model when `models.reflection` is omitted."""
ENV_NAME = r"[A-Za-z_][A-Za-z0-9_]*"


@dataclass(frozen=True)
class Price:
    """What a model's tokens cost, in US dollars per million tokens."""

    input_per_mtok: Annotated[float, Field(ge=0, description="US$ per million prompt tokens.")]
    output_per_mtok: Annotated[float, Field(ge=0, description="US$ per million completion tokens.")]

    def cost_usd(self, input_tokens: int, output_tokens: int) -> float:
        """The dollars `input_tokens` prompt and `output_tokens` completion tokens cost."""
        return (input_tokens * self.input_per_mtok + output_tokens * self.output_per_mtok) / 1e6


FREE = Price(0.0, 0.0)
"""The price of an embedded model that has no `price` of its own."""

_URL = r"^\s*https?://"


@dataclass(frozen=True)
class ModelSpec:
    """One model endpoint and its sampling parameters."""

    model: Annotated[
        str,
        Field(
            pattern=rf"^\s*({'|'.join(PROVIDERS)})/.*\S",
            description="provider/name: openai/<name> (any OpenAI-compatible server at "
            "base_url) or embedded/<name> (a bundled model).",
        ),
    ]
    base_url: Annotated[
        str | None,
        Field(
            pattern=_URL,
            description="The server's URL, or a list of replica URLs of one model "
            "(requests go to the least busy); not for embedded models.",
            json_schema_extra=also_accepts(
                {"type": "array", "minItems": 1, "items": {"type": "string", "pattern": _URL}}
            ),
        ),
    ] = None
    api_key_env: Annotated[
        str | None,
        Field(
            pattern=f"^{ENV_NAME}$",
            description="Name of the environment variable holding the API key (never the key).",
        ),
    ] = None
    temperature: Annotated[float, Field(ge=0, description="Sampling temperature.")] = 0.0
    max_tokens: Annotated[
        int | None, Field(ge=1, description="Completion token limit; null: the server's.")
    ] = None
    top_p: Annotated[
        float | None, Field(ge=0, le=1, description="Nucleus sampling; null: the server's.")
    ] = None
    seed: Annotated[int | None, Field(description="Sampling seed sent to the API.")] = None
    extra: Annotated[
        Mapping[str, Any], Field(description="Passed to the API as extra body fields, as-is.")
    ] = field(default_factory=dict)
    stream_cut: Annotated[
        bool | None,
        Field(
            description="Stream each reply and stop it once the rest is waste: in a runaway "
            "repetition (trimmed to one copy) and, for the reflection, in a loop of whole "
            "sentences repeated 3 times (kept as one cycle) and after the closing fence of the "
            "new instruction. null: on for embedded models, off for others (a hosted "
            "API bills what it generated before the cut, and counts a cut reply's prompt "
            "tokens only if it reports them while streaming).",
        ),
    ] = None
    price: Annotated[
        Price | None,
        Field(
            description="US$ per million tokens, for cost_usd and max_cost_usd; without it the "
            "cost is not tracked (embedded models cost 0)."
        ),
    ] = None
    replicas: Annotated[
        SkipJsonSchema[tuple[str, ...]],
        Field(description="Every URL when base_url is a list; base_url is then the first."),
    ] = ()

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

    task: Annotated[ModelSpec, Field(description="The model that runs the task's modules.")]
    reflection: Annotated[
        ModelSpec,
        Field(
            description="The model that rewrites instructions; defaults to the task model "
            f"at temperature {REFLECTION_TEMPERATURE}."
        ),
        YamlRequired(False),
    ]

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
