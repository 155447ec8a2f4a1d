"""Deciding, while a reply streams in, that the rest of it is not worth generating.

Three cuts, all for replies whose useful part is known to be over:
- **fence**: the reply opened a fenced block holding the instruction, closed it, and then
  went on for a while without opening another one. What follows is commentary that the
  instruction extraction throws away (it keeps the text between the first and the last
  fence), so the cut waits `FENCE_GRACE_CHARS` for a further fence before stopping. Only
  the first block counts: a reply with several blocks is left to run.
- **runaway**: the tail of the reply is one short unit repeated over and over (a line, a
  list item, a quoted label; units with no letter or digit, like a rule of dashes, do not
  count), the loop a small model falls into. The reply is trimmed to the text before the
  loop plus one copy of the unit.
- **long loop** (reflection replies): the tail is a cycle of whole sentences, up to
  `LONG_UNIT_CHARS[1]` characters, repeated `LONG_REPEATS` times ("If ..., billing. If ...,
  legal. If ..., billing. If ..., legal. ..."). Verbatim triples of a span that long never
  belong in an instruction; left alone, the loop runs to `max_tokens`, becomes the
  child's instruction, and every later reflection copies it back (seen in the quality
  benchmark). The reply keeps the text before the loop and one cycle, ending at a
  sentence boundary.
"""

from __future__ import annotations

import re

FENCE_GRACE_CHARS = 160
"""Characters after a closing fence to wait for another fence before cutting."""
FENCE_MIN_CHARS = 40
"""A shorter fenced block is an example output, not the instruction: no cut."""
RUNAWAY_REPEATS = 8
"""Consecutive copies of one unit that make a runaway."""
RUNAWAY_UNIT_CHARS = (2, 120)
"""The shortest and longest repeated unit looked for."""
RUNAWAY_MIN_CHARS = 64
"""The shortest run of copies that counts (8 copies of a 2-character unit do not)."""
LONG_UNIT_CHARS = (RUNAWAY_UNIT_CHARS[1] + 1, 600)
"""The shortest and longest cycle of sentences looked for in a long loop."""
LONG_REPEATS = 3
"""Consecutive copies of one long cycle that make a long loop."""
_CHECK_EVERY = 24
"""Characters between two runaway checks (each check looks at the tail only)."""

_FENCE_LINE = re.compile(r"^[ \t]*(```|~~~)", re.MULTILINE)


class ReplyCut:
    """Feed it the streamed text; it says when to stop and what text to keep."""

    def __init__(self, fence: bool = True, runaway: bool = True, long_loops: bool = False) -> None:
        self.fence = fence
        self.runaway = runaway
        self.long_loops = long_loops
        self.text = ""
        self.reason: str | None = None
        self._checked_at = 0

    def feed(self, delta: str) -> bool:
        """Add the next piece of the reply; True once the rest should not be generated."""
        if self.reason is not None:
            return True
        self.text += delta
        if self.fence and fence_is_over(self.text):
            self.reason = "fence"
        elif self.runaway and len(self.text) - self._checked_at >= _CHECK_EVERY:
            self._checked_at = len(self.text)
            start = runaway_start(self.text)
            if start is None and self.long_loops:
                start = long_loop_end(self.text)
            if start is not None:
                self.text = self.text[:start]
                self.reason = "runaway"
        return self.reason is not None


def fence_is_over(text: str) -> bool:
    """True when a fenced block holding the reply's instruction was opened and closed and
    `FENCE_GRACE_CHARS` more characters followed without another fence line.

    The block must be what `extract_instruction` would take from the text so far: at least
    `FENCE_MIN_CHARS` long and not dwarfed by the text around it (a small model sometimes
    fences only an example output and writes the instruction around it; that is not cut).
    """
    fences = list(_FENCE_LINE.finditer(text))
    if len(fences) != 2:
        return False
    opening, closing = fences
    line_end = text.find("\n", closing.end())
    if line_end < 0 or len(text) - line_end <= FENCE_GRACE_CHARS:
        return False
    start = text.find("\n", opening.start()) + 1
    block = text[start : closing.start()].strip()
    outside = (text[: opening.start()] + text[line_end:]).strip()
    return len(block) >= FENCE_MIN_CHARS and len(block) * 4 >= len(outside)


def runaway_start(text: str) -> int | None:
    """Where the runaway of `text` begins after its first copy, or None if the tail is not
    `RUNAWAY_REPEATS` copies of one unit."""
    shortest, longest = RUNAWAY_UNIT_CHARS
    for size in range(shortest, longest + 1):
        if size * RUNAWAY_REPEATS > len(text):
            return None
        unit = text[-size:]
        if not any(ch.isalnum() for ch in unit) or size * RUNAWAY_REPEATS < RUNAWAY_MIN_CHARS:
            continue  # rules of dashes, short stutters: not worth a cut
        copies = 1
        while copies < RUNAWAY_REPEATS and text.endswith(unit, 0, len(text) - copies * size):
            copies += 1
        if copies < RUNAWAY_REPEATS:
            continue
        start = len(text) - copies * size
        while start >= size and text[start - size : start] == unit:
            start -= size
        return start + size
    return None


_BOUNDARY = re.compile(r"[.!?;](?=\s)|\n")


def long_loop_end(text: str) -> int | None:
    """Where to end `text` when its tail is `LONG_REPEATS` copies of one cycle of sentences:
    after the text before the loop and one whole cycle, at a sentence boundary. None when
    the tail is no such loop (or the cycle holds no sentence boundary)."""
    shortest, longest = LONG_UNIT_CHARS
    for size in range(shortest, min(longest, len(text) // LONG_REPEATS) + 1):
        unit = text[-size:]
        if not all(text.endswith(unit, 0, len(text) - n * size) for n in range(1, LONG_REPEATS)):
            continue
        start = len(text) - LONG_REPEATS * size
        while start > 0 and text[start - 1] == text[start - 1 + size]:
            start -= 1  # back to where the text first becomes periodic
        boundary = _BOUNDARY.search(text, start, start + size)
        if boundary is None:
            return None
        return boundary.end() + size
    return None
