"""Replicas of one model behind several URLs (e.g. several vLLM servers): each request
goes to the replica with the fewest requests in flight (ties: the first)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from gepa_cli.lm.base import Completion, Message
from gepa_cli.lm.endpoint import replicas_key
from gepa_cli.lm.openai_client import OpenAIChatLM


class ReplicaLM:
    """An LM over several `OpenAIChatLM`s that differ only in base_url.

    Each replica keeps its own concurrency limit (`runtime.max_concurrency` per
    endpoint) and retries; the cache identity is the model's with the set of the
    replicas' endpoints (or their common `cache_endpoint`), not one replica's.
    """

    def __init__(self, replicas: Sequence[OpenAIChatLM]) -> None:
        if not replicas:
            raise ValueError("ReplicaLM needs at least one replica")
        self.replicas = list(replicas)
        self.name = replicas[0].name
        self.role = replicas[0].role
        self.served = [0] * len(self.replicas)
        self._busy = [0] * len(self.replicas)
        self._lock = threading.Lock()

    def cache_identity(self) -> dict[str, Any]:
        endpoint = replicas_key([replica.cache_endpoint for replica in self.replicas])
        return {**self.replicas[0].cache_identity(), "endpoint": endpoint}

    def with_temperature(self, temperature: float) -> ReplicaLM:
        """The same replicas sampling at `temperature`."""
        return ReplicaLM([replica.with_temperature(temperature) for replica in self.replicas])

    def complete(self, messages: Sequence[Message]) -> Completion:
        with self._lock:
            index = min(range(len(self.replicas)), key=lambda i: (self._busy[i], i))
            self._busy[index] += 1
            self.served[index] += 1
        try:
            return self.replicas[index].complete(messages)
        finally:
            with self._lock:
                self._busy[index] -= 1
