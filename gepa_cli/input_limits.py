"""Bounds on what gepa reads, so hostile or mistaken input fails fast instead of
exhausting memory.

- Files: `read_regular_file` reads only regular files (not `/dev/zero`, a FIFO or a
  socket) and at most a limit: data splits `MAX_DATA_BYTES` (256 MiB), configs, prompt
  and template files `MAX_TEXT_BYTES` (16 MiB). A refusal is an `InputRefused`
  (an `OSError`, so callers that report unreadable files report it the same way).
- YAML: `BoundedSafeLoader` is PyYAML's SafeLoader that refuses a document whose
  aliases would expand past `MAX_YAML_NODES` nodes (a "billion laughs" alias bomb
  parses small but expands exponentially in everything that walks it), and
  recursive aliases. The refusal is a `yaml.constructor.ConstructorError` with the
  position, so YAML error handling reports it as malformed YAML.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Any

import yaml

MIB = 1 << 20
MAX_DATA_BYTES = 256 * MIB
MAX_TEXT_BYTES = 16 * MIB
MAX_YAML_NODES = 100_000
"""Nodes of a YAML document with every alias expanded; a scalar of n characters counts
1 + n // 1000."""


class InputRefused(OSError):
    """A file gepa will not read: not a regular file, or larger than the limit."""


def read_regular_file(path: Path, limit: int) -> bytes:
    """The bytes of `path`; InputRefused if it is not a regular file or exceeds `limit`.

    FileNotFoundError, IsADirectoryError and PermissionError come through unchanged.
    """
    info = os.stat(path)
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(errno.EISDIR, "Is a directory", str(path))
    if not stat.S_ISREG(info.st_mode):
        raise InputRefused(errno.EINVAL, f"not a regular file ({_kind(info.st_mode)})")
    with open(path, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise InputRefused(errno.EFBIG, f"larger than the limit of {limit // MIB} MiB")
    return data


def _kind(mode: int) -> str:
    kinds = {
        stat.S_ISCHR: "a character device",
        stat.S_ISBLK: "a block device",
        stat.S_ISFIFO: "a named pipe",
        stat.S_ISSOCK: "a socket",
    }
    return next((name for test, name in kinds.items() if test(mode)), "a special file")


class BoundedSafeLoader(yaml.SafeLoader):
    """SafeLoader that refuses documents whose aliases expand past MAX_YAML_NODES."""

    def construct_document(self, node: yaml.Node) -> Any:
        check_expansion(node)
        return super().construct_document(node)


def load_yaml(text: str) -> Any:
    """`yaml.safe_load` with alias expansion bounded."""
    return yaml.load(text, Loader=BoundedSafeLoader)  # noqa: S506 - a SafeLoader subclass


def check_expansion(root: yaml.Node, limit: int = MAX_YAML_NODES) -> None:
    """Raise ConstructorError if `root` expands past `limit` nodes or aliases itself."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise _refusal(node, "an alias refers to a node that contains it")
        if isinstance(node, yaml.ScalarNode):
            total = 1 + len(str(node.value)) // 1000
        else:
            active.add(key)
            children = (
                [part for pair in node.value for part in pair]
                if isinstance(node, yaml.MappingNode)
                else list(node.value)
            )
            total = 1
            for child in children:
                total += size(child)
                if total > limit:
                    raise _refusal(node, f"aliases expand to more than {limit} nodes")
            active.discard(key)
        sizes[key] = total
        return total

    size(root)


def _refusal(node: yaml.Node, problem: str) -> yaml.constructor.ConstructorError:
    return yaml.constructor.ConstructorError(None, None, problem, node.start_mark)
