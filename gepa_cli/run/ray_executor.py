"""The Ray executor (`runtime.executor: ray`): example rollouts as Ray tasks.

`RayEvaluator` has the interface of `ConcurrentEvaluator` (it is one): the engine,
budget, checkpoint and response cache stay in this process; only each example's `run`
+ `score` runs on Ray (`ray_remote.run_rollout`). LM calls made inside a rollout come
back here through the `LMRelay` actor and are answered on this evaluator's thread pool
by the run's own model stack, so cache hits, sample indexes, budgets and spend are
exactly those of the thread executor, and no API key or URL leaves this process.

A worker that dies is retried by Ray (`runtime.max_retries` times, like a failed
request); a rollout that still fails is a score-0 rollout with the error, as with
threads. `ray` is imported only when this executor is used (`gepa-cli[ray]`).
"""

from __future__ import annotations

import logging
import pickle
import sys
import threading
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType
from typing import Any

from gepa_cli.config import ConfigError
from gepa_cli.config.schema import RaySpec
from gepa_cli.engine.types import Example, Prompts, Rollout
from gepa_cli.errors import RuntimeFailure
from gepa_cli.lm.base import LM, Message
from gepa_cli.run.evaluator import ConcurrentEvaluator, describe_error, failed_rollout
from gepa_cli.run.ray_remote import LMRelay, Outcome, run_rollout
from gepa_cli.tasks.base import Task, TaskConfigError
from gepa_cli.tasks.registry import USER_MODULE_PREFIX

POLL_S = 0.2
"""How long the driver's relay thread waits for requests before looking again."""


class RayUnavailable(RuntimeFailure):
    """Ray could not be started or reached at `runtime.ray.address`."""


def import_ray() -> ModuleType:
    """The `ray` module, or a one-line error naming the extra that installs it."""
    try:
        import ray
    except ImportError:
        raise ConfigError(
            "ray needs the optional extra: pip install 'gepa-cli[ray]'", key="runtime.executor"
        ) from None
    return ray


def pickled_task(task: Task) -> bytes:
    """The task as bytes a Ray worker can load; a `python:` file's classes go by value,
    since no worker can import the module the file was loaded as."""
    from ray import cloudpickle

    module = sys.modules.get(type(task).__module__)
    if module is not None and module.__name__.startswith(USER_MODULE_PREFIX):
        cloudpickle.register_pickle_by_value(module)
    try:
        return bytes(cloudpickle.dumps(task))
    except Exception as exc:
        raise TaskConfigError(
            f"[runtime.executor] the task cannot be sent to Ray workers ({describe_error(exc)})"
        ) from exc


def check_ray_ready(task: Task) -> None:
    """Before a run starts: Ray is installed and the task can be pickled for its workers."""
    import_ray()
    pickle.loads(pickled_task(task))


class RaySession:
    """A connection to Ray: an existing one is reused (and left alone), else `ray.init`
    at the address (and `ray.shutdown` at `close`)."""

    def __init__(self, spec: RaySpec) -> None:
        self.ray = import_ray()
        self.owned = False
        if self.ray.is_initialized():
            return
        options: dict[str, Any] = {"address": spec.address, "logging_level": logging.WARNING}
        if spec.address == "local":
            options.update(include_dashboard=False, _node_ip_address="127.0.0.1")
        try:
            self.ray.init(**options)
        except Exception as exc:
            hint = " (or set runtime.ray.address: local)" if spec.address == "auto" else ""
            raise RayUnavailable(
                f"[runtime.ray.address] cannot start or reach Ray at {spec.address}{hint}: "
                f"{describe_error(exc)}"
            ) from exc
        self.owned = True

    def close(self) -> None:
        if self.owned:
            self.ray.shutdown()
            self.owned = False


class RayEvaluator(ConcurrentEvaluator):
    """Rollouts on Ray; the thread pool of `max_workers` answers their LM calls here."""

    def __init__(self, task: Task, lm: LM, max_workers: int, spec: RaySpec, retries: int) -> None:
        super().__init__(task, lm, max_workers)
        self._session = RaySession(spec)
        ray = self._session.ray
        try:
            self._token = uuid.uuid4().hex
            self._holder = [ray.put(pickled_task(task))]
            relay_class = ray.remote(num_cpus=0, max_restarts=3)(LMRelay)
            self._relay = relay_class.remote()
            self._rollout = ray.remote(run_rollout).options(
                num_cpus=spec.num_cpus_per_rollout, max_retries=retries, retry_exceptions=False
            )
        except BaseException:
            self._session.close()
            raise
        self._in_flight: set[Any] = set()
        self._pump = _RelayPump(ray, self._relay, lm, self._pool)

    def evaluate(self, prompts: Prompts, examples: Sequence[Example]) -> list[Rollout]:
        """Every example as a Ray task; the result is in the order of `examples`."""
        name = getattr(self.lm, "name", "lm")
        refs = [
            self._rollout.remote(self._token, self._holder, self._relay, name, prompts, example)
            for example in examples
        ]
        with self._lock:
            self._in_flight.update(refs)
        try:
            pairs = zip(refs, examples, strict=True)
            return [self._counted(self._result(ref, ex)) for ref, ex in pairs]
        finally:
            with self._lock:
                self._in_flight.difference_update(refs)

    def _result(self, ref: Any, example: Example) -> Rollout:
        ray = self._session.ray
        try:
            rollout = ray.get(ref)
        except ray.exceptions.RayTaskError as exc:
            cause = exc.cause if isinstance(exc.cause, BaseException) else exc
            return failed_rollout(example, f"the Ray rollout failed: {describe_error(cause)}")
        except ray.exceptions.RayError as exc:
            return failed_rollout(example, f"the Ray worker failed: {describe_error(exc)}")
        if not isinstance(rollout, Rollout):
            return failed_rollout(example, f"the Ray rollout returned {type(rollout).__name__}")
        return rollout

    def close(self) -> None:
        """Stop the relay, cancel rollouts still running, then the pool and the session."""
        ray = self._session.ray
        self._pump.close()
        with self._lock:
            pending, self._in_flight = list(self._in_flight), set()
        for ref in pending:
            _quietly(ray.cancel, ref)
        _quietly(ray.kill, self._relay)
        super().close()
        self._session.close()


class _RelayPump:
    """A driver thread that takes the relay's requests and answers each one on the pool."""

    def __init__(self, ray: ModuleType, relay: Any, lm: LM, pool: ThreadPoolExecutor) -> None:
        self._ray, self._relay, self._lm, self._pool = ray, relay, lm, pool
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gepa-ray-relay", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                batch = self._ray.get(self._relay.take.remote(POLL_S))
            except Exception:  # the relay restarting, or Ray going down at the end
                self._stop.wait(POLL_S)
                continue
            for ticket, messages in batch:
                try:
                    self._pool.submit(self._serve, ticket, messages)
                except RuntimeError:  # the pool is shut down: the run is ending
                    return

    def _serve(self, ticket: int, messages: list[Message]) -> None:
        outcome: Outcome
        try:
            outcome = ("ok", self._lm.complete(messages), "")
        except Exception as exc:
            outcome = ("error", type(exc).__name__, str(exc))
        _quietly(self._relay.answer.remote, ticket, outcome)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5 * POLL_S + 5)


def _quietly(call: Any, *args: Any) -> None:
    try:
        call(*args)
    except Exception:
        logging.getLogger(__name__).debug("ignored during Ray cleanup", exc_info=True)
