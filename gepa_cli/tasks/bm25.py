"""A small Okapi BM25 index over a handful of documents (one example's paragraphs).

Owns tokenization (lowercase runs of letters and digits) and ranking with the
usual parameters k1=1.5, b=0.75 and the non-negative idf ln(1 + (N - n + 0.5) / (n + 0.5)).
Ties keep the documents' original order, so rankings are deterministic.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Collection, Sequence

_TOKEN = re.compile(r"[^\W_]+")


def tokenize(text: str) -> list[str]:
    """Lowercased runs of letters and digits; punctuation and underscores separate tokens."""
    return _TOKEN.findall(text.lower())


class BM25Index:
    """Ranks `documents` against a query by BM25."""

    def __init__(self, documents: Sequence[str], k1: float = 1.5, b: float = 0.75) -> None:
        self.k1 = k1
        self.b = b
        self._counts = [Counter(tokenize(doc)) for doc in documents]
        self._lengths = [sum(counts.values()) for counts in self._counts]
        self._mean_length = (sum(self._lengths) / len(self._lengths)) if self._lengths else 0.0
        document_frequency: Counter[str] = Counter()
        for counts in self._counts:
            document_frequency.update(counts.keys())
        total = len(self._counts)
        self._idf = {
            term: math.log(1 + (total - n + 0.5) / (n + 0.5))
            for term, n in document_frequency.items()
        }

    def __len__(self) -> int:
        return len(self._counts)

    def scores(self, query: str) -> list[float]:
        """The BM25 score of every document for `query`, in document order."""
        terms = tokenize(query)
        return [self._score(index, terms) for index in range(len(self._counts))]

    def top_k(self, query: str, k: int, exclude: Collection[int] = ()) -> list[int]:
        """Indices of the `k` best documents not in `exclude`, best first (ties by position)."""
        scores = self.scores(query)
        candidates = [index for index in range(len(scores)) if index not in exclude]
        candidates.sort(key=lambda index: (-scores[index], index))
        return candidates[:k]

    def _score(self, index: int, terms: Sequence[str]) -> float:
        counts = self._counts[index]
        relative_length = self._lengths[index] / self._mean_length if self._mean_length else 1.0
        norm = 1 - self.b + self.b * relative_length
        total = 0.0
        for term in terms:
            frequency = counts.get(term, 0)
            if frequency:
                total += self._idf[term] * frequency * (self.k1 + 1) / (frequency + self.k1 * norm)
        return total
