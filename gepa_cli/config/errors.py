"""ConfigError: the one exception the config package raises, with its location.

A message reads `origin: [key.path] detail`, where `origin` is the file (with a line
number when known) or `--set`, and `key.path` the dotted key that is wrong. Either
part may be absent. The message is always a single line.
"""

from __future__ import annotations

from gepa_cli.errors import BadInputError


class ConfigError(BadInputError):
    """The experiment config is unusable; `str(err)` says where and why in one line."""

    def __init__(self, detail: str, *, key: str | None = None, origin: str | None = None) -> None:
        self.detail = " ".join(detail.splitlines())
        self.key = key
        self.origin = origin
        super().__init__(self._render())

    def _render(self) -> str:
        located = f"[{self.key}] {self.detail}" if self.key else self.detail
        return f"{self.origin}: {located}" if self.origin else located

    def located(self, origin: str) -> ConfigError:
        """This error with `origin` in front, unless it already names one."""
        if self.origin or not origin:
            return self
        return ConfigError(self.detail, key=self.key, origin=origin)
