"""The Ray side of the Ray executor: what runs in Ray's processes, never in the driver.

`run_rollout` is the Ray task: one example's `run` + `score` (`evaluate_example`, the
same function the thread pool runs). The task object arrives pickled once per run and
is kept per worker process. Its LM is a `RelayLM`: every `complete` goes through the
`LMRelay` actor back to the driver, which answers it with the run's own model stack
(response cache, sample counters, fail-fast guard, usage meter, spend ledger, per-
endpoint concurrency). So no model client, URL or API key is ever sent to Ray, and a
rollout asks exactly the requests it would ask in a thread.

`ray` is imported only inside functions: this module loads without the extra.
"""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import Sequence
from typing import Any

from gepa_cli.engine.types import Example, Prompts, Rollout
from gepa_cli.lm.base import Completion, LMError, Message
from gepa_cli.run.evaluator import evaluate_example
from gepa_cli.tasks.base import Task

Outcome = tuple[str, Any, str]
"""("ok", Completion, "") or ("error", exception type name, message)."""

_TASKS: dict[str, Task] = {}
"""Tasks unpickled in this worker process, by the driver's token for them."""


class LMRelay:
    """An async Ray actor between rollouts (callers of `complete`) and the driver (which
    polls `take` and replies with `answer`). Holds requests, never models or keys."""

    def __init__(self) -> None:
        self._pending: asyncio.Queue[tuple[int, list[Message]]] = asyncio.Queue()
        self._waiting: dict[int, asyncio.Future[Outcome]] = {}
        self._next = 0

    async def complete(self, messages: list[Message]) -> Outcome:
        ticket, self._next = self._next, self._next + 1
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._waiting[ticket] = future
        await self._pending.put((ticket, messages))
        return await future

    async def take(self, wait_s: float) -> list[tuple[int, list[Message]]]:
        """The requests waiting for the driver (after up to `wait_s` for the first)."""
        try:
            first = await asyncio.wait_for(self._pending.get(), timeout=wait_s)
        except TimeoutError:
            return []
        batch = [first]
        while not self._pending.empty():
            batch.append(self._pending.get_nowait())
        return batch

    async def answer(self, ticket: int, outcome: Outcome) -> None:
        future = self._waiting.pop(ticket, None)
        if future is not None and not future.done():
            future.set_result(outcome)


class RelayLM:
    """The LM a rollout sees on a Ray worker: it asks the driver through the relay."""

    def __init__(self, name: str, relay: Any) -> None:
        self.name = name
        self._relay = relay

    def complete(self, messages: Sequence[Message]) -> Completion:
        import ray

        kind, value, message = ray.get(self._relay.complete.remote([dict(m) for m in messages]))
        if kind == "ok":
            return value
        raise _relayed_error(str(value), message)


def _relayed_error(type_name: str, message: str) -> Exception:
    """The driver's exception again, with its type name (the feedback names it)."""
    if type_name == "LMError":
        return LMError(message)
    return type(type_name, (RuntimeError,), {})(message)


def run_rollout(
    token: str, holder: list[Any], relay: Any, lm_name: str, prompts: Prompts, example: Example
) -> Rollout:
    """The Ray task: one example with the run's task; `holder[0]` is the pickled task's
    object reference (in a list, so Ray passes the reference rather than the bytes)."""
    task = _TASKS.get(token)
    if task is None:
        import ray

        task = pickle.loads(ray.get(holder[0]))
        _TASKS[token] = task
    return evaluate_example(task, RelayLM(lm_name, relay), prompts, example)
