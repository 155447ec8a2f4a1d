"""How the engine asks for work to run side by side, without running threads itself.

The engine is pure: the runner hands it a `MapFn` (for example one backed by a thread
pool) and the engine calls it wherever independent work may overlap (the parents'
minibatches, reflections, children's minibatches, val scoring of accepted children).
Results always come back in input order, so a run is reproducible whatever the map does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class MapFn(Protocol):
    """`fn` applied to every item; the results in the items' order."""

    def __call__(self, fn: Callable[[Any], R], items: Sequence[Any], /) -> list[R]: ...


def serial_map(fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """The default `MapFn`: one item after another, in this thread."""
    return [fn(item) for item in items]
